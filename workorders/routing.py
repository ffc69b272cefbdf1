"""Routing: which department (and team) gets a request's work.

Rules are data (``RoutingRule``, edited in the admin). Active rules are tried in order; the
first whose service (empty: any) and area (empty: anywhere) match the request wins. A rule
with an area matches when the request's point falls inside (or on the edge of) the area's
polygon; a request with no point only matches rules without an area. When no rule matches,
the service's own department gets the work, unassigned (the fallback)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.geos import Point

from backend.catalog.models import Department, ServiceType
from backend.process_cache import ProcessCache
from workorders.models import RoutingRule, Team


@dataclass(frozen=True)
class Route:
    department: Department
    team: Team | None = None
    assign_automatically: bool = False
    rule: RoutingRule | None = None


_rules: ProcessCache[list[RoutingRule]] = ProcessCache("workorders.routing")


def _rules_load() -> list[RoutingRule]:
    rules = list(
        RoutingRule.objects.filter(active=True)
        .select_related("department", "team", "area")
        .order_by("order", "id")
    )
    for rule in rules:
        if rule.area is not None:
            rule.area.geometry.prepared  # noqa: B018 - built once, while cached
    return rules


def route_find(*, service_type: ServiceType, location: Point | None) -> Route:
    """The route for a request of ``service_type`` at ``location``. The active rules are read
    once per process and cache period (``backend.process_cache``) and matched here, with
    prepared geometries, instead of a spatial query per request."""
    for rule in _rules.get("active", _rules_load):
        if rule.service_type_id not in (None, service_type.pk):
            continue
        if rule.area is not None and (
            location is None or not rule.area.geometry.prepared.intersects(location)
        ):
            continue
        team = rule.team if rule.team is not None and rule.team.active else None
        return Route(
            department=rule.department,
            team=team,
            assign_automatically=rule.assign_automatically,
            rule=rule,
        )
    return Route(department=service_type.department)
