"""Due times from a turnaround: calendar hours, and business hours on a department's own
calendar (opening hours per weekday, holidays, its time zone) across weekends, holidays and
daylight-saving changes."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.catalog.models import Department
from workorders.models import OpeningHours, PublicHoliday
from workorders.selectors import business_calendar_get
from workorders.sla import (
    BusinessCalendar,
    business_add,
    business_between,
    calendar_default,
    due_at_compute,
)

NY = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
DEFAULT = calendar_default("America/New_York")


def _due(start: datetime, hours: int, business: bool) -> datetime:
    return due_at_compute(
        start=start, hours=hours, business_hours=business, time_zone="America/New_York"
    ).astimezone(NY)


def _ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=NY)


def test_calendar_hours_are_elapsed_time_even_across_dst() -> None:
    # 2026-11-01 02:00 EDT -> EST: 24 elapsed hours end at 22:00 local, not 23:00.
    start = _ny(2026, 10, 31, 23, 0)
    assert _due(start, 24, False) == _ny(2026, 11, 1, 22, 0)
    # Spring forward (2026-03-08): 24 elapsed hours from Saturday 12:00 end Sunday 13:00.
    assert _due(_ny(2026, 3, 7, 12, 0), 24, False) == _ny(2026, 3, 8, 13, 0)


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
        # And back (Sunday 2026-11-01).
        (datetime(2026, 10, 30, 16, 0), 2, datetime(2026, 11, 2, 9, 0)),
        # Exactly the day's hours: due at closing, not the next morning.
        (datetime(2026, 11, 18, 8, 0), 9, datetime(2026, 11, 18, 17, 0)),
        # A week of working time.
        (datetime(2026, 11, 16, 8, 0), 45, datetime(2026, 11, 20, 17, 0)),
    ],
)
def test_business_hours_on_the_default_calendar(start: datetime, hours: int, due: datetime) -> None:
    assert _due(start.replace(tzinfo=NY), hours, True) == due.replace(tzinfo=NY)


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        due_at_compute(start=datetime(2026, 1, 1), hours=1, business_hours=False, time_zone="UTC")


def test_holidays_are_skipped() -> None:
    calendar = BusinessCalendar(
        time_zone="America/New_York",
        holidays=frozenset({date(2026, 11, 26), date(2026, 11, 27)}),  # Thanksgiving + Friday
    )
    start = _ny(2026, 11, 25, 15, 0)  # Wednesday 15:00: 2 hours left that day
    due = business_add(start=start, duration=timedelta(hours=4), calendar=calendar)
    assert due.astimezone(NY) == _ny(2026, 11, 30, 10, 0)  # the Monday after


def test_split_days_and_weekend_hours() -> None:
    calendar = BusinessCalendar(
        time_zone="America/New_York",
        hours={
            0: ((time(7), time(11)), (time(12), time(16))),  # Monday with a lunch break
            5: ((time(9), time(13)),),  # Saturday morning
        },
    )
    monday = _ny(2026, 11, 16, 10, 0)
    assert business_add(start=monday, duration=timedelta(hours=2), calendar=calendar) == _ny(
        2026, 11, 16, 13, 0
    )
    # 6 hours from Monday 10:00: 1 h before lunch, 4 h after, then Saturday 09:00 + 1 h.
    assert business_add(start=monday, duration=timedelta(hours=6), calendar=calendar) == _ny(
        2026, 11, 21, 10, 0
    )


def test_a_round_the_clock_day_is_23_hours_when_clocks_spring_forward() -> None:
    every_day = {weekday: ((time(0), time(0)),) for weekday in range(7)}  # 00:00-24:00
    calendar = BusinessCalendar(time_zone="America/New_York", hours=every_day)
    sunday = _ny(2026, 3, 8, 0, 0)
    due = business_add(start=sunday, duration=timedelta(hours=24), calendar=calendar)
    assert due.astimezone(NY) == _ny(2026, 3, 9, 1, 0)
    assert business_between(start=sunday, end=_ny(2026, 3, 9, 0, 0), calendar=calendar) == (
        timedelta(hours=23)
    )
    # ...and 25 hours when they fall back.
    fall = _ny(2026, 11, 1, 0, 0)
    assert business_between(start=fall, end=_ny(2026, 11, 2, 0, 0), calendar=calendar) == (
        timedelta(hours=25)
    )


def test_a_department_in_another_time_zone_counts_its_own_hours() -> None:
    calendar = calendar_default("Europe/London")
    # 12:00 in New York is 17:00 in London: closing time there. Two hours start next morning.
    start = _ny(2026, 11, 18, 12, 0)
    due = business_add(start=start, duration=timedelta(hours=2), calendar=calendar)
    assert due.astimezone(LONDON) == datetime(2026, 11, 19, 10, 0, tzinfo=LONDON)
    assert due.tzinfo == NY  # answered in the zone it was asked in


def test_europe_changes_clocks_on_another_weekend() -> None:
    calendar = calendar_default("Europe/London")
    # London falls back on 2026-10-25; opening hours stay 08:00-17:00 local.
    friday = datetime(2026, 10, 23, 16, 0, tzinfo=LONDON)
    due = business_add(start=friday, duration=timedelta(hours=3), calendar=calendar)
    assert due == datetime(2026, 10, 26, 10, 0, tzinfo=LONDON)


def test_business_time_between_two_moments() -> None:
    friday_afternoon = _ny(2026, 11, 20, 15, 0)
    monday_morning = _ny(2026, 11, 23, 10, 30)
    assert business_between(start=friday_afternoon, end=monday_morning, calendar=DEFAULT) == (
        timedelta(hours=4, minutes=30)
    )
    assert business_between(start=monday_morning, end=friday_afternoon, calendar=DEFAULT) == (
        timedelta(0)
    )
    # A night and a weekend contain no working time.
    assert business_between(
        start=_ny(2026, 11, 20, 17, 0), end=_ny(2026, 11, 23, 8, 0), calendar=DEFAULT
    ) == timedelta(0)


def test_adding_what_was_between_gets_back_to_the_end() -> None:
    start, end = _ny(2026, 3, 5, 9, 15), _ny(2026, 3, 12, 14, 45)  # across the DST change
    worked = business_between(start=start, end=end, calendar=DEFAULT)
    assert business_add(start=start, duration=worked, calendar=DEFAULT) == end


def test_a_calendar_without_hours_is_refused() -> None:
    with pytest.raises(ValueError, match="no opening hours"):
        business_add(
            start=_ny(2026, 1, 1, 9, 0),
            duration=timedelta(hours=1),
            calendar=BusinessCalendar(time_zone="America/New_York", hours={}),
        )
    with pytest.raises(ValueError, match="closes before it opens"):
        BusinessCalendar(time_zone="UTC", hours={0: ((time(17), time(8)),)})


@pytest.mark.django_db
def test_the_department_calendar_comes_from_its_data(catalog: None) -> None:
    works = Department.objects.get(code="public-works")
    sanitation = Department.objects.get(code="sanitation")
    assert business_calendar_get(department=works).hours == DEFAULT.hours  # nothing set
    OpeningHours.objects.create(department=works, weekday=0, opens=time(6), closes=time(14))
    OpeningHours.objects.create(department=works, weekday=5, opens=time(7), closes=time(11))
    PublicHoliday.objects.create(department=None, date=date(2026, 12, 25), name="Christmas")
    PublicHoliday.objects.create(department=works, date=date(2026, 11, 23), name="Depot day")
    PublicHoliday.objects.create(department=sanitation, date=date(2026, 11, 24), name="Other")

    calendar = business_calendar_get(department=works)

    assert calendar.time_zone == works.time_zone
    assert calendar.hours == {0: ((time(6), time(14)),), 5: ((time(7), time(11)),)}
    assert calendar.holidays == {date(2026, 12, 25), date(2026, 11, 23)}
    # Saturday 21 Nov 10:00 + 3 h: 1 h on Saturday; Monday 23 is the depot's day off; next
    # Saturday 28 Nov 07:00 + 2 h.
    due = business_add(
        start=_ny(2026, 11, 21, 10, 0), duration=timedelta(hours=3), calendar=calendar
    )
    assert due == _ny(2026, 11, 28, 9, 0)
