"""Merging a duplicate request into its original: the duplicate's work order is cancelled,
the duplicate closed as a duplicate, and its reporter and followers follow the original.
Call ``service_request_merge``."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from backend.service_requests.models import (
    CloseReason,
    EventKind,
    RequestFollower,
    ServiceRequest,
    Status,
)
from backend.service_requests.services import (
    do_service_request_close,
    service_request_event_create,
    service_request_follower_add,
)
from workorders.errors import Conflict, IllegalTransition, InvalidInput
from workorders.locks import active_order_lock, requests_lock
from workorders.services import do_work_order_cancel, note_clean
from workorders.services.machine import User


def _followers_move(*, duplicate: ServiceRequest, original: ServiceRequest, at: datetime) -> None:
    """The duplicate's reporter and its own followers follow the original from now on."""
    email = duplicate.contact_email or (
        duplicate.reporter.email if duplicate.reporter is not None else ""
    )
    if email or duplicate.reporter_id is not None:
        service_request_follower_add(
            service_request=original, user=duplicate.reporter, email=email, via=duplicate, at=at
        )
    for follower in RequestFollower.objects.filter(service_request=duplicate):
        service_request_follower_add(
            service_request=original, user=follower.user, email=follower.email, via=duplicate, at=at
        )


def service_request_merge(
    *,
    service_request: ServiceRequest,
    into: ServiceRequest,
    actor: User = None,
    note: str = "",
    at: datetime | None = None,
) -> ServiceRequest:
    """Merges a duplicate into its original: the duplicate's open work order is cancelled,
    the duplicate is closed as a duplicate of ``into``, and its reporter (and its own
    followers) follow the original from now on."""
    if service_request.pk == into.pk:
        raise InvalidInput("A request cannot be merged into itself.", field="into")
    note = note_clean(note)
    with transaction.atomic():
        locked = requests_lock(service_request, into)
        duplicate, original = locked[service_request.pk], locked[into.pk]
        if duplicate.status == Status.CLOSED:
            raise IllegalTransition(
                action="merge", current_status=duplicate.status, entity="request"
            )
        if original.status == Status.CLOSED:
            raise Conflict(
                f"{original.public_id} is closed; merge into an open request.", field="into"
            )
        now = at or timezone.now()
        active = active_order_lock(duplicate)
        if active is not None:
            do_work_order_cancel(
                work_order=active,
                actor=actor,
                note=note or f"Merged into {original.public_id}.",
                at=now,
                data={"merged_into": original.public_id},
            )
        closed = do_service_request_close(
            service_request=duplicate,
            reason=CloseReason.DUPLICATE,
            duplicate_of=original,
            actor=actor,
            public_note=f"This problem was reported already as {original.public_id}. We have "
            "merged your report into it: you will get its updates from now on.",
            internal_note=note,
            at=now,
        )
        _followers_move(duplicate=duplicate, original=original, at=now)
        service_request_event_create(
            service_request=original,
            kind=EventKind.NOTE,
            actor=actor,
            internal_note=f"{duplicate.public_id} was merged into this request."
            + (f" {note}" if note else ""),
            at=now,
        )
    return closed
