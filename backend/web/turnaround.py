"""The expected turnaround in words and as a date, in the active language:
"We aim to deal with Pothole reports within 3 days — by Thursday 26 November"."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext, pgettext

from backend.catalog.models import ServiceType


def turnaround_words(*, hours: int, business_hours: bool) -> str:
    if business_hours:
        return ngettext("%(n)d working hour", "%(n)d working hours", hours) % {"n": hours}
    if hours % 24 == 0:
        days = hours // 24
        return ngettext("%(n)d day", "%(n)d days", days) % {"n": days}
    return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}


def expected_date_words(expected_at: datetime) -> str:
    # Translators: a Django date format for the expected date, e.g. "Thursday 26 November".
    return date_format(timezone.localtime(expected_at), pgettext("expected date", "l j F"))


def turnaround_sentence(*, service_type: ServiceType, expected_at: datetime | None) -> str:
    within = turnaround_words(
        hours=service_type.turnaround_hours, business_hours=service_type.turnaround_business_hours
    )
    service = service_type.localized_name()
    if expected_at is None:
        return gettext("We aim to deal with %(service)s reports within %(within)s.") % {
            "service": service,
            "within": within,
        }
    return gettext("We aim to deal with %(service)s reports within %(within)s — by %(date)s.") % {
        "service": service,
        "within": within,
        "date": expected_date_words(expected_at),
    }
