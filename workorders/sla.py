"""SLA clocks: when is a request due, given its service type's turnaround.

Calendar hours are plain elapsed time. Business hours count only the department's working
time (Monday to Friday, 08:00-17:00 in its own time zone), stepping day by day in local time
so daylight-saving changes are handled by ``zoneinfo``. The work-order issue will make the
opening hours and public holidays data per department.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

OPENING = time(8, 0)
CLOSING = time(17, 0)
WORKING_DAYS = frozenset({0, 1, 2, 3, 4})  # Monday..Friday


def due_at_compute(
    *, start: datetime, hours: int, business_hours: bool, time_zone: str
) -> datetime:
    if start.tzinfo is None:
        raise ValueError("start must be timezone-aware")
    if not business_hours:
        # Elapsed time: add in UTC (adding to a local time would add wall-clock hours).
        return (start.astimezone(UTC) + timedelta(hours=hours)).astimezone(start.tzinfo)
    zone = ZoneInfo(time_zone)
    remaining = timedelta(hours=hours)
    local = start.astimezone(zone)
    day = local.date()
    cursor = local
    while True:
        if day.weekday() in WORKING_DAYS:
            opens = datetime.combine(day, OPENING, tzinfo=zone)
            closes = datetime.combine(day, CLOSING, tzinfo=zone)
            begin = max(cursor, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return (begin.astimezone(UTC) + remaining).astimezone(start.tzinfo)
                remaining -= available
        day += timedelta(days=1)
        cursor = datetime.combine(day, time(0, 0), tzinfo=zone)
