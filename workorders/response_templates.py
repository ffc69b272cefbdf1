"""The staff's response templates (``backend.catalog.models.ResponseTemplate``) as offered for
one work order: those of its service (or of every service), in the request's language (else
the English one of the same name), filled in with the order's data.

Who may see them is the caller's check (``workorders.access``): the console's work order page
and the crews' detail answer offer them only to those who may act on the order."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import pgettext

from backend.catalog.models import LANGUAGES, ResponseTemplate
from backend.catalog.response_templates import template_fill
from workorders.models import WorkOrder

FALLBACK_LANGUAGE = "en"


@dataclass(frozen=True)
class OfferedTemplate:
    id: int
    name: str
    # The work order status it goes with ("": any).
    status: str
    language: str
    # Filled in for the order.
    text: str


def request_language(work_order: WorkOrder) -> str:
    language = (work_order.service_request.language or FALLBACK_LANGUAGE)[:2]
    return language if language in LANGUAGES else FALLBACK_LANGUAGE


def response_template_values(*, work_order: WorkOrder) -> dict[str, str]:
    """What the placeholders stand for, in the request's language ("" for what it lacks: no
    team yet, no expected date)."""
    service_request = work_order.service_request
    language = request_language(work_order)
    expected = service_request.expected_at or work_order.due_at
    with translation.override(language):
        # The same words for the date as the track page's "Expected by".
        expected_date = (
            date_format(timezone.localtime(expected), pgettext("expected date", "l j F"))
            if expected is not None
            else ""
        )
    return {
        "service": service_request.service_type.localized_name(language),
        "expected_date": expected_date,
        "team": work_order.team.name if work_order.team_id and work_order.team else "",
        "public_id": service_request.public_id,
    }


def response_templates_for_work_order(*, work_order: WorkOrder) -> list[OfferedTemplate]:
    """The active templates for the order's service, one per name, service and status: in
    the request's language, else English (a template with neither is not offered). The
    service's own first, then by status and name."""
    language = request_language(work_order)
    rows = ResponseTemplate.objects.filter(
        Q(service_type_id=work_order.service_request.service_type_id)
        | Q(service_type__isnull=True),
        active=True,
        language__in={language, FALLBACK_LANGUAGE},
    )
    chosen: dict[tuple[str, int | None, str], ResponseTemplate] = {}
    for row in rows:
        key = (row.name, row.service_type_id, row.status)
        if key not in chosen or row.language == language:
            chosen[key] = row
    if not chosen:
        return []
    values = response_template_values(work_order=work_order)
    ordered = sorted(
        chosen.values(), key=lambda row: (row.service_type_id is None, row.status, row.name)
    )
    return [
        OfferedTemplate(
            id=row.pk,
            name=row.name,
            status=row.status,
            language=row.language,
            text=template_fill(row.text, values),
        )
        for row in ordered
    ]
