"""The work orders' state machine: one table of allowed transitions (``TRANSITIONS``), the
actions it offers a crew, and the helpers every transition shares — the from-status check,
the note rule, the event writer, the save, and the request following its work order.

Each transition (``assign``, ``lifecycle``, ``complete``, ``cancel``) locks the request row
and then the work-order row through ``workorders.locks`` (always in that order, so two
writers never deadlock), checks the from-status against the table, saves with
``update_fields`` and writes a ``WorkOrderEvent``, all in one transaction. The status the
resident sees follows through the request's own transitions (acknowledged when assigned, in
progress when started, closed as resolved when completed); a step the request has already
taken is skipped, never an error."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone

from backend.service_requests.models import EventKind, ServiceRequest
from backend.service_requests.services import TRANSITIONS as REQUEST_TRANSITIONS
from backend.service_requests.services import (
    do_service_request_close,
    service_request_acknowledge,
    service_request_event_create,
    service_request_start,
)
from backend.users import actor_user
from workorders.errors import IllegalTransition, InvalidInput
from workorders.live import work_order_push_enqueue
from workorders.locks import request_and_order_lock
from workorders.models import (
    OPEN_STATUSES,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderEventKind,
    WorkOrderStatus,
)

User = AbstractBaseUser | AnonymousUser | None

NOTE_MAX = 4000
KEY_MAX = 128


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    # None: back to the status the order had before its hold.
    target: str | None
    # The event the transition writes.
    kind: str = ""


TRANSITIONS: dict[str, Transition] = {
    "assign": Transition(
        frozenset({WorkOrderStatus.NEW, WorkOrderStatus.ASSIGNED}),
        WorkOrderStatus.ASSIGNED,
        WorkOrderEventKind.ASSIGNED,
    ),
    "start": Transition(
        frozenset({WorkOrderStatus.ASSIGNED}),
        WorkOrderStatus.IN_PROGRESS,
        WorkOrderEventKind.STARTED,
    ),
    "hold": Transition(
        frozenset({WorkOrderStatus.ASSIGNED, WorkOrderStatus.IN_PROGRESS}),
        WorkOrderStatus.ON_HOLD,
        WorkOrderEventKind.HELD,
    ),
    "resume": Transition(frozenset({WorkOrderStatus.ON_HOLD}), None, WorkOrderEventKind.RESUMED),
    "complete": Transition(
        frozenset({WorkOrderStatus.IN_PROGRESS}),
        WorkOrderStatus.COMPLETED,
        WorkOrderEventKind.COMPLETED,
    ),
    "cancel": Transition(
        frozenset(OPEN_STATUSES), WorkOrderStatus.CANCELLED, WorkOrderEventKind.CANCELLED
    ),
}
# Statuses a hold can come back to (the possible targets of "resume").
RESUME_TARGETS = TRANSITIONS["hold"].sources
# Where proof photos may be added before completing.
PROOF_STATUSES = frozenset(
    {WorkOrderStatus.ASSIGNED, WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.ON_HOLD}
)
# Where a crew may still add a note (public or internal).
NOTE_STATUSES = frozenset(OPEN_STATUSES)
# The crew's actions, in the order a phone offers them.
CREW_ACTIONS = ("start", "hold", "resume", "complete")


def work_order_actions(*, status: str) -> list[str]:
    """The crew's actions the transition table allows from ``status`` (and ``note`` while
    the order is open): what a phone offers, so that no client keeps a copy of the table."""
    actions = [action for action in CREW_ACTIONS if status in TRANSITIONS[action].sources]
    return [*actions, "note"] if status in NOTE_STATUSES else actions


def note_clean(value: str, *, field: str = "note", required: bool = False) -> str:
    """A note as the services keep it: stripped, at most ``NOTE_MAX`` characters, and not
    empty when ``required``; raises ``InvalidInput`` naming ``field`` otherwise."""
    value = (value or "").strip()
    if len(value) > NOTE_MAX:
        raise InvalidInput(f"At most {NOTE_MAX} characters.", field=field)
    if required and not value:
        raise InvalidInput("A note is required.", field=field)
    return value


def _check(action: str, work_order: WorkOrder) -> None:
    if work_order.status not in TRANSITIONS[action].sources:
        raise IllegalTransition(action=action, current_status=work_order.status)


def _locked_for(
    action: str, work_order: WorkOrder, at: datetime | None
) -> tuple[ServiceRequest, WorkOrder, datetime]:
    """Locks the order's request and then the order (``workorders.locks``), checks that the
    order may take ``action`` now, and returns both with the time of the step (``at``, else
    now). The caller is inside ``transaction.atomic()``."""
    service_request, locked = request_and_order_lock(work_order)
    _check(action, locked)
    return service_request, locked, at or timezone.now()


def _event(
    *,
    work_order: WorkOrder,
    kind: str,
    at: datetime,
    actor: User = None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    left_team_id: int | None = None,
) -> WorkOrderEvent:
    """Writes the event and queues the teams' live update (``workorders.live``)."""
    event = WorkOrderEvent.objects.create(
        work_order=work_order,
        kind=kind,
        created_at=at,
        actor=actor_user(actor),
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=data or {},
    )
    work_order_push_enqueue(work_order=work_order, kind=kind, left_team_id=left_team_id)
    return event


