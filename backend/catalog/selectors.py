"""Reads of the catalog."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from backend.catalog.models import ServiceAttribute, ServiceType


def service_type_list(*, include_inactive: bool = False) -> QuerySet[ServiceType]:
    qs = ServiceType.objects.select_related("department").prefetch_related(
        Prefetch("attributes", queryset=ServiceAttribute.objects.order_by("order", "code"))
    )
    if not include_inactive:
        qs = qs.filter(active=True)
    return qs.order_by("group", "name")


def service_type_get_for_intake(*, service_code: str) -> ServiceType | None:
    """The active service with its department and attribute definitions, or None."""
    return service_type_list().filter(service_code=service_code).first()
