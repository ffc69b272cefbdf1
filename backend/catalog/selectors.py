"""Reads of the catalog."""

from __future__ import annotations

import threading
import time

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from backend.catalog.models import ServiceAttribute, ServiceType


def service_type_list(*, include_inactive: bool = False) -> QuerySet[ServiceType]:
    qs = ServiceType.objects.select_related("department").prefetch_related(
        Prefetch("attributes", queryset=ServiceAttribute.objects.order_by("order", "code"))
    )
    if not include_inactive:
        qs = qs.filter(active=True)
    return qs.order_by("group", "name")


# Every submission needs its service with department and attribute definitions; the catalog
# changes a few times a year. Each process keeps what it read for CATALOG_CACHE_SECONDS
# (default 30, 0 turns it off): an edit in the admin reaches intake within that time.
_cache: dict[str, tuple[float, ServiceType | None]] = {}
_cache_lock = threading.Lock()


def service_type_cache_clear() -> None:
    with _cache_lock:
        _cache.clear()


def service_type_get_for_intake(*, service_code: str) -> ServiceType | None:
    """The active service with its department and attribute definitions, or None."""
    ttl = settings.CATALOG_CACHE_SECONDS
    if ttl > 0:
        hit = _cache.get(service_code)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
    service_type = service_type_list().filter(service_code=service_code).first()
    if ttl > 0:
        if service_type is not None:
            # Evaluate the prefetch now so cached instances never query again.
            list(service_type.attributes.all())
        with _cache_lock:
            _cache[service_code] = (time.monotonic() + ttl, service_type)
    return service_type
