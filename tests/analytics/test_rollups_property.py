"""Property: after any mix of arrivals, first responses, closes and reopens on past days and
today, the incrementally refreshed rollups give exactly what the raw rows give."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import histogram
from analytics.generator import areas_grid
from analytics.measures import local_today
from analytics.models import (
    AreaDailyRollup,
    CellDailyRollup,
    RollupState,
    ServiceDailyRollup,
    TypeDailyRollup,
)
from analytics.rollups import live_from, rollups_rebuild, rollups_refresh
from analytics.selectors import Window, hotspots, measures_grouped
from backend.service_requests.models import ServiceRequest
from backend.service_requests.services import (
    IllegalTransition,
    do_service_request_close,
    do_service_request_reopen,
    service_request_acknowledge,
    service_request_start,
)
from tests.analytics.conftest import load, local, row, type_id
from tests.factories import submit

pytestmark = pytest.mark.django_db

CODES = ["pothole", "graffiti", "rodents"]
CHANNELS = ["app", "web", "phone"]
ACTIONS = {
    "acknowledge": service_request_acknowledge,
    "start": service_request_start,
    "reopen": do_service_request_reopen,
}

arrival = st.tuples(
    st.sampled_from(CODES),
    st.sampled_from(CHANNELS),
    st.integers(min_value=1, max_value=9),  # days ago
    st.floats(min_value=0, max_value=23.5),  # hour
    st.floats(min_value=42.24, max_value=42.39),
    st.floats(min_value=-71.18, max_value=-71.0),
)
change = st.tuples(
    st.integers(min_value=0, max_value=40),  # which request (modulo)
    st.sampled_from(["acknowledge", "start", "close", "reopen"]),
    st.floats(min_value=0.1, max_value=60),  # hours after the request's last change
)


def _clear() -> None:
    ServiceRequest.objects.all().delete()
    TypeDailyRollup.objects.all().delete()
    ServiceDailyRollup.objects.all().delete()
    AreaDailyRollup.objects.all().delete()
    CellDailyRollup.objects.all().delete()
    RollupState.objects.all().delete()


def _assert_rollups_equal_raw() -> None:
    window = Window(local_today() - timedelta(days=14), local_today())
    for group_by in (("day", "service_type", "channel"), ("day", "service_type", "area")):
        from_rollups = measures_grouped(window=window, group_by=group_by)
        from_raw = measures_grouped(window=window, group_by=group_by, source="raw")
        assert from_rollups == from_raw
    # The service rollup: by day its days' histograms, otherwise the running totals' difference
    # (windows starting on the first day, and later).
    for first in (14, 5, 3):
        window = Window(local_today() - timedelta(days=first), local_today())
        groupings: tuple[tuple[str, ...], ...] = ((), ("department",), ("service_type",), ("day",))
        for service_group_by in groupings:
            from_rollups = measures_grouped(window=window, group_by=service_group_by)
            assert from_rollups == measures_grouped(
                window=window, group_by=service_group_by, source="raw"
            )
    for code in CODES:
        assert hotspots(service_type_id=type_id(code), window=window) == hotspots(
            service_type_id=type_id(code), window=window, source="raw"
        )


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    arrivals=st.lists(arrival, min_size=1, max_size=8),
    changes=st.lists(change, max_size=25),
    submitted_now=st.integers(min_value=0, max_value=2),
)
def test_refreshed_rollups_equal_the_raw_computation(
    analytics_db: None, arrivals: list[Any], changes: list[Any], submitted_now: int
) -> None:
    _clear()
    if not RollupState.objects.exists():
        areas_grid(rows=3, cols=3, kind="district")
    rollups_rebuild()
    rows = [
        row(code, requested=local(days, hour), lat=lat, lon=lon, channel=channel)
        for code, channel, days, hour, lat, lon in arrivals
    ]
    load(*rows)
    for i in range(submitted_now):  # through the intake pipeline, today
        submit("graffiti", lat=42.30 + i * 0.01, long=-71.1, channel="web")
    rollups_refresh()
    _assert_rollups_equal_raw()

    requests = list(ServiceRequest.objects.order_by("id"))
    last: dict[int, datetime] = {r.pk: r.requested_at for r in requests}
    now = timezone.now()
    # Refreshed after every few changes: a reopen then undoes a close already rolled up.
    for step, (which, action, hours) in enumerate(changes, 1):
        target = requests[which % len(requests)]
        at = min(last[target.pk] + timedelta(hours=hours), now - timedelta(seconds=1))
        current = ServiceRequest.objects.get(pk=target.pk)
        try:
            if action == "close":
                do_service_request_close(service_request=current, reason="resolved", at=at)
            else:
                ACTIONS[action](service_request=current, at=at)
        except IllegalTransition:
            continue
        last[target.pk] = at
        if step % 4 == 0:
            rollups_refresh()
            _assert_rollups_equal_raw()
    rollups_refresh()
    _assert_rollups_equal_raw()


def test_a_reopen_takes_the_request_out_of_an_earlier_days_closes(analytics_db: None) -> None:
    rollups_rebuild()
    load(row(requested=local(8, 9)))
    request = ServiceRequest.objects.get()
    do_service_request_close(service_request=request, reason="resolved", at=local(6, 9))
    rollups_refresh()
    _assert_rollups_equal_raw()
    do_service_request_reopen(service_request=request, at=local(3, 9))
    rollups_refresh()
    _assert_rollups_equal_raw()
    window = Window(local_today() - timedelta(days=6), local_today() - timedelta(days=6))
    assert measures_grouped(window=window)[()].closed == 0
    assert measures_grouped(window=window)[()].close_events == 1


def test_rollups_of_another_bucket_ratio_are_read_raw_then_rebuilt(analytics_db: None) -> None:
    load(row(requested=local(8, 9)), row("graffiti", requested=local(5, 9)))
    request = ServiceRequest.objects.filter(service_type_id=type_id("pothole")).get()
    do_service_request_close(service_request=request, reason="resolved", at=local(6, 9))
    rollups_rebuild()
    assert live_from() == local_today()
    # As migration 0005 leaves an install with ratio-1.2 rollups: no ratio recorded.
    RollupState.objects.update(histogram_ratio=0)
    ServiceDailyRollup.objects.update(ttc_hist=[1, 5], ttc_cum=[1, 5])
    assert live_from() == date.min  # every day computed from the raw rows
    _assert_rollups_equal_raw()
    report = rollups_refresh()  # the next refresh rebuilds every day with data
    assert report.days[0] == local_today() - timedelta(days=8)
    assert report.days[-1] == local_today() - timedelta(days=5)
    assert RollupState.objects.get().histogram_ratio == histogram.RATIO
    assert live_from() == local_today()
    _assert_rollups_equal_raw()
