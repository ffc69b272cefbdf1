"""Cancelling a work order. ``work_order_cancel`` (the crew's and supervisor's cancel) also
closes the request with the reason given; ``do_work_order_cancel`` only ends the order, for
the use cases in ``backend.cases`` that decide what becomes of the request themselves."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from backend.service_requests.models import OPEN_STATUSES as REQUEST_OPEN_STATUSES
from backend.service_requests.models import CloseReason
from backend.service_requests.services import do_service_request_close
from workorders.errors import InvalidInput
from workorders.locks import request_and_order_lock
from workorders.models import WorkOrder, WorkOrderHold
from workorders.services.machine import User, _check, _move, note_clean

# Close reasons a cancellation may give the request (resolved needs a completion with proof,
# duplicate needs a merge).
CANCEL_CLOSE_REASONS = (
    CloseReason.NOT_CITY_RESPONSIBILITY,
    CloseReason.CANNOT_LOCATE,
    CloseReason.CANCELLED,
)


def do_work_order_cancel(
    *,
    work_order: WorkOrder,
    actor: User,
    note: str,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    """Cancels the order (ending its hold, if any) and leaves its request as it is. The
    caller holds the request's lock and then the order's (``workorders.locks``) and moves
    the request on itself in the same transaction (closes it, or gives it a new order);
    otherwise use ``work_order_cancel``."""
    _check("cancel", work_order)
    work_order.cancelled_at = at
    WorkOrderHold.objects.filter(work_order=work_order, ended_at__isnull=True).update(ended_at=at)
    _move(work_order, "cancel", at=at, actor=actor, note=note, fields=("cancelled_at",), data=data)


def work_order_cancel(
    *,
    work_order: WorkOrder,
    actor: User = None,
    note: str = "",
    close_reason: str = CloseReason.CANCELLED,
    public_note: str = "",
    at: datetime | None = None,
) -> WorkOrder:
    """Cancels the order and closes its request with ``close_reason`` (not the city's
    responsibility, cannot locate, or cancelled); ``public_note`` tells the resident why."""
    if close_reason not in CANCEL_CLOSE_REASONS:
        choices = ", ".join(CANCEL_CLOSE_REASONS)
        raise InvalidInput(
            f"Unknown close reason {close_reason!r}; one of {choices}.", field="close_reason"
        )
    note = note_clean(note)
    public_note = note_clean(public_note, field="public_note")
    with transaction.atomic():
        service_request, locked = request_and_order_lock(work_order)
        now = at or timezone.now()
        do_work_order_cancel(
            work_order=locked, actor=actor, note=note, at=now, data={"close_reason": close_reason}
        )
        if service_request.status in REQUEST_OPEN_STATUSES:
            do_service_request_close(
                service_request=service_request,
                reason=close_reason,
                actor=actor,
                public_note=public_note,
                internal_note=note,
                at=now,
            )
    return locked
