"""Each definition of docs/metrics.md on hand-built data whose answers are worked out by
hand, read both from the rollups and straight from the raw rows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

import pytest
from django.utils import timezone

from analytics import histogram
from analytics.generator import areas_grid
from analytics.live import live_event_name
from analytics.measures import local_today
from analytics.rollups import rollups_rebuild, rollups_refresh
from analytics.scorecard import DEFAULT_TARGETS, scorecard
from analytics.selectors import (
    Source,
    Window,
    backlog_now,
    backlog_trend,
    equity,
    hotspots,
    measures_grouped,
    overdue_list,
    percentiles_exact,
    satisfaction,
)
from backend.service_requests.models import ServiceRequest, ServiceRequestEvent
from backend.service_requests.services import do_service_request_close, do_service_request_reopen
from tests.analytics.conftest import load, local, row, type_id
from workorders.models import Feedback

pytestmark = pytest.mark.django_db

SOURCES: list[Source] = ["rollup", "raw"]


@pytest.fixture
def city(analytics_db: None) -> dict[str, Any]:
    """Pothole (Public Works) requests 10 and 9 days ago; one rodents request (Environmental
    Health) in another district; worked-out answers in the comments."""
    a = row(  # closed after 10 h, due at 72 h: on time; first response after 2 h
        requested=local(10, 8),
        status="closed",
        first_response_at=local(10, 10),
        closed_at=local(10, 18),
        expected_at=local(10, 8) + timedelta(hours=72),
    )
    b = row(  # closed after 100 h (6 days ago, 12:00), due at 72 h: late; no first response
        requested=local(10, 8),
        status="closed",
        closed_at=local(10, 8) + timedelta(hours=100),
        expected_at=local(10, 8) + timedelta(hours=72),
    )
    c = row(  # open, acknowledged after 4 h, due 3 days ago: overdue, 9 days old
        requested=local(9, 9),
        status="acknowledged",
        first_response_at=local(9, 13),
        expected_at=local(3, 9),
        priority=3,
    )
    d = row(  # open, not yet due, 9 days old
        requested=local(9, 10),
        expected_at=timezone.now() + timedelta(days=5),
    )
    e = row(  # rodents, far in the south-west corner district; open, 1 day old
        "rodents",
        requested=local(1, 12),
        lat=42.235,
        lon=-71.185,
        expected_at=local(1, 12) + timedelta(hours=240),
    )
    areas_grid(rows=5, cols=5, kind="district")
    load(a, b, c, d, e)
    rollups_rebuild()
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def _one(window: Window, source: Source, **kw: Any) -> Any:
    grouped = measures_grouped(window=window, source=source, **kw)
    assert list(grouped) == [()]
    return grouped[()]


@pytest.mark.parametrize("source", SOURCES)
def test_counts_and_on_time_share(city: dict[str, Any], source: Source) -> None:
    window = Window(local_today() - timedelta(days=12), local_today())
    m = _one(window, source)
    assert m.created == 5
    assert m.closed == 2
    assert m.closed_with_due == 2
    assert m.closed_on_time == 1
    assert m.on_time_share == 0.5
    # First responses (leaving "submitted"): a (2 h), c (4 h), and b's close (100 h): b went
    # from submitted straight to closed.
    assert m.responded == 3


@pytest.mark.parametrize("source", SOURCES)
def test_closed_counts_on_the_day_of_the_close(city: dict[str, Any], source: Source) -> None:
    by_day = measures_grouped(
        window=Window(local_today() - timedelta(days=12), local_today()),
        group_by=("day",),
        source=source,
    )
    assert by_day[(local_today() - timedelta(days=10),)].closed == 1  # a
    assert by_day[(local_today() - timedelta(days=6),)].closed == 1  # b, 100 h later
    assert by_day[(local_today() - timedelta(days=10),)].created == 2
    assert by_day[(local_today() - timedelta(days=9),)].created == 2


def test_percentiles_exact_and_from_histograms(city: dict[str, Any]) -> None:
    window = Window(local_today() - timedelta(days=12), local_today())
    exact = percentiles_exact(window=window)
    # Time to close: 10 h and 100 h. percentile_cont: p50 = 55 h, p90 = 10 + 0.9 * 90 = 91 h.
    assert exact["ttc_p50_h"] == 55.0
    assert exact["ttc_p90_h"] == 91.0
    # First response: 2, 4 and 100 h: p50 = 4 h, p85 = 4 + 0.7 * 96 = 71.2 h.
    assert exact["ttfr_p50_h"] == 4.0
    assert exact["ttfr_p85_h"] == 71.2
    m = _one(window, "rollup")
    # From the histogram: the rank-ceil(q n) value's bucket, within 9.6 % of it.
    assert m.ttc_hours(0.5) == pytest.approx(10, rel=0.096)
    assert m.ttc_hours(0.9) == pytest.approx(100, rel=0.096)
    assert m.ttfr_hours(0.5) == pytest.approx(4, rel=0.096)
    assert m.ttfr_hours(0.85) == pytest.approx(100, rel=0.096)
    # Nearest rank, the definition: the ceil(q n)-th smallest; the histograms within 1 %.
    nearest = percentiles_exact(window=window, method="nearest_rank")
    assert (nearest["ttc_p50_h"], nearest["ttc_p90_h"]) == (10.0, 100.0)
    assert (nearest["ttfr_p50_h"], nearest["ttfr_p85_h"]) == (4.0, 100.0)
    assert m.ttc_hours(0.5) == pytest.approx(10, rel=histogram.BOUND)
    assert m.ttc_hours(0.9) == pytest.approx(100, rel=histogram.BOUND)
    assert m.ttfr_hours(0.5) == pytest.approx(4, rel=histogram.BOUND)
    assert m.ttfr_hours(0.85) == pytest.approx(100, rel=histogram.BOUND)


def test_histogram_buckets_are_within_their_bound() -> None:
    for seconds in (61, 3600, 7 * 86400, 400 * 86400):
        bucket = histogram.bucket_of(seconds)
        assert abs(histogram.bucket_value(bucket) - seconds) / seconds < histogram.RATIO**0.5 - 1
    h = histogram.empty()
    for s in (100, 200, 300, 10_000):
        histogram.add(h, histogram.bucket_of(s), 1)
    assert histogram.percentile(h, 0.5) == pytest.approx(200, rel=0.1)
    assert histogram.percentile(h, 0.5) == pytest.approx(200, rel=histogram.BOUND)
    assert histogram.percentile(histogram.empty(), 0.5) is None


def test_backlog_now_open_overdue_and_age_buckets(city: dict[str, Any]) -> None:
    now = backlog_now()
    assert now["open"] == 3  # c, d, e
    assert now["overdue"] == 1  # c
    assert {b["bucket"]: b["open"] for b in now["by_age"]} == {
        "0-2": 1,  # e (1 day)
        "3-7": 0,
        "8-30": 2,  # c, d (9 days)
        "31+": 0,
    }


@pytest.mark.parametrize("source", SOURCES)
def test_backlog_trend_walks_the_net_flow(city: dict[str, Any], source: Source) -> None:
    today = local_today()
    trend = {
        r["day"]: r
        for r in backlog_trend(window=Window(today - timedelta(days=11), today), source=source)
    }
    day = lambda n: (today - timedelta(days=n)).isoformat()  # noqa: E731
    assert trend[day(11)]["backlog"] == 0
    # 10 days ago: a and b arrive, a closes: 1 open at the end of the day.
    assert trend[day(10)] | {} == trend[day(10)]
    assert (trend[day(10)]["created"], trend[day(10)]["closed"]) == (2, 1)
    assert trend[day(10)]["backlog"] == 1
    assert trend[day(9)]["backlog"] == 3  # + c, d
    assert trend[day(6)]["backlog"] == 2  # b closes
    assert trend[day(1)]["backlog"] == 3  # + e
    assert trend[day(0)]["backlog"] == 3


def test_overdue_list_is_ordered_by_age_times_priority(city: dict[str, Any]) -> None:
    late = row(requested=local(4, 9), expected_at=local(2, 9), priority=4)  # 4 days x 4
    load(late)
    rows = overdue_list(service_type_ids=[type_id("pothole")])
    assert [r["public_id"] for r in rows] == [city["c"].public_id, late.public_id]  # 27 > 16
    assert rows[0]["urgency"] == pytest.approx(rows[0]["age_days"] * 3, abs=0.02)


def test_reopen_counts_and_moves_the_close(city: dict[str, Any]) -> None:
    a = ServiceRequest.objects.get(public_id=city["a"].public_id)
    do_service_request_reopen(service_request=a, at=local(8, 9))
    do_service_request_close(service_request=a, reason="resolved", at=local(7, 9))
    rollups_refresh()
    window = Window(local_today() - timedelta(days=12), local_today())
    for source in SOURCES:
        m = _one(window, source)
        assert (m.close_events, m.reopen_events) == (3, 1)
        assert m.reopen_rate == pytest.approx(1 / 3)
        assert m.closed == 2  # a now counts once, on its last close
        by_day = measures_grouped(window=window, group_by=("day",), source=source)
        assert by_day[(local_today() - timedelta(days=10),)].closed == 0
        assert by_day[(local_today() - timedelta(days=7),)].closed == 1


def test_scorecard_ratios_against_targets(city: dict[str, Any]) -> None:
    window = Window(local_today() - timedelta(days=12), local_today())
    card = scorecard(window=window)
    works = next(d for d in card["departments"] if d["code"] == "public-works")
    indicators = {i["indicator"]: i for i in works["indicators"]}
    assert indicators["on_time"]["actual"] == 0.5
    assert indicators["on_time"]["ratio"] == round(0.5 / DEFAULT_TARGETS["on_time"], 3)
    # Closed / created: 2 close events for 4 created.
    assert indicators["close_rate"]["ratio"] == 0.5
    # First response p85 of 2, 4 and 100 h: the 100 h bucket, target 48 h: ratio about 0.48.
    assert indicators["first_response_p85"]["ratio"] == pytest.approx(0.48, rel=0.1)
    expected = (
        indicators["on_time"]["ratio"]
        + indicators["close_rate"]["ratio"]
        + cast(float, indicators["first_response_p85"]["ratio"])
    ) / 3
    assert works["score"] == pytest.approx(expected, abs=0.002)
    assert card["city"]["created"] == 5


def test_equity_by_area_and_spread(city: dict[str, Any]) -> None:
    window = Window(local_today() - timedelta(days=12), local_today())
    result = equity(window=window, metric="on_time_share")
    by_area = {r["area"]: r for r in result["areas"]}
    # Boston City Hall (42.3601, -71.0589) lies in row D (south 42.23 + 3 * 0.034), column 4.
    assert by_area["District D4"]["created"] == 4
    assert by_area["District A1"]["created"] == 1  # the rodents request
    assert result["best"] == {"area": "District D4", "value": 0.5}
    assert result["spread"] == 0.0  # one area with closed requests: best is worst


def test_hotspots_count_per_cell(city: dict[str, Any], settings: Any) -> None:
    window = Window(local_today() - timedelta(days=12), local_today())
    cells = hotspots(service_type_id=type_id("pothole"), window=window)
    assert [c["count"] for c in cells] == [4]
    size = settings.ANALYTICS_CELL_DEGREES
    west, south, east, north = cells[0]["bounds"]
    assert west <= -71.0589 < east and south <= 42.3601 < north
    assert east - west == pytest.approx(size)
    assert hotspots(service_type_id=type_id("pothole"), window=window, source="raw") == cells


def test_satisfaction_and_channel_mix(city: dict[str, Any]) -> None:
    a = ServiceRequest.objects.get(public_id=city["a"].public_id)
    close = ServiceRequestEvent.objects.get(service_request=a, to_status="closed")
    Feedback.objects.create(
        service_request=a, close_event=close, fixed=True, rating=4, created_at=local(5, 9)
    )
    b = ServiceRequest.objects.get(public_id=city["b"].public_id)
    close_b = ServiceRequestEvent.objects.get(service_request=b, to_status="closed")
    Feedback.objects.create(
        service_request=b, close_event=close_b, fixed=False, rating=2, created_at=local(5, 10)
    )
    result = satisfaction(window=Window(local_today() - timedelta(days=12), local_today()))
    assert result["feedback_answers"] == 2
    assert result["fixed_share"] == 0.5
    assert result["mean_rating"] == 3.0
    assert result["channels"] == [{"channel": "import", "created": 5, "share": 1.0}]


def test_which_events_count() -> None:
    assert live_event_name(kind="created", from_status="", to_status="submitted") == "created"
    assert (
        live_event_name(kind="status_changed", from_status="in_progress", to_status="closed")
        == "closed"
    )
    assert (
        live_event_name(kind="status_changed", from_status="closed", to_status="in_progress")
        == "reopened"
    )
    assert (
        live_event_name(kind="status_changed", from_status="submitted", to_status="acknowledged")
        == "responded"
    )
    assert (
        live_event_name(kind="status_changed", from_status="acknowledged", to_status="in_progress")
        is None
    )
    assert live_event_name(kind="note", from_status="", to_status="") is None


def test_score_targets_are_edited_in_the_admin(admin_client: Any, analytics_db: None) -> None:
    from analytics.models import ScoreTarget

    target = ScoreTarget.objects.create(indicator="on_time", target=0.9)
    assert admin_client.get("/admin/analytics/scoretarget/").status_code == 200
    assert admin_client.get(f"/admin/analytics/scoretarget/{target.pk}/change/").status_code == 200
    window = Window(local_today() - timedelta(days=1), local_today())
    city = scorecard(window=window)["city"]
    assert next(i for i in city["indicators"] if i["indicator"] == "on_time")["target"] == 0.9
