"""Reads of the alerts: which subscriptions a request's point matches (one indexed statement),
a resident's subscriptions, the city's boundary, and the public requests a feed shows."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point, Polygon
from django.db import connection
from django.db.models import QuerySet

from backend.alerts.models import AlertSubscription
from backend.service_requests.models import (
    Channel,
    EventKind,
    ServiceRequest,
    ServiceRequestEvent,
    visible_sql,
)
from workorders.models import Area

NEW = "new"
UPDATE = "update"


def circle_make(*, point: Point, radius_m: int) -> MultiPolygon:
    """The circle of ``radius_m`` metres around ``point`` as a lon/lat polygon (PostGIS
    buffers the point as geography, so the radius is true metres at any latitude)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT ST_AsBinary(ST_Multi(ST_Buffer("
            "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s, 'quad_segs=8')::geometry))",
            [point.x, point.y, radius_m],
        )
        (wkb,) = cursor.fetchone()
    geometry = GEOSGeometry(memoryview(bytes(wkb)), srid=4326)
    assert isinstance(geometry, MultiPolygon)
    return geometry


# The match, in one statement of three indexed parts: circles containing the point
# (alert_region), subscriptions of the areas covering it (the areas' own spatial index, then
# alert_area) and the city-wide ones of its service (alert_citywide); each narrowed by its
# service type if it names one, and by what it wants to hear (new requests, updates). ``r`` is
# the one row that says where, what and which kind: given (``alert_subscription_ids_matching``)
# or read from an event in the same statement (``alert_subscription_ids_for_event``). Plain
# SQL: building it with the ORM on every event cost more CPU than running it (the load test's
# Celery profile, issue 18).
_SUB = AlertSubscription._meta.db_table
_WANTS = "(CASE WHEN r.is_new THEN s.notify_new ELSE s.notify_updates END)"
_OF_SERVICE = "(s.service_type_id IS NULL OR s.service_type_id = r.service_type_id)"
_MATCH_SQL = f"""
WITH r AS MATERIALIZED ({{source}})
SELECT s.id FROM r JOIN {_SUB} s ON ST_Intersects(s.region, r.location)
WHERE s.confirmed_at IS NOT NULL AND {_WANTS} AND {_OF_SERVICE}
UNION ALL
SELECT s.id FROM r
JOIN {Area._meta.db_table} a ON ST_Covers(a.geometry, r.location)
JOIN {_SUB} s ON s.area_id = a.id
WHERE s.confirmed_at IS NOT NULL AND s.area_id IS NOT NULL AND {_WANTS} AND {_OF_SERVICE}
UNION ALL
SELECT s.id FROM r JOIN {_SUB} s ON s.service_type_id = r.service_type_id
WHERE s.confirmed_at IS NOT NULL AND s.region IS NULL AND s.area_id IS NULL AND {_WANTS}
"""  # noqa: S608 - only table names are interpolated
_GIVEN = (
    "SELECT ST_SetSRID(ST_GeomFromWKB(%(point)s), 4326) AS location, "
    "%(service_type_id)s::integer AS service_type_id, %(is_new)s AS is_new"
)
_OF_EVENT = (
    "SELECT sr.location, sr.service_type_id, e.kind = %(created)s AS is_new "  # noqa: S608 - only table names are interpolated
    f"FROM {ServiceRequestEvent._meta.db_table} e "
    f"JOIN {ServiceRequest._meta.db_table} sr ON sr.id = e.service_request_id "
    f"WHERE e.id = %(event_id)s AND {visible_sql('sr')} AND sr.channel <> %(imported)s"
)

# The two statements, built once.
_MATCH_GIVEN_SQL = _MATCH_SQL.format(source=_GIVEN)
_MATCH_EVENT_SQL = _MATCH_SQL.format(source=_OF_EVENT)


def _ids(sql: str, params: dict[str, Any]) -> list[int]:
    # Thousands of ids may match: read them with the cursor, without a model row each.
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def alert_subscription_ids_matching(
    *, point: Point | None, service_type_id: int, kind: str
) -> list[int]:
    """The confirmed subscriptions that want to hear of this ``kind`` (``NEW`` or ``UPDATE``)
    of a request of this service at ``point`` (an address only: the city-wide ones)."""
    return _ids(
        _MATCH_GIVEN_SQL,
        {
            "point": None if point is None else bytes(point.wkb),
            "service_type_id": service_type_id,
            "is_new": kind == NEW,
        },
    )


def alert_subscription_ids_for_event(*, event_id: int) -> list[int]:
    """The same match for the request of this event (a new request for its creation, an
    update otherwise), read in the same statement; none if the request is hidden, imported
    history, or gone."""
    return _ids(
        _MATCH_EVENT_SQL,
        {"event_id": event_id, "created": EventKind.CREATED, "imported": Channel.IMPORT},
    )


def alert_subscriptions_of_user(*, user_id: int) -> QuerySet[AlertSubscription]:
    return AlertSubscription.objects.filter(user_id=user_id).select_related("area", "service_type")


def alert_subscription_of_user(*, user_id: int, subscription_id: int) -> AlertSubscription | None:
    """The resident's own subscription, or None (another's is as missing as none)."""
    return alert_subscriptions_of_user(user_id=user_id).filter(pk=subscription_id).first()


def area_choices() -> list[tuple[str, str]]:
    """Every area as (slug, name), for a form's choice."""
    return list(Area.objects.order_by("kind", "name").values_list("slug", "name"))


def area_by_slug(*, slug: str) -> Area | None:
    return Area.objects.filter(slug=slug).first()


@lru_cache(maxsize=4)
def _boundary_configured(value: str) -> GEOSGeometry:
    """``CITY_BOUNDARY`` read: a GeoJSON file (geometry, Feature or FeatureCollection) or WKT."""
    path = Path(value)
    if value.lstrip().startswith(("POLYGON", "MULTIPOLYGON", "SRID=")) or not path.is_file():
        return GEOSGeometry(value, srid=4326)
    data = json.loads(path.read_text(encoding="utf-8"))
    features = data.get("features") if data.get("type") == "FeatureCollection" else [data]
    geometries = [
        GEOSGeometry(json.dumps(f.get("geometry", f) if f.get("type") == "Feature" else f))
        for f in features
    ]
    boundary = geometries[0]
    for geometry in geometries[1:]:
        boundary = boundary.union(geometry)
    boundary.srid = 4326
    return boundary


def point_in_city(*, point: Point) -> bool:
    """Is ``point`` inside ``CITY_BOUNDARY``, or, when none is set, inside one of the areas
    (their union; any point while there are none)?"""
    if settings.CITY_BOUNDARY:
        boundary = _boundary_configured(settings.CITY_BOUNDARY)
        return isinstance(boundary, Polygon | MultiPolygon) and boundary.covers(point)
    areas = Area.objects.all()
    return not areas.exists() or areas.filter(geometry__covers=point).exists()


def feed_requests(
    *,
    circle: MultiPolygon | None = None,
    area: Area | None = None,
    service_type_id: int | None = None,
    limit: int,
) -> list[ServiceRequest]:
    """The newest public requests (``visible()``, live: not an old system's imported
    history) in a circle, an area and/or of a service; only the public fields loaded."""
    requests = ServiceRequest.objects.visible().exclude(channel=Channel.IMPORT)
    if circle is not None:
        requests = requests.filter(location__intersects=circle)
    if area is not None:
        requests = requests.filter(location__intersects=area.geometry)
    if service_type_id is not None:
        requests = requests.filter(service_type_id=service_type_id)
    return list(
        requests.select_related("service_type")
        .only(
            "public_id",
            "service_type__name",
            "service_type__name_i18n",
            "service_type__sensitive_location",
            "address",
            "description",
            "status",
            "close_reason",
            "requested_at",
            "updated_at",
        )
        .order_by("-requested_at", "-id")[:limit]
    )
