"""Due times from a turnaround: calendar hours, and business hours across weekends and DST."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from workorders.sla import due_at_compute

NY = ZoneInfo("America/New_York")


def _due(start: datetime, hours: int, business: bool) -> datetime:
    return due_at_compute(
        start=start, hours=hours, business_hours=business, time_zone="America/New_York"
    ).astimezone(NY)


def test_calendar_hours_are_elapsed_time_even_across_dst() -> None:
    # 2026-11-01 02:00 EDT -> EST: 24 elapsed hours end at 23:00 local, not 00:00.
    start = datetime(2026, 10, 31, 23, 0, tzinfo=NY)
    assert _due(start, 24, False) == datetime(2026, 11, 1, 22, 0, tzinfo=NY)


@pytest.mark.parametrize(
    ("start", "hours", "due"),
    [
        # Within one working day.
        (datetime(2026, 11, 18, 9, 0), 3, datetime(2026, 11, 18, 12, 0)),
        # Friday afternoon rolls over the weekend to Monday.
        (datetime(2026, 11, 20, 15, 0), 4, datetime(2026, 11, 23, 10, 0)),
        # Submitted on Saturday: the clock starts Monday 08:00.
        (datetime(2026, 11, 21, 11, 0), 9, datetime(2026, 11, 23, 17, 0)),
        # Submitted at night: starts next morning.
        (datetime(2026, 11, 18, 22, 0), 1, datetime(2026, 11, 19, 9, 0)),
        # Across the DST change (Sunday 2026-03-08): opening hours stay 08:00-17:00 local.
        (datetime(2026, 3, 6, 16, 0), 2, datetime(2026, 3, 9, 9, 0)),
    ],
)
def test_business_hours(start: datetime, hours: int, due: datetime) -> None:
    assert _due(start.replace(tzinfo=NY), hours, True) == due.replace(tzinfo=NY)


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError):
        due_at_compute(start=datetime(2026, 1, 1), hours=1, business_hours=False, time_zone="UTC")
