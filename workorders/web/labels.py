"""Translated labels of the work-order statuses and hold reasons for the console's pages (the
models' own labels are English: the admin and the API's codes stay as they are)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from workorders.models import HoldReason, WorkOrderStatus

STATUS_LABELS: dict[str, Promise] = {
    WorkOrderStatus.NEW: _("New"),
    WorkOrderStatus.ASSIGNED: _("Assigned"),
    WorkOrderStatus.IN_PROGRESS: _("In progress"),
    WorkOrderStatus.ON_HOLD: _("On hold"),
    WorkOrderStatus.COMPLETED: _("Completed"),
    WorkOrderStatus.CANCELLED: _("Cancelled"),
}

HOLD_REASON_LABELS: dict[str, Promise] = {
    HoldReason.PARTS: _("Waiting for parts"),
    HoldReason.WEATHER: _("Weather"),
    HoldReason.ACCESS: _("No access to the site"),
    HoldReason.CONTRACTOR: _("Waiting for a contractor or utility"),
    HoldReason.OTHER: _("Other (see note)"),
}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def hold_reason_label(reason: str) -> str:
    return str(HOLD_REASON_LABELS.get(reason, reason))
