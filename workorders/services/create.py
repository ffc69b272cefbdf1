"""A request's work order: routed to a department (and team) by the routing rules, due after
the service's turnaround. ``work_order_create`` is the intake's entry point;
``do_work_order_create`` is for the use cases (``backend.cases``) that give a request a new
order under their own locks (reopening, re-routing)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from backend.service_requests.models import ServiceRequest
from workorders.models import WorkOrder, WorkOrderEventKind
from workorders.routing import route_find
from workorders.selectors import business_calendar_get, team_least_loaded
from workorders.services.assign import do_work_order_assign
from workorders.services.machine import User, _event, _expected_at_sync
from workorders.sla import duration_add


def do_work_order_create(
    *,
    service_request: ServiceRequest,
    at: datetime,
    sla_start: datetime,
    actor: User,
    data: dict[str, Any] | None = None,
) -> WorkOrder:
    """Creates, routes and (when the route says so) assigns a new work order, its SLA
    counted from ``sla_start``; ``data`` is added to its creation event. The caller holds
    the request's lock (``workorders.locks.request_lock``, or has just created the request
    in its transaction) and the request is open with no open work order; otherwise use
    ``work_order_create`` (intake) or ``backend.cases`` (reopen, change of service)."""
    service_type = service_request.service_type
    route = route_find(service_type=service_type, location=service_request.location)
    calendar = business_calendar_get(department=route.department)
    turnaround = timedelta(hours=service_type.turnaround_hours)
    business = service_type.turnaround_business_hours
    due_at = duration_add(
        start=sla_start, duration=turnaround, business_hours=business, calendar=calendar
    )
    escalate_again_at = duration_add(
        start=sla_start, duration=2 * turnaround, business_hours=business, calendar=calendar
    )
    work_order = WorkOrder.objects.create(
        service_request=service_request,
        department=route.department,
        routing_rule=route.rule,
        turnaround_hours=service_type.turnaround_hours,
        turnaround_business_hours=business,
        due_at=due_at,
        escalate_again_at=escalate_again_at,
        created_at=at,
        updated_at=at,
    )
    _event(
        work_order=work_order,
        kind=WorkOrderEventKind.CREATED,
        at=at,
        actor=actor,
        to_status=work_order.status,
        data={
            "department": route.department.code,
            "routing_rule": route.rule.pk if route.rule else None,
            "service_code": service_type.service_code,
            **(data or {}),
        },
    )
    _expected_at_sync(service_request, due_at)
    team = route.team
    if team is None and route.assign_automatically:
        team = team_least_loaded(department_id=route.department.pk)
    if team is not None:
        rule_name = route.rule.name if route.rule else ""
        do_work_order_assign(
            service_request=service_request,
            work_order=work_order,
            team=team,
            assignee=None,
            actor=actor,
            note=f"Assigned by the routing rule “{rule_name}”.",
            public_note="",
            at=at,
        )
    return work_order


def work_order_create(
    *,
    service_request: ServiceRequest,
    at: datetime,
    sla_start: datetime | None = None,
    actor: User = None,
) -> WorkOrder:
    """The work order for a request, routed to a department (and team) by the routing
    rules, due after the service's turnaround counted from ``sla_start`` (the request's
    submission by default). Called by the intake pipeline inside its transaction, for the
    request it has just created.

    A request filed with an earlier ``requested_at`` (an import, the demo) gets its work
    order, and its routing, stamped at that time too, so its history stays in order."""
    requested = service_request.requested_at
    return do_work_order_create(
        service_request=service_request,
        at=min(at, requested) if requested is not None else at,
        sla_start=sla_start or requested,
        actor=actor,
    )
