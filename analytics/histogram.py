"""Mergeable histograms of durations (seconds) for percentiles over rollups.

Bucket 0 holds durations under one minute (negative ones included: clocks of imported data);
bucket ``i >= 1`` holds ``[60 * RATIO ** (i - 1), 60 * RATIO ** i)``; the last bucket is open
ended (about 7 years and over). Histograms of any rows add up element by element, so a window's
histogram is the sum of its days'. A percentile read from a histogram is the geometric middle
of the bucket it falls in: within ``sqrt(RATIO) - 1`` (about 9.5 %) of the exact value for
durations over a minute (docs/metrics.md, "Percentiles")."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from operator import add

RATIO = 1.2
BUCKETS = 96
FIRST_EDGE_S = 60.0

# The same expression in SQL (``%s`` is the duration in seconds, a double precision).
SQL_BUCKET = (
    f"CASE WHEN {{secs}} < {FIRST_EDGE_S} THEN 0 "
    f"ELSE LEAST({BUCKETS - 1}, 1 + floor(ln({{secs}} / {FIRST_EDGE_S}) / ln({RATIO})))::int END"
)


def sql_bucket(secs: str) -> str:
    return SQL_BUCKET.format(secs=secs)


def bucket_of(seconds: float) -> int:
    if seconds < FIRST_EDGE_S:
        return 0
    return min(BUCKETS - 1, 1 + math.floor(math.log(seconds / FIRST_EDGE_S) / math.log(RATIO)))


def empty() -> list[int]:
    return [0] * BUCKETS


def merge_into(total: list[int], other: Sequence[int] | None) -> None:
    """Adds ``other`` (possibly shorter: trailing zeros left out) into ``total``."""
    if other:
        n = len(other)
        total[:n] = map(add, total[:n], other)


def merged(histograms: Iterable[Sequence[int] | None]) -> list[int]:
    total = empty()
    for h in histograms:
        merge_into(total, h)
    return total


def bucket_value(index: int) -> float:
    """The representative duration of a bucket (seconds)."""
    if index == 0:
        return FIRST_EDGE_S / 2
    low = FIRST_EDGE_S * RATIO ** (index - 1)
    return low * math.sqrt(RATIO)


def percentile(histogram: Sequence[int], q: float) -> float | None:
    """The q-quantile (0 < q <= 1) in seconds, or None for an empty histogram: the bucket
    holding the ceil(q * n)-th smallest duration, read at its geometric middle."""
    n = sum(histogram)
    if n == 0:
        return None
    rank = max(1, math.ceil(q * n))
    seen = 0
    for i, count in enumerate(histogram):
        seen += count
        if seen >= rank:
            return bucket_value(i)
    return bucket_value(len(histogram) - 1)
