"""Reads of the mobile API that need care: what a resident may see of their own requests
(with their contact data) and the open requests near a point (public, without it)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.gis.db.models.functions import Distance
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from backend.catalog.models import ServiceType
from backend.photos.models import Photo
from backend.service_requests.models import (
    OPEN_STATUSES,
    ServiceRequest,
    ServiceRequestEvent,
)
from backend.service_requests.selectors import public_events

NEARBY_LIMIT = 20


def service_requests_nearby(
    *, service_type: ServiceType, point: Point, radius_m: int | None = None
) -> QuerySet[ServiceRequest]:
    """Open requests of the type within the duplicate radius and window, nearest first: the
    ones a resident may follow instead of filing the same problem again."""
    radius = radius_m or settings.DUPLICATE_RADIUS_M
    since = timezone.now() - timedelta(days=settings.DUPLICATE_WINDOW_DAYS)
    return (
        ServiceRequest.objects.filter(
            service_type=service_type,
            status__in=OPEN_STATUSES,
            requested_at__gte=since,
            location__distance_lte=(point, D(m=radius)),
        )
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
    """Any request by its public id (to follow it): the row only, nothing shown of it."""
    return ServiceRequest.objects.filter(public_id=public_id).first()


def service_request_timeline(*, public_id: str) -> ServiceRequest | None:
    """A request with its public events and all its photos (the report's and the crew's
    proof), oldest first. No contact data, no internal notes."""
    return (
        ServiceRequest.objects.select_related("service_type")
        .prefetch_related(
            Prefetch("photos", queryset=Photo.objects.order_by("created_at", "id")),
            Prefetch(
                "events",
                queryset=public_events(ServiceRequestEvent.objects.order_by("created_at", "id")),
                to_attr="public_event_list",
            ),
        )
        .filter(public_id=public_id)
        .first()
    )
