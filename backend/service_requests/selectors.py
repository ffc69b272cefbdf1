"""Reads of service requests. Public reads never carry the reporter's contact data."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from backend.photos.models import Photo
from backend.service_requests.models import ServiceRequest, ServiceRequestEvent


def public_events(queryset: QuerySet[ServiceRequestEvent]) -> QuerySet[ServiceRequestEvent]:
    """Events a resident may see: status changes and public notes, never internal notes."""
    return queryset.filter(Q(kind__in=["created", "status_changed"]) | ~Q(public_note=""))


def service_request_get_public(*, public_id: str) -> ServiceRequest | None:
    return (
        ServiceRequest.objects.select_related("service_type", "service_type__department")
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
