"""Reads of the mobile API that need care: what a resident may see of their own requests
(with their contact data) and the open requests near a point (public, without it)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.db.models import QuerySet

from backend.catalog.models import ServiceType
from backend.service_requests.models import (
    ServiceRequest,
)
from backend.service_requests.selectors import (
    service_request_get_visible,
    service_requests_open_near,
    with_public_history,
)

NEARBY_LIMIT = 20


def service_requests_nearby(
    *, service_type: ServiceType, point: Point, radius_m: int | None = None
) -> QuerySet[ServiceRequest]:
    """Open requests of the type within the duplicate radius and window, nearest first: the
    ones a resident may follow instead of filing the same problem again."""
    radius = radius_m or settings.DUPLICATE_RADIUS_M
    return (
        service_requests_open_near(point=point, radius_m=radius)
        .filter(service_type=service_type)
        .select_related("service_type", "service_type__department")
        .annotate(distance=Distance("location", point))
        .order_by("distance", "id")[:NEARBY_LIMIT]
    )


def service_requests_of_reporter(
    *, user: AbstractBaseUser | AnonymousUser
) -> QuerySet[ServiceRequest]:
    """The requests the user filed, newest first: theirs, so with their contact data."""
    return (
        ServiceRequest.objects.filter(reporter_id=user.pk)
        .select_related("service_type", "service_type__department")
        .order_by("-requested_at", "-id")
    )


def service_request_get_for_reporter(
    *, user: AbstractBaseUser | AnonymousUser, public_id: str
) -> ServiceRequest | None:
    return service_requests_of_reporter(user=user).filter(public_id=public_id).first()


def service_request_get(*, public_id: str) -> ServiceRequest | None:
    """A request by its public id (to follow it, to bind a browser's pushes): the row only,
    nothing shown of it; a hidden one is not found (the request domain's one selector)."""
    return service_request_get_visible(public_id=public_id)


def service_request_timeline(*, public_id: str) -> ServiceRequest | None:
    """A request with its public events and all its photos (the report's and the crew's
    proof), oldest first. No contact data, no internal notes; a hidden one is not found."""
    requests = ServiceRequest.objects.visible().select_related("service_type")
    return with_public_history(requests).filter(public_id=public_id).first()
