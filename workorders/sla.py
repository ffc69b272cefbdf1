"""SLA clocks: due times from a turnaround, in calendar hours or in a department's business
hours, and the time a hold paused.

Calendar hours are elapsed time. Business hours count only the department's opening hours
(per weekday, possibly several intervals a day), skipping its public holidays, in the
department's own time zone. Each opening interval is built in local time with ``zoneinfo``
and turned into UTC before any arithmetic: Python subtracts two datetimes of the same zone by
wall clock, which would make the night clocks change an hour too long or too short.

Pure functions of their arguments; ``workorders.selectors.business_calendar_get`` builds a
department's ``BusinessCalendar`` from the database.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MIDNIGHT = time(0, 0)
# How far ahead to look for working time before concluding there is none.
SEARCH_DAYS = 5 * 366

Interval = tuple[time, time]  # (opens, closes); closes 00:00 means midnight


def _default_hours() -> dict[int, tuple[Interval, ...]]:
    return {weekday: ((time(8, 0), time(17, 0)),) for weekday in range(5)}


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening intervals per weekday (0 = Monday) and the days off, in ``time_zone``."""

    time_zone: str
    hours: Mapping[int, tuple[Interval, ...]] = field(default_factory=_default_hours)
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)  # fails loudly on an unknown zone
        for weekday, intervals in self.hours.items():
            if weekday not in range(7):
                raise ValueError(f"weekday {weekday} is not 0..6")
            for opens, closes in intervals:
                if closes != MIDNIGHT and closes <= opens:
                    raise ValueError(f"interval {opens}-{closes} closes before it opens")

    @property
    def has_working_time(self) -> bool:
        return any(self.hours.get(weekday) for weekday in range(7))


def calendar_default(time_zone: str) -> BusinessCalendar:
    """Monday to Friday, 08:00-17:00, no holidays: a department that set no hours."""
    return BusinessCalendar(time_zone=time_zone)


def _aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")


def _day_intervals(calendar: BusinessCalendar, day: date) -> Iterator[tuple[datetime, datetime]]:
    """The working intervals of one local day, in UTC, in order."""
    if day in calendar.holidays:
        return
    zone = ZoneInfo(calendar.time_zone)
    for opens, closes in sorted(calendar.hours.get(day.weekday(), ())):
        begin = datetime.combine(day, opens, tzinfo=zone)
        end_day = day + timedelta(days=1) if closes == MIDNIGHT else day
        end = datetime.combine(end_day, closes, tzinfo=zone)
        yield begin.astimezone(UTC), end.astimezone(UTC)


def business_add(*, start: datetime, duration: timedelta, calendar: BusinessCalendar) -> datetime:
    """The moment ``duration`` of working time after ``start`` (in ``start``'s zone)."""
    _aware(start, "start")
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    if not calendar.has_working_time:
        raise ValueError("the calendar has no opening hours")
    cursor = start.astimezone(UTC)
    remaining = duration
    day = start.astimezone(ZoneInfo(calendar.time_zone)).date()
    for _ in range(SEARCH_DAYS):
        for opens, closes in _day_intervals(calendar, day):
            begin = max(cursor, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return (begin + remaining).astimezone(start.tzinfo)
                remaining -= available
        day += timedelta(days=1)
    raise ValueError(f"no working time in the {SEARCH_DAYS} days after {start.isoformat()}")


def business_between(*, start: datetime, end: datetime, calendar: BusinessCalendar) -> timedelta:
    """The working time between two moments (zero when ``end`` is not after ``start``)."""
    _aware(start, "start")
    _aware(end, "end")
    first, last = start.astimezone(UTC), end.astimezone(UTC)
    total = timedelta(0)
    if last <= first:
        return total
    zone = ZoneInfo(calendar.time_zone)
    day = first.astimezone(zone).date()
    last_day = last.astimezone(zone).date()
    while day <= last_day:
        for opens, closes in _day_intervals(calendar, day):
            overlap = min(closes, last) - max(opens, first)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


def duration_add(
    *, start: datetime, duration: timedelta, business_hours: bool, calendar: BusinessCalendar
) -> datetime:
    """``start`` plus ``duration`` of elapsed time, or of working time on ``calendar``."""
    _aware(start, "start")
    if business_hours:
        return business_add(start=start, duration=duration, calendar=calendar)
    # Elapsed time: add in UTC (adding to a local time would add wall-clock hours).
    return (start.astimezone(UTC) + duration).astimezone(start.tzinfo)


def duration_between(
    *, start: datetime, end: datetime, business_hours: bool, calendar: BusinessCalendar
) -> timedelta:
    """Elapsed or working time between two moments (never negative)."""
    if business_hours:
        return business_between(start=start, end=end, calendar=calendar)
    _aware(start, "start")
    _aware(end, "end")
    return max(timedelta(0), end - start)


def due_at_compute(
    *,
    start: datetime,
    hours: int,
    business_hours: bool,
    time_zone: str,
    calendar: BusinessCalendar | None = None,
) -> datetime:
    """When a turnaround of ``hours`` starting at ``start`` ends. Without a ``calendar``,
    business hours are the default Monday-Friday 08:00-17:00 in ``time_zone``."""
    return duration_add(
        start=start,
        duration=timedelta(hours=hours),
        business_hours=business_hours,
        calendar=calendar or calendar_default(time_zone),
    )
