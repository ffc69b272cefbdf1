"""Mergeable histograms of durations (seconds) for percentiles over rollups (ADR 0023).

Bucket 0 holds durations under one second (zero and negative ones included: clocks of imported
data); bucket ``i >= 1`` holds ``[RATIO ** (i - 1), RATIO ** i)`` seconds; the last bucket is
open ended (about 19 years and over). A histogram is a ``dict`` from bucket to count (only the
buckets that hold something), so a day's histogram is as small as its distinct durations.
Histograms of any rows add up bucket by bucket, so a window's histogram is the sum of its days'.

A percentile read from a histogram is nearest-rank: the bucket holding the ``ceil(q * n)``-th
smallest duration, read at its geometric middle, ``RATIO ** (i - 1) * sqrt(RATIO)``: within
``sqrt(RATIO) - 1`` (0.995 %) of that duration for durations of a second and more; bucket 0
reads 0 s (docs/metrics.md, "Percentiles").

Stored in a rollup row's integer array, packed: ``[first bucket, its count, the next bucket's
count, ..., the last non-empty bucket's count]`` (the empty histogram: ``[]``)."""

from __future__ import annotations

import math
import operator
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from itertools import accumulate, islice

RATIO = 1.02
BUCKETS = 1024
FIRST_EDGE_S = 1.0
# The largest relative error of a percentile, for durations of FIRST_EDGE_S and more.
BOUND = math.sqrt(RATIO) - 1

Histogram = dict[int, int]

# The same expression in SQL (``{secs}`` is the duration in seconds, a double precision).
SQL_BUCKET = (
    f"CASE WHEN {{secs}} < {FIRST_EDGE_S} THEN 0 "
    f"ELSE LEAST({BUCKETS - 1}, 1 + floor(ln({{secs}}) / ln({RATIO})))::int END"
)


def sql_bucket(secs: str) -> str:
    return SQL_BUCKET.format(secs=secs)


def bucket_of(seconds: float) -> int:
    if seconds < FIRST_EDGE_S:
        return 0
    return min(BUCKETS - 1, 1 + math.floor(math.log(seconds) / math.log(RATIO)))


def empty() -> Histogram:
    return {}


def add(histogram: Histogram, bucket: int, count: int) -> None:
    if count:
        histogram[bucket] = histogram.get(bucket, 0) + count


def merge_into(total: Histogram, other: Histogram) -> None:
    for bucket, count in other.items():
        total[bucket] = total.get(bucket, 0) + count


def merged(histograms: Iterable[Histogram]) -> Histogram:
    total = empty()
    for h in histograms:
        merge_into(total, h)
    return total


def pack(histogram: Histogram) -> list[int]:
    """The stored form: the first non-empty bucket, then the counts from it to the last."""
    if not histogram:
        return []
    first, last = min(histogram), max(histogram)
    return [first, *(histogram.get(b, 0) for b in range(first, last + 1))]


def unpack(packed: Sequence[int] | None) -> Histogram:
    if not packed:
        return {}
    first = packed[0]
    return {first + i: n for i, n in enumerate(packed[1:]) if n}


def from_pairs(pairs: Iterable[tuple[int, int]]) -> Histogram:
    """A histogram from (bucket, count) pairs, a bucket possibly more than once."""
    out = empty()
    for bucket, count in pairs:
        add(out, bucket, count)
    return out


class Accumulator:
    """Adds packed histograms up at C speed: a dense list of every bucket's count, and the
    range of buckets any added histogram touched."""

    __slots__ = ("counts", "high", "low")

    def __init__(self) -> None:
        self.counts = [0] * BUCKETS
        self.low = BUCKETS
        self.high = 0

    def add_packed(self, packed: Sequence[int] | None, *, minus: bool = False) -> None:
        if not packed:
            return
        first = packed[0]
        end = first + len(packed) - 1
        counts = self.counts
        op = operator.sub if minus else operator.add
        counts[first:end] = map(op, counts[first:end], islice(packed, 1, None))
        self.low = min(self.low, first)
        self.high = max(self.high, end)

    def histogram(self) -> Histogram:
        counts = self.counts
        return {b: counts[b] for b in range(self.low, self.high) if counts[b]}

    def packed(self) -> list[int]:
        """The total in the stored form (for totals only added to: no empty end buckets)."""
        if self.low >= self.high:
            return []
        return [self.low, *self.counts[self.low : self.high]]


def difference(later: Sequence[int] | None, earlier: Sequence[int] | None) -> Histogram:
    """``later`` minus ``earlier``, both packed: what a window adds to a running total."""
    total = Accumulator()
    total.add_packed(later)
    total.add_packed(earlier, minus=True)
    return total.histogram()


def bucket_value(index: int) -> float:
    """The representative duration of a bucket (seconds)."""
    if index == 0:
        return 0.0
    return RATIO ** (index - 1) * math.sqrt(RATIO)


def percentiles(histogram: Histogram, qs: Sequence[float]) -> list[float | None]:
    """The q-quantiles (0 < q <= 1) in seconds, None for an empty histogram: for each, the
    bucket holding the ceil(q * n)-th smallest duration, read at its geometric middle."""
    if not histogram:
        return [None] * len(qs)
    buckets = sorted(histogram)
    seen = list(accumulate(map(histogram.__getitem__, buckets)))
    n = seen[-1]
    return [bucket_value(buckets[bisect_left(seen, max(1, math.ceil(q * n)))]) for q in qs]


def percentile(histogram: Histogram, q: float) -> float | None:
    """The q-quantile (0 < q <= 1) in seconds, or None for an empty histogram."""
    return percentiles(histogram, [q])[0]
