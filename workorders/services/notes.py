"""A crew's notes on an open work order, written to the request's history."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from workorders.errors import IllegalTransition, InvalidInput
from workorders.locks import request_and_order_lock
from workorders.models import WorkOrder
from workorders.services.machine import NOTE_STATUSES, User, _public_note_add, note_clean


def work_order_note_add(
    *,
    work_order: WorkOrder,
    actor: User = None,
    public_note: str = "",
    note: str = "",
    at: datetime | None = None,
) -> WorkOrder:
    """A note from the crew on an open order, written to the request's history: the
    resident sees ``public_note`` (track page, timeline); ``note`` is internal. At least one
    is needed. A closed or cancelled order takes no more notes (409)."""
    public_note = note_clean(public_note, field="public_note")
    note = note_clean(note)
    if not public_note and not note:
        raise InvalidInput("Write a note (public_note or note).", field="public_note")
    with transaction.atomic():
        service_request, locked = request_and_order_lock(work_order)
        if locked.status not in NOTE_STATUSES:
            raise IllegalTransition(action="add a note to", current_status=locked.status)
        _public_note_add(
            service_request,
            actor=actor,
            public_note=public_note,
            internal_note=note,
            at=at or timezone.now(),
        )
    return locked