def _save(work_order: WorkOrder, *fields: str) -> None:
    work_order.save(update_fields=[*fields, "updated_at"])


def _move(
    work_order: WorkOrder,
    action: str,
    *,
    at: datetime,
    actor: User,
    note: str = "",
    fields: tuple[str, ...] = (),
    data: dict[str, Any] | None = None,
    to: str | None = None,
    left_team_id: int | None = None,
) -> None:
    """Moves the (locked, checked) order along ``action`` (to ``to`` where the table has no
    target): saves it with the ``fields`` the caller has set and writes the action's event
    from the status it had."""
    rule = TRANSITIONS[action]
    from_status = work_order.status
    work_order.status = to or rule.target or from_status
    work_order.updated_at = at
    _save(work_order, "status", *fields)
    _event(
        work_order=work_order,
        kind=rule.kind,
        at=at,
        actor=actor,
        from_status=from_status,
        to_status=work_order.status,
        note=note,
        data=data,
        left_team_id=left_team_id,
    )


def _follow(
    service_request: ServiceRequest,
    action: str,
    *,
    actor: User,
    public_note: str,
    at: datetime,
    reason: str = "",
) -> ServiceRequest:
    """Moves the (locked) request along with its work order, unless it is already there."""
    if service_request.status not in REQUEST_TRANSITIONS[action].sources:
        return service_request
    if action == "acknowledge":
        return service_request_acknowledge(
            service_request=service_request, actor=actor, public_note=public_note, at=at
        )
    if action == "start":
        return service_request_start(
            service_request=service_request, actor=actor, public_note=public_note, at=at
        )
    if action == "close":
        return do_service_request_close(
            service_request=service_request,
            reason=reason,
            actor=actor,
            public_note=public_note,
            at=at,
        )
    raise ValueError(f"no request action {action!r} follows a work order")


def _public_note_add(
    service_request: ServiceRequest,
    *,
    actor: User,
    public_note: str,
    internal_note: str = "",
    at: datetime,
) -> None:
    """A note on the request's history (the resident sees ``public_note`` on the track page
    and in the timeline, never ``internal_note``); nothing when both are empty."""
    if public_note or internal_note:
        service_request_event_create(
            service_request=service_request,
            kind=EventKind.NOTE,
            actor=actor,
            public_note=public_note,
            internal_note=internal_note,
            at=at,
        )


def _expected_at_sync(service_request: ServiceRequest, due_at: datetime | None) -> None:
    """The resident's expected date follows the active work order's due time."""
    if due_at is not None and service_request.expected_at != due_at:
        service_request.expected_at = due_at
        ServiceRequest.objects.filter(pk=service_request.pk).update(expected_at=due_at)
