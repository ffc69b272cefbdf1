"""Escalation: past-due orders are marked overdue (an event), their supervisors told once,
and again at twice the turnaround; running the scan twice changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from backend.catalog.models import Department
from tests.workorders.factories import Staff, good_proof, order_of, request_make, user_make
from workorders.escalation import supervisor_alerts_send, work_orders_escalate
from workorders.models import (
    HoldReason,
    SupervisorAlert,
    TeamMember,
    TeamRole,
    WorkOrder,
    WorkOrderEvent,
)
from workorders.services import (
    work_order_assign,
    work_order_complete,
    work_order_hold,
    work_order_start,
)
from workorders.tasks import work_orders_escalate as escalate_task

pytestmark = pytest.mark.django_db


def _signal(hours_ago: float) -> WorkOrder:
    """A traffic signal request (24 calendar hours) filed ``hours_ago``."""
    return order_of(
        request_make("traffic_signal", requested_at=timezone.now() - timedelta(hours=hours_ago))
    )


def _pothole(hours_ago: float) -> WorkOrder:
    """A Public Works pothole request (72 calendar hours) filed ``hours_ago``."""
    return order_of(
        request_make("pothole", requested_at=timezone.now() - timedelta(hours=hours_ago))
    )


def _snapshot() -> tuple[int, int, int]:
    return (
        WorkOrderEvent.objects.filter(kind__in=["overdue", "escalated"]).count(),
        SupervisorAlert.objects.count(),
        WorkOrder.objects.filter(overdue_at__isnull=False).count(),
    )


def test_past_due_orders_are_marked_once_and_again_at_twice_the_turnaround(
    staff: Staff,
) -> None:
    fresh, late, very_late = _signal(2), _signal(30), _signal(50)

    first = work_orders_escalate()

    assert (first.overdue, first.escalated) == (2, 1)
    for order in (fresh, late, very_late):
        order.refresh_from_db()
    assert fresh.overdue_at is None and fresh.escalated_again_at is None
    assert late.overdue_at is not None and late.escalated_again_at is None
    assert very_late.overdue_at is not None and very_late.escalated_again_at is not None
    kinds = sorted(
        WorkOrderEvent.objects.filter(kind__in=["overdue", "escalated"]).values_list(
            "work_order_id", "kind"
        )
    )
    assert kinds == sorted(
        [(late.pk, "overdue"), (very_late.pk, "overdue"), (very_late.pk, "escalated")]
    )
    event = WorkOrderEvent.objects.get(work_order=late, kind="overdue")
    assert (event.from_status, event.to_status, event.data) == ("new", "new", {"level": 1})
    assert sorted(SupervisorAlert.objects.values_list("work_order_id", "level")) == sorted(
        [(late.pk, 1), (very_late.pk, 1), (very_late.pk, 2)]
    )


def test_running_it_twice_changes_nothing(staff: Staff) -> None:
    _signal(30), _signal(50)
    work_orders_escalate()
    before = _snapshot()
    marks = list(WorkOrder.objects.values_list("pk", "overdue_at", "escalated_again_at"))

    again = work_orders_escalate()

    assert (again.overdue, again.escalated) == (0, 0)
    assert _snapshot() == before
    assert list(WorkOrder.objects.values_list("pk", "overdue_at", "escalated_again_at")) == marks


def test_a_later_scan_catches_what_became_due_since(staff: Staff) -> None:
    order = _signal(20)
    assert work_orders_escalate().overdue == 0

    later = work_orders_escalate(now=timezone.now() + timedelta(hours=5))

    assert later.overdue == 1
    order.refresh_from_db()
    assert order.overdue_at is not None


def test_orders_on_hold_completed_or_cancelled_are_left_alone(staff: Staff) -> None:
    held, done = _pothole(80), _pothole(80)
    for order in (held, done):
        work_order_assign(work_order=order, team=staff.team, actor=staff.supervisor)
        work_order_start(work_order=order, actor=staff.crew)
    work_order_hold(work_order=held, reason=HoldReason.WEATHER, actor=staff.crew)
    work_order_complete(work_order=done, actor=staff.crew, proof_photos=[good_proof()])

    assert work_orders_escalate() == type(work_orders_escalate())(overdue=0, escalated=0)
    assert SupervisorAlert.objects.count() == 0


def test_the_teams_supervisor_is_told_once_per_level(staff: Staff, mailoutbox: list[Any]) -> None:
    assigned = _pothole(150)
    work_order_assign(work_order=assigned, team=staff.team, actor=staff.supervisor)
    work_orders_escalate()

    assert supervisor_alerts_send() == 2
    assert supervisor_alerts_send() == 0  # a second drain (or a retried task) sends nothing
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == [staff.supervisor.email]
    assert f"WO-{assigned.pk}" in mail.body and "PAST TWICE THE TURNAROUND" in mail.body
    assert "overdue" in mail.body and f"/staff/workorders/{assigned.pk}" in mail.body
    assert assigned.service_request.contact_email == ""
    assert set(SupervisorAlert.objects.values_list("recipients", flat=True)) == {
        staff.supervisor.email
    }


def test_unassigned_orders_go_to_the_department_supervisors_or_its_address(
    staff: Staff, mailoutbox: list[Any]
) -> None:
    other_supervisor = user_make("ola")
    TeamMember.objects.create(
        team=staff.other_team, user=other_supervisor, role=TeamRole.SUPERVISOR
    )
    unassigned = _signal(30)  # Transportation: no team, no supervisor
    works = order_of(request_make("pothole", requested_at=timezone.now() - timedelta(hours=80)))

    work_orders_escalate()
    supervisor_alerts_send()

    by_recipients = {tuple(sorted(m.to)): m.body for m in mailoutbox}
    transportation = Department.objects.get(code="transportation")
    assert f"WO-{unassigned.pk}" in by_recipients[(transportation.contact_email,)]
    assert (
        f"WO-{works.pk}"
        in by_recipients[tuple(sorted([staff.supervisor.email, other_supervisor.email]))]
    )


def test_the_beat_task_scans_and_sends(staff: Staff, mailoutbox: list[Any]) -> None:
    _signal(30)
    result = escalate_task.apply().get()
    assert result == {"overdue": 1, "escalated": 0, "alerts_sent": 1}
    assert escalate_task.apply().get() == {"overdue": 0, "escalated": 0, "alerts_sent": 0}
    assert len(mailoutbox) == 1


def test_the_beat_schedule_runs_it_every_few_minutes(settings: Any) -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["work-orders-escalate"]
    assert entry["task"] == "workorders.tasks.work_orders_escalate"
    assert 10 <= float(entry["schedule"]) <= 600
