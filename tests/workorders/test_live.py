"""Teams' live queue updates are queued for after the commit, one per lifecycle change."""

from __future__ import annotations

from typing import Any

import pytest

from tests.outbox import outbox_written
from tests.workorders.factories import Staff, order_of, request_make
from workorders.live import department_group, team_group
from workorders.services import work_order_assign

pytestmark = pytest.mark.django_db


def test_a_reassignment_is_pushed_after_commit_to_both_teams_and_the_department(
    staff: Staff, django_capture_on_commit_callbacks: Any
) -> None:
    order = order_of(request_make())
    work_order_assign(work_order=order, team=staff.team, actor=staff.supervisor)

    with django_capture_on_commit_callbacks() as callbacks:
        work_order_assign(work_order=order, team=staff.other_team, actor=staff.supervisor)

    (push,) = outbox_written(callbacks, "workorders.live.work_order_push")
    assert push.kwargs["groups"] == [
        team_group(team_id=staff.other_team.pk),
        team_group(team_id=staff.team.pk),
        department_group(department_id=staff.department.pk),
    ]
    assert push.kwargs["message"]["event"] == "assigned"


def test_the_escalation_scan_pushes_every_order_it_marks_in_one_outbox_row(
    staff: Staff, django_capture_on_commit_callbacks: Any
) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from workorders.escalation import work_orders_escalate

    def late(hours: float) -> Any:
        return order_of(
            request_make("pothole", requested_at=timezone.now() - timedelta(hours=hours))
        )

    # Potholes: 72 hours; twice that is 144.
    assigned, unassigned, on_time = late(100), late(150), late(1)
    work_order_assign(work_order=assigned, team=staff.team, actor=staff.supervisor)

    with django_capture_on_commit_callbacks() as callbacks:
        work_orders_escalate()

    (row,) = outbox_written(callbacks, "workorders.live.work_order_pushes")
    pushed = {(p["message"]["id"], p["message"]["event"]): p for p in row.kwargs["pushes"]}
    assert set(pushed) == {
        (assigned.pk, "overdue"),
        (unassigned.pk, "overdue"),
        (unassigned.pk, "escalated"),
    }
    to_team = pushed[(assigned.pk, "overdue")]
    assert to_team["groups"] == [
        team_group(team_id=staff.team.pk),
        department_group(department_id=assigned.department_id),
    ]
    assert to_team["message"]["service_request_id"] == assigned.service_request.public_id
    assert pushed[(unassigned.pk, "escalated")]["groups"] == [
        department_group(department_id=unassigned.department_id)
    ]
    assert on_time.pk not in {order_id for order_id, _ in pushed}

    with django_capture_on_commit_callbacks() as callbacks:
        work_orders_escalate()  # nothing new: no push
    assert outbox_written(callbacks, "workorders.live.work_order_pushes") == []


def test_a_proof_review_is_pushed_to_the_department_when_flagged_and_when_resolved(
    staff: Staff, django_capture_on_commit_callbacks: Any
) -> None:
    from backend.cases.review import work_order_review_resolve
    from tests.workorders.factories import order_in, proof_jpeg
    from workorders.models import WorkOrderStatus
    from workorders.services import work_order_complete

    order = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff)
    with django_capture_on_commit_callbacks() as callbacks:
        # No GPS in the photo: the order closes, flagged for a supervisor's review.
        work_order_complete(
            work_order=order, actor=staff.crew, proof_photos=[proof_jpeg(lat=None, long=None)]
        )
    events = [
        p.kwargs["message"]["event"]
        for p in outbox_written(callbacks)
        if p.target == "workorders.live.work_order_push"
    ]
    assert "review_flagged" in events

    with django_capture_on_commit_callbacks() as callbacks:
        work_order_review_resolve(work_order=order, decision="accepted", actor=staff.supervisor)
    (push,) = outbox_written(callbacks, "workorders.live.work_order_push")
    assert push.kwargs["message"]["event"] == "reviewed"
    assert department_group(department_id=order.department_id) in push.kwargs["groups"]
