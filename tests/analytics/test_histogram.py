"""The percentile sketch (analytics.histogram, docs/metrics.md "Percentiles"): a percentile read
from a histogram is within histogram.BOUND (under 1 %) of the exact nearest-rank value, and
histograms add up exactly, day by day or through running totals."""

from __future__ import annotations

import math
import random

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics import histogram

QUANTILES = (0.5, 0.85, 0.9)
MINUTE, HOUR, DAY, YEAR = 60.0, 3600.0, 86400.0, 365 * 86400.0


def _nearest_rank(durations: list[float], q: float) -> float:
    ordered = sorted(durations)
    return ordered[max(1, math.ceil(q * len(ordered))) - 1]


def _histogram(durations: list[float]) -> histogram.Histogram:
    return histogram.from_pairs((histogram.bucket_of(s), 1) for s in durations)


# Shapes of durations (seconds): under a minute, log-normal around hours or days, heavy tails
# past a year, all alike, two far apart modes, integers of whole minutes.
SHAPES = {
    "under a minute": lambda r: r.uniform(1, 59.999),
    "log-normal, hours": lambda r: r.lognormvariate(math.log(5 * HOUR), 1.2),
    "log-normal, days": lambda r: r.lognormvariate(math.log(3 * DAY), 0.8),
    "heavy tail past a year": lambda r: min(10 * YEAR, 30 * r.paretovariate(0.35)),
    "over a year": lambda r: r.uniform(1 * YEAR, 3 * YEAR),
    "whole minutes": lambda r: 60.0 * r.randint(1, 600),
    "two modes": lambda r: r.choice([r.uniform(30, 300), r.uniform(30 * DAY, 90 * DAY)]),
    "sub-second and zero": lambda r: r.choice([0.0, r.uniform(0, 0.999), r.uniform(1, 5)]),
}


@settings(max_examples=200, deadline=None)
@given(
    shapes=st.lists(st.sampled_from(sorted(SHAPES)), min_size=1, max_size=3),
    n=st.integers(min_value=1, max_value=3000),
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    same=st.integers(min_value=0, max_value=5),
)
def test_a_percentile_is_within_the_bound_of_the_exact_nearest_rank_value(
    shapes: list[str], n: int, seed: int, same: int
) -> None:
    rnd = random.Random(seed)
    durations = [SHAPES[rnd.choice(shapes)](rnd) for _ in range(n)]
    durations += durations[:same]  # ties
    h = _histogram(durations)
    for q, value in zip(QUANTILES, histogram.percentiles(h, QUANTILES), strict=True):
        exact = _nearest_rank(durations, q)
        assert value is not None
        if exact >= histogram.FIRST_EDGE_S:
            assert abs(value - exact) <= histogram.BOUND * exact * (1 + 1e-9), (q, exact, value)
        else:  # under a second reads 0 s
            assert value == 0.0
        assert histogram.percentile(h, q) == value


def test_the_bound_is_under_one_percent() -> None:
    assert histogram.BOUND < 0.01
    assert histogram.bucket_value(histogram.BUCKETS - 1) > 19 * YEAR


@pytest.mark.django_db
def test_the_sql_bucket_is_the_python_bucket() -> None:
    rnd = random.Random(311)
    durations = [-5.0, 0.0, 0.5, 1.0, 59.0, 60.0, 3600.0, 86400.0, 400 * DAY, 25 * YEAR]
    durations += [rnd.lognormvariate(math.log(DAY), 3) for _ in range(3000)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {histogram.sql_bucket('v')} FROM unnest(%s::float8[]) WITH ORDINALITY u(v, k)"
            " ORDER BY k",
            [durations],
        )
        in_sql = [r[0] for r in cursor.fetchall()]
    assert in_sql == [histogram.bucket_of(s) for s in durations]


@settings(max_examples=100, deadline=None)
@given(
    days=st.lists(
        st.lists(st.floats(min_value=-10, max_value=5 * YEAR), max_size=60), min_size=1, max_size=12
    ),
    first=st.integers(min_value=0, max_value=11),
    length=st.integers(min_value=1, max_value=12),
)
def test_day_histograms_add_up_to_the_histogram_of_all_rows(
    days: list[list[float]], first: int, length: int
) -> None:
    packed = [histogram.pack(_histogram(d)) for d in days]
    assert [histogram.unpack(p) for p in packed] == [_histogram(d) for d in days]
    everything = _histogram([s for d in days for s in d])
    assert histogram.merged(histogram.unpack(p) for p in packed) == everything
    total = histogram.Accumulator()
    for p in packed:
        total.add_packed(p)
    assert total.histogram() == everything
    # Running totals (the service rollup's): a window is the difference of two of them.
    running, cumulative = histogram.Accumulator(), []
    for p in packed:
        running.add_packed(p)
        cumulative.append(running.packed())
    last = min(len(days), first + length) - 1
    first = min(first, last)
    window = _histogram([s for d in days[first : last + 1] for s in d])
    before = cumulative[first - 1] if first else []
    assert histogram.difference(cumulative[last], before) == window
