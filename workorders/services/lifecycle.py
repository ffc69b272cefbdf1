"""A crew's work on an assigned order: start, hold (the SLA clock stops) and resume (the due
times move by the time paused). The request follows as in progress when work starts."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction

from workorders.errors import InvalidInput
from workorders.models import (
    HoldReason,
    WorkOrder,
    WorkOrderHold,
    WorkOrderStatus,
)
from workorders.selectors import business_calendar_get
from workorders.services.machine import (
    RESUME_TARGETS,
    User,
    _expected_at_sync,
    _follow,
    _locked_for,
    _move,
    _public_note_add,
    note_clean,
)
from workorders.sla import duration_add, duration_between


def work_order_start(
    *,
    work_order: WorkOrder,
    actor: User = None,
    note: str = "",
    public_note: str = "",
    at: datetime | None = None,
) -> WorkOrder:
    note = note_clean(note)
    public_note = note_clean(public_note, field="public_note")
    with transaction.atomic():
        service_request, locked, now = _locked_for("start", work_order, at)
        locked.started_at = locked.started_at or now
        _move(locked, "start", at=now, actor=actor, note=note, fields=("started_at",))
        _follow(
            service_request,
            "start",
            actor=actor,
            public_note=public_note or "A crew is working on it.",
            at=now,
        )
    return locked


def work_order_hold(
    *,
    work_order: WorkOrder,
    reason: str,
    note: str = "",
    actor: User = None,
    at: datetime | None = None,
    public_note: str = "",
) -> WorkOrder:
    """Puts the order on hold (waiting for parts, weather...): its SLA clock stops.
    ``public_note`` (optional) tells the resident why."""
    if reason not in HoldReason.values:
        choices = ", ".join(HoldReason.values)
        raise InvalidInput(f"Unknown hold reason {reason!r}; one of {choices}.", field="reason")
    note = note_clean(note, required=reason == HoldReason.OTHER)
    public_note = note_clean(public_note, field="public_note")
    with transaction.atomic():
        service_request, locked, now = _locked_for("hold", work_order, at)
        WorkOrderHold.objects.create(
            work_order=locked, reason=reason, note=note, from_status=locked.status, started_at=now
        )
        _move(locked, "hold", at=now, actor=actor, note=note, data={"reason": reason})
        _public_note_add(service_request, actor=actor, public_note=public_note, at=now)
    return locked


def work_order_resume(
    *,
    work_order: WorkOrder,
    actor: User = None,
    note: str = "",
    at: datetime | None = None,
    public_note: str = "",
) -> WorkOrder:
    """Ends the hold: back to the status before it, with the due times (and the resident's
    expected date) moved by the time paused, in business or calendar hours as the order's
    turnaround counts. ``public_note`` (optional) tells the resident."""
    note = note_clean(note)
    public_note = note_clean(public_note, field="public_note")
    with transaction.atomic():
        service_request, locked, now = _locked_for("resume", work_order, at)
        hold = (
            WorkOrderHold.objects.select_for_update()
            .filter(work_order=locked, ended_at__isnull=True)
            .first()
        )
        target = hold.from_status if hold is not None else WorkOrderStatus.IN_PROGRESS
        if target not in RESUME_TARGETS:
            target = WorkOrderStatus.IN_PROGRESS
        paused = timedelta(0)
        fields: list[str] = []
        if hold is not None:
            calendar = business_calendar_get(department=locked.department)
            business = locked.turnaround_business_hours
            paused = duration_between(
                start=hold.started_at, end=now, business_hours=business, calendar=calendar
            )
            hold.ended_at = now
            hold.paused_seconds = int(paused.total_seconds())
            hold.save(update_fields=["ended_at", "paused_seconds"])
            for name in ("due_at", "escalate_again_at"):
                value = getattr(locked, name)
                if value is not None:
                    setattr(
                        locked,
                        name,
                        duration_add(
                            start=value, duration=paused, business_hours=business, calendar=calendar
                        ),
                    )
                    fields.append(name)
        _move(
            locked,
            "resume",
            at=now,
            actor=actor,
            note=note,
            fields=tuple(fields),
            to=target,
            data={
                "paused_seconds": int(paused.total_seconds()),
                "due_at": locked.due_at.isoformat() if locked.due_at else None,
            },
        )
        _expected_at_sync(service_request, locked.due_at)
        _public_note_add(service_request, actor=actor, public_note=public_note, at=now)
    return locked
