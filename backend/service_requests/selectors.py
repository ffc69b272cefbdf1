"""Reads of service requests. Public reads never carry the reporter's contact data."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from backend.photos.models import Photo
from backend.service_requests.models import (
    OPEN_STATUSES,
    CommentState,
    ModerationVersion,
    ResidentComment,
    ServiceRequest,
    ServiceRequestEvent,
)


def public_events(queryset: QuerySet[ServiceRequestEvent]) -> QuerySet[ServiceRequestEvent]:
    """Events a resident may see: status changes and public notes, never internal notes."""
    return queryset.filter(Q(kind__in=["created", "status_changed"]) | ~Q(public_note=""))


def with_public_history(queryset: QuerySet[ServiceRequest]) -> QuerySet[ServiceRequest]:
    """The requests with all their photos, their public events (``public_event_list``) and
    the residents' comments staff published (``public_comment_list``, by the time they were
    published), oldest first."""
    return queryset.prefetch_related(
        Prefetch("photos", queryset=Photo.objects.order_by("created_at", "id")),
        Prefetch(
            "events",
            queryset=public_events(ServiceRequestEvent.objects.order_by("created_at", "id")),
            to_attr="public_event_list",
        ),
        Prefetch(
            "comments",
            queryset=ResidentComment.objects.filter(state=CommentState.PUBLISHED)
            .only("service_request_id", "text", "moderated_at")
            .order_by("moderated_at", "id"),
            to_attr="public_comment_list",
        ),
    )


def service_request_get_public(*, public_id: str) -> ServiceRequest | None:
    """A request as the public sees it, with its history; None when unknown or hidden."""
    requests = ServiceRequest.objects.visible().select_related(
        "service_type", "service_type__department"
    )
    return with_public_history(requests).filter(public_id=public_id).first()


def service_request_get_visible(*, public_id: str) -> ServiceRequest | None:
    """The request a resident or a partner acts on by its public id ("me too", following,
    a partner's update): None when unknown or hidden, which the callers answer alike (404,
    as if it did not exist). The row only: nothing of it is shown."""
    return ServiceRequest.objects.visible().filter(public_id=public_id).first()


def moderation_version() -> int:
    """The number every moderation raises (``moderation.moderation_version_bump``): part of
    the key of each memo of a public list, so a hidden or redacted request leaves them all."""
    found = ModerationVersion.objects.filter(pk=1).values_list("version", flat=True).first()
    return found or 0


def service_requests_open_near(*, point: Point, radius_m: int) -> QuerySet[ServiceRequest]:
    """Open requests within ``radius_m`` of the point, filed within the duplicate window."""
    since = timezone.now() - timedelta(days=settings.DUPLICATE_WINDOW_DAYS)
    return ServiceRequest.objects.visible().filter(
        status__in=OPEN_STATUSES,
        requested_at__gte=since,
        location__distance_lte=(point, D(m=radius_m)),
    )
