"""On hold pauses the SLA clock: on resume the due times (and the resident's expected date)
move by the time paused, in the order's own unit (calendar or business hours)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from backend.catalog.models import ServiceType
from tests.workorders.factories import Staff, order_of, request_make
from workorders.models import HoldReason, WorkOrderEvent, WorkOrderHold, WorkOrderStatus
from workorders.services import (
    work_order_assign,
    work_order_hold,
    work_order_resume,
    work_order_start,
)

NY = ZoneInfo("America/New_York")
pytestmark = pytest.mark.django_db


def test_a_hold_in_calendar_hours_moves_the_due_time_by_the_time_paused(staff: Staff) -> None:
    start = datetime(2026, 11, 16, 9, 0, tzinfo=NY)
    with time_machine.travel(start, tick=False) as clock:
        sr = request_make("pothole", requested_at=start)  # 72 calendar hours
        order = order_of(sr)
        assert order.due_at == start + timedelta(hours=72)
        work_order_assign(work_order=order, team=staff.team, actor=staff.supervisor)
        work_order_start(work_order=order, actor=staff.crew)
        clock.shift(timedelta(hours=2))
        work_order_hold(work_order=order, reason=HoldReason.PARTS, note="Asphalt", actor=staff.crew)
        clock.shift(timedelta(hours=10))

        resumed = work_order_resume(work_order=order, actor=staff.crew)

    assert resumed.status == WorkOrderStatus.IN_PROGRESS
    assert resumed.due_at == start + timedelta(hours=82)
    assert resumed.escalate_again_at == start + timedelta(hours=154)
    hold = WorkOrderHold.objects.get(work_order=order)
    assert (hold.reason, hold.note, hold.paused_seconds) == ("parts", "Asphalt", 36000)
    event = WorkOrderEvent.objects.get(work_order=order, kind="resumed")
    assert event.data["paused_seconds"] == 36000
    sr.refresh_from_db()
    assert sr.expected_at == resumed.due_at  # the resident's date moves too


def test_a_hold_in_business_hours_counts_only_working_time(staff: Staff) -> None:
    ServiceType.objects.filter(service_code="pothole").update(
        turnaround_hours=16, turnaround_business_hours=True
    )
    friday = datetime(2026, 11, 20, 15, 0, tzinfo=NY)
    with time_machine.travel(friday, tick=False) as clock:
        order = order_of(request_make("pothole", requested_at=friday))
        # Fri 15-17 (2 h) + Mon (9 h) + Tue 08-13 (5 h).
        assert order.due_at == datetime(2026, 11, 24, 13, 0, tzinfo=NY)
        work_order_assign(work_order=order, team=staff.team, actor=staff.supervisor)
        clock.shift(timedelta(hours=1))  # Friday 16:00
        work_order_hold(work_order=order, reason=HoldReason.WEATHER, actor=staff.crew)
        clock.move_to(datetime(2026, 11, 23, 9, 30, tzinfo=NY))  # Monday 09:30

        resumed = work_order_resume(work_order=order, actor=staff.crew)

    # Paused: Friday 16-17 and Monday 08-09:30, 2.5 working hours; the weekend does not count.
    assert WorkOrderHold.objects.get(work_order=order).paused_seconds == 9000
    assert resumed.status == WorkOrderStatus.ASSIGNED  # held before it was started
    assert resumed.due_at == datetime(2026, 11, 24, 15, 30, tzinfo=NY)


def test_each_hold_is_its_own_row_and_they_add_up(staff: Staff) -> None:
    start = datetime(2026, 11, 16, 9, 0, tzinfo=NY)
    with time_machine.travel(start, tick=False) as clock:
        order = order_of(request_make("pothole", requested_at=start))
        work_order_assign(work_order=order, team=staff.team, actor=staff.supervisor)
        for hours in (1, 3):
            work_order_hold(work_order=order, reason=HoldReason.ACCESS, actor=staff.crew)
            clock.shift(timedelta(hours=hours))
            order = work_order_resume(work_order=order, actor=staff.crew)
    assert list(
        WorkOrderHold.objects.filter(work_order=order).values_list("paused_seconds", flat=True)
    ) == [3600, 10800]
    assert order.due_at == start + timedelta(hours=76)
