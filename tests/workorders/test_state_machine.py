"""The work-order state machine, exhaustively: every action from every status, the events
it writes, and the request status that follows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from backend.photos.models import Photo
from backend.service_requests.models import CloseReason, ServiceRequestEvent, Status
from backend.service_requests.services import service_request_start
from tests.workorders.factories import Staff, good_proof, order_in, order_of, request_make
from workorders.errors import IllegalTransition, InvalidInput, ProofRequired
from workorders.models import (
    HoldReason,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderEventKind,
    WorkOrderHold,
    WorkOrderStatus,
)
from workorders.services import (
    TRANSITIONS,
    work_order_assign,
    work_order_cancel,
    work_order_complete,
    work_order_hold,
    work_order_resume,
    work_order_start,
)

S = WorkOrderStatus

ACTIONS: dict[str, Callable[[WorkOrder, Staff], Any]] = {
    "assign": lambda wo, st: work_order_assign(work_order=wo, team=st.team, actor=st.supervisor),
    "start": lambda wo, st: work_order_start(work_order=wo, actor=st.crew),
    "hold": lambda wo, st: work_order_hold(work_order=wo, reason=HoldReason.WEATHER, actor=st.crew),
    "resume": lambda wo, st: work_order_resume(work_order=wo, actor=st.crew),
    "complete": lambda wo, st: work_order_complete(
        work_order=wo, actor=st.crew, proof_photos=[good_proof(seed=7)], note="Filled."
    ),
    "cancel": lambda wo, st: work_order_cancel(work_order=wo, actor=st.supervisor),
}

# The documented lifecycle: new -> assigned -> in_progress -> completed, or cancelled; on
# hold from assigned or in progress, back to where it was. (The factory holds from
# in progress.)
EXPECTED = {
    (S.NEW, "assign"): S.ASSIGNED,
    (S.NEW, "cancel"): S.CANCELLED,
    (S.ASSIGNED, "assign"): S.ASSIGNED,
    (S.ASSIGNED, "start"): S.IN_PROGRESS,
    (S.ASSIGNED, "hold"): S.ON_HOLD,
    (S.ASSIGNED, "cancel"): S.CANCELLED,
    (S.IN_PROGRESS, "hold"): S.ON_HOLD,
    (S.IN_PROGRESS, "complete"): S.COMPLETED,
    (S.IN_PROGRESS, "cancel"): S.CANCELLED,
    (S.ON_HOLD, "resume"): S.IN_PROGRESS,
    (S.ON_HOLD, "cancel"): S.CANCELLED,
}
EVENT_KINDS = {
    "assign": WorkOrderEventKind.ASSIGNED,
    "start": WorkOrderEventKind.STARTED,
    "hold": WorkOrderEventKind.HELD,
    "resume": WorkOrderEventKind.RESUMED,
    "complete": WorkOrderEventKind.COMPLETED,
    "cancel": WorkOrderEventKind.CANCELLED,
}
# What the resident sees after each target (from a request that followed its work order).
REQUEST_STATUS = {
    S.ASSIGNED: Status.ACKNOWLEDGED,
    S.IN_PROGRESS: Status.IN_PROGRESS,
    S.ON_HOLD: None,  # unchanged
    S.COMPLETED: Status.CLOSED,
    S.CANCELLED: Status.CLOSED,
}


def test_transition_table_matches_the_documented_lifecycle() -> None:
    derived = {}
    for action, rule in TRANSITIONS.items():
        for source in rule.sources:
            derived[(source, action)] = rule.target or S.IN_PROGRESS  # resume: back (see below)
    assert derived == EXPECTED
    assert TRANSITIONS["resume"].target is None
    # Every pair of statuses the machine can join, and no other.
    pairs = {(source, target) for (source, _), target in EXPECTED.items()}
    pairs.add((S.ON_HOLD, S.ASSIGNED))  # resume after a hold taken before starting
    assert pairs == {
        (S.NEW, S.ASSIGNED),
        (S.NEW, S.CANCELLED),
        (S.ASSIGNED, S.ASSIGNED),
        (S.ASSIGNED, S.IN_PROGRESS),
        (S.ASSIGNED, S.ON_HOLD),
        (S.ASSIGNED, S.CANCELLED),
        (S.IN_PROGRESS, S.ON_HOLD),
        (S.IN_PROGRESS, S.COMPLETED),
        (S.IN_PROGRESS, S.CANCELLED),
        (S.ON_HOLD, S.IN_PROGRESS),
        (S.ON_HOLD, S.ASSIGNED),
        (S.ON_HOLD, S.CANCELLED),
    }


@pytest.mark.django_db
@pytest.mark.parametrize("status", list(S))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_action_from_every_status(staff: Staff, status: str, action: str) -> None:
    order = order_in(status, staff=staff)
    request_before = order.service_request
    request_before.refresh_from_db()
    events_before = WorkOrderEvent.objects.filter(work_order=order).count()
    photos_before = Photo.objects.count()
    target = EXPECTED.get((S(status), action))

    if target is None:
        with pytest.raises(IllegalTransition) as info:
            ACTIONS[action](order, staff)
        assert info.value.current_status == status
        assert info.value.status_code == 409
        order.refresh_from_db()
        assert order.status == status
        assert WorkOrderEvent.objects.filter(work_order=order).count() == events_before
        assert Photo.objects.count() == photos_before  # nothing half-written
        sr = order.service_request
        sr.refresh_from_db()
        assert sr.status == request_before.status
        return

    ACTIONS[action](order, staff)

    order.refresh_from_db()
    assert order.status == target
    event = WorkOrderEvent.objects.filter(work_order=order, kind=EVENT_KINDS[action]).latest("id")
    assert (event.from_status, event.to_status) == (status, target)
    sr = order.service_request
    sr.refresh_from_db()
    expected_request = REQUEST_STATUS[target] or request_before.status
    assert sr.status == expected_request
    if target == S.COMPLETED:
        assert sr.close_reason == CloseReason.RESOLVED
        assert order.completed_at is not None and order.on_time is True
    if target == S.CANCELLED:
        assert sr.close_reason == CloseReason.CANCELLED
        assert order.on_time is None


@pytest.mark.django_db
def test_resume_goes_back_to_the_status_before_the_hold(staff: Staff) -> None:
    order = order_in(S.ASSIGNED, staff=staff)
    work_order_hold(work_order=order, reason=HoldReason.ACCESS, actor=staff.crew)

    resumed = work_order_resume(work_order=order, actor=staff.crew)

    assert resumed.status == S.ASSIGNED
    hold = WorkOrderHold.objects.get(work_order=order)
    assert hold.ended_at is not None and hold.from_status == S.ASSIGNED


@pytest.mark.django_db
def test_the_request_follows_and_its_events_carry_public_notes(staff: Staff) -> None:
    order = order_of(request_make())
    work_order_assign(work_order=order, team=staff.team, actor=staff.supervisor)
    work_order_start(work_order=order, actor=staff.crew, public_note="On our way.")
    work_order_complete(
        work_order=order, actor=staff.crew, proof_photos=[good_proof()], note="Hole filled."
    )

    changes = ServiceRequestEvent.objects.filter(
        service_request=order.service_request, kind="status_changed"
    ).order_by("id")
    assert [(e.from_status, e.to_status) for e in changes] == [
        (Status.SUBMITTED, Status.ACKNOWLEDGED),
        (Status.ACKNOWLEDGED, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, Status.CLOSED),
    ]
    assert "Public Works" in changes[0].public_note
    assert changes[1].public_note == "On our way."
    assert changes[2].public_note == "Hole filled." and changes[2].actor == staff.crew
    order.refresh_from_db()
    assert order.completion_note == "Hole filled."


@pytest.mark.django_db
def test_a_step_the_request_already_took_is_skipped(staff: Staff) -> None:
    sr = request_make()
    service_request_start(service_request=sr)  # staff started it by hand, before any crew
    order = order_of(sr)

    work_order_assign(work_order=order, team=staff.team, actor=staff.supervisor)
    work_order_start(work_order=order, actor=staff.crew)

    sr.refresh_from_db()
    assert sr.status == Status.IN_PROGRESS
    assert sr.events.filter(kind="status_changed").count() == 1  # only the manual start


@pytest.mark.django_db
def test_completing_without_a_proof_photo_is_refused(staff: Staff) -> None:
    order = order_in(S.IN_PROGRESS, staff=staff)

    with pytest.raises(ProofRequired) as info:
        work_order_complete(work_order=order, actor=staff.crew)

    assert info.value.field == "photos" and info.value.status_code == 400
    order.refresh_from_db()
    assert order.status == S.IN_PROGRESS


@pytest.mark.django_db
def test_on_time_is_decided_at_completion_and_kept(staff: Staff) -> None:
    late = order_in(S.IN_PROGRESS, staff=staff)
    assert late.due_at is not None
    done = work_order_complete(
        work_order=late,
        actor=staff.crew,
        proof_photos=[good_proof()],
        at=late.due_at + timedelta(minutes=1),
    ).work_order
    assert done.on_time is False
    # Nothing later changes it (a review, a feedback reopen makes a new order instead).
    done.refresh_from_db()
    assert done.on_time is False and done.completed_at == late.due_at + timedelta(minutes=1)


@pytest.mark.django_db
def test_assigning_to_another_departments_team_is_refused(staff: Staff) -> None:
    order = order_in(S.NEW, staff=staff)
    foreign = staff.outsider.team_memberships.get().team

    with pytest.raises(InvalidInput) as info:
        work_order_assign(work_order=order, team=foreign, actor=staff.supervisor)

    assert info.value.field == "team"
    order.refresh_from_db()
    assert order.status == S.NEW and order.team is None


@pytest.mark.django_db
def test_hold_needs_a_known_reason_and_a_note_for_other(staff: Staff) -> None:
    order = order_in(S.IN_PROGRESS, staff=staff)
    with pytest.raises(InvalidInput) as unknown:
        work_order_hold(work_order=order, reason="lunch", actor=staff.crew)
    with pytest.raises(InvalidInput) as no_note:
        work_order_hold(work_order=order, reason=HoldReason.OTHER, actor=staff.crew)
    assert (unknown.value.field, no_note.value.field) == ("reason", "note")
    held = work_order_hold(
        work_order=order,
        reason=HoldReason.OTHER,
        note="Street fair",
        actor=staff.crew,
        at=timezone.now(),
    )
    assert held.status == S.ON_HOLD
