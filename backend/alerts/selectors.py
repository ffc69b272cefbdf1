"""Reads of the alerts: which subscriptions a request's point matches (one indexed statement),
a resident's subscriptions, the city's boundary, and the public requests a feed shows."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from django.conf import settings
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon, Point, Polygon
from django.db import connection
from django.db.models import Q, QuerySet

from backend.alerts.models import AlertSubscription
from backend.service_requests.models import Channel, ServiceRequest
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


def alert_subscription_ids_matching(
    *, point: Point | None, service_type_id: int, kind: str
) -> list[int]:
    """The confirmed subscriptions that want to hear of this ``kind`` (``NEW`` or ``UPDATE``)
    of a request of this service at ``point``: circles containing the point, areas containing
    it, and the city-wide subscriptions of its service; each narrowed by its service type if
    it names one. One statement, three indexed parts (alert_region, alert_area through the
    areas' own spatial index, alert_citywide)."""
    wanted = (
        AlertSubscription.objects.filter(confirmed_at__isnull=False)
        .filter(**({"notify_new": True} if kind == NEW else {"notify_updates": True}))
        .order_by()
    )
    of_service = Q(service_type__isnull=True) | Q(service_type_id=service_type_id)
    citywide = wanted.filter(
        region__isnull=True, area__isnull=True, service_type_id=service_type_id
    ).values_list("id", flat=True)
    if point is None:  # a request with an address only: no place to match
        return list(citywide)
    near = wanted.filter(of_service, region__intersects=point).values_list("id", flat=True)
    in_area = wanted.filter(
        of_service, area__in=Area.objects.filter(geometry__covers=point)
    ).values_list("id", flat=True)
    # Thousands of ids may match: read them with the cursor, without a model row each.
    sql, params = near.union(in_area, citywide, all=True).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


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
