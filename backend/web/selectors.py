"""Public reads for the web pages: open requests near a point (offered as duplicates)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.db.models import QuerySet
from django.utils import timezone

from backend.service_requests.models import OPEN_STATUSES, ServiceRequest


def service_requests_open_nearby(
    *, service_code: str, lat: float, long: float, limit: int = 5
) -> QuerySet[ServiceRequest]:
    """Open requests of the service within the duplicate radius and window, nearest first.
    Only public fields are loaded: never the reporter's contact data."""
    point = Point(long, lat, srid=4326)
    since = timezone.now() - timedelta(days=settings.DUPLICATE_WINDOW_DAYS)
    return (
        ServiceRequest.objects.filter(
            service_type__service_code=service_code,
            status__in=OPEN_STATUSES,
            requested_at__gte=since,
            location__distance_lte=(point, D(m=settings.DUPLICATE_RADIUS_M)),
        )
        .only("public_id", "status", "requested_at", "address", "description")
        .order_by("-requested_at")[:limit]
    )
