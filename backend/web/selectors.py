"""Public reads for the web pages: open requests near a point (offered as duplicates)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db.models import QuerySet

from backend.service_requests.models import ServiceRequest
from backend.service_requests.selectors import service_requests_open_near


def service_requests_open_nearby(
    *, service_code: str, lat: float, long: float, limit: int = 5
) -> QuerySet[ServiceRequest]:
    """Open requests of the service within the duplicate radius and window, nearest first.
    Only public fields are loaded: never the reporter's contact data."""
    point = Point(long, lat, srid=4326)
    return (
        service_requests_open_near(point=point, radius_m=settings.DUPLICATE_RADIUS_M)
        .filter(service_type__service_code=service_code)
        .only("public_id", "status", "requested_at", "address", "description")
        .order_by("-requested_at")[:limit]
    )
