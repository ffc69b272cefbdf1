"""Reads of the catalog."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language

from backend.catalog.models import ServiceAttribute, ServiceSuspension, ServiceType, SiteBanner
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


# --- Emergency mode: what is switched off now, and the site banner.


@dataclass(frozen=True)
class Notice:
    """A banner or a switch-off as the edges show it: the message (staff's words, with their
    translations) and its time window. ``ends_at`` None: until cleared."""

    message: str
    message_i18n: dict[str, str]
    starts_at: datetime
    ends_at: datetime | None

    def message_in(self, language: str | None = None) -> str:
        lang = (language or get_language() or "en")[:2]
        return str(self.message_i18n.get(lang) or self.message)

    def in_effect(self, now: datetime) -> bool:
        return self.starts_at <= now and (self.ends_at is None or now < self.ends_at)


@dataclass(frozen=True)
class EmergencyState:
    """The banners and switch-offs not cleared and not over when read; ``banner`` and
    ``suspension`` pick what is in effect at the moment asked, so a switch ends at its end
    time even while this state is cached."""

    banners: tuple[Notice, ...] = ()
    suspensions: dict[str, Notice] = field(default_factory=dict)

    def banner(self, now: datetime | None = None) -> Notice | None:
        now = now or timezone.now()
        return next((b for b in self.banners if b.in_effect(now)), None)

    def suspension(self, service_code: str, now: datetime | None = None) -> Notice | None:
        notice = self.suspensions.get(service_code)
        return notice if notice is not None and notice.in_effect(now or timezone.now()) else None

    def suspended_codes(self, now: datetime | None = None) -> frozenset[str]:
        now = now or timezone.now()
        return frozenset(code for code, n in self.suspensions.items() if n.in_effect(now))


def _notice(row: SiteBanner | ServiceSuspension) -> Notice:
    return Notice(
        message=row.message,
        message_i18n=dict(row.message_i18n or {}),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
    )


def _emergency_state_load() -> EmergencyState:
    now = timezone.now()
    current = Q(cleared_at=None) & (Q(ends_at=None) | Q(ends_at__gt=now))
    banners = tuple(_notice(b) for b in SiteBanner.objects.filter(current).order_by("-set_at"))
    suspensions = {
        s.service_type.service_code: _notice(s)
        for s in ServiceSuspension.objects.filter(current).select_related("service_type")
    }
    return EmergencyState(banners=banners, suspensions=suspensions)


_emergency: ProcessCache[EmergencyState] = ProcessCache("catalog.emergency")


def emergency_cache_clear() -> None:
    """Forget this process's emergency state (the writes call it after their commit)."""
    _emergency.clear()


def emergency_state() -> EmergencyState:
    """The banner and the switched-off services, read once per ``CATALOG_CACHE_SECONDS`` per
    process (every page and every submission asks): a change made in this process shows at
    once, one made in another process within that time. Times are compared when asked."""
    return _emergency.get("state", _emergency_state_load)


def site_banner_current(*, now: datetime | None = None) -> Notice | None:
    return emergency_state().banner(now)


def service_suspension_current(*, service_code: str, now: datetime | None = None) -> Notice | None:
    """The switch-off in effect for the service, or None when it may be reported."""
    return emergency_state().suspension(service_code, now)
