"""Reads of the catalog."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from backend.catalog.models import ServiceAttribute, ServiceType
from backend.process_cache import ProcessCache


def service_type_list(*, include_inactive: bool = False) -> QuerySet[ServiceType]:
    qs = ServiceType.objects.select_related("department").prefetch_related(
        Prefetch("attributes", queryset=ServiceAttribute.objects.order_by("order", "code"))
    )
    if not include_inactive:
        qs = qs.filter(active=True)
    return qs.order_by("group", "name")


_intake_services: ProcessCache[ServiceType | None] = ProcessCache("catalog.intake")


def service_type_cache_clear() -> None:
    _intake_services.clear()


def _service_type_load(service_code: str) -> ServiceType | None:
    service_type = service_type_list().filter(service_code=service_code).first()
    if service_type is not None:
        list(service_type.attributes.all())  # evaluated now: cached instances never query
    return service_type


def service_type_get_for_intake(*, service_code: str) -> ServiceType | None:
    """The active service with its department and attribute definitions, or None. Cached
    per process (``backend.process_cache``): every submission needs it."""
    return _intake_services.get(service_code, lambda: _service_type_load(service_code))
