"""The measures of a set of requests, computed straight from the raw tables for a time range,
and how they add up. Both the rollup builder (``analytics.rollups``) and the live part of a
read (today, which no rollup holds yet) call ``measures_compute``: a rollup row is exactly what
the raw computation gives for its day, by construction (docs/metrics.md has the rules)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from analytics import histogram
from analytics.shapes import MeasureSummary
from analytics.tables import AREAS, EVENTS, SR, WORK_ORDERS, literal
from backend.service_requests.models import Channel, CloseReason, EventKind, Status

MEASURE_FIELDS = (
    "created",
    "closed",
    "closed_with_due",
    "closed_on_time",
    "ttc_sum_s",
    "responded",
    "ttfr_sum_s",
    "close_events",
    "reopen_events",
)
# A rollup row's measure columns: the counts and sums, then the two packed histograms.
ROLLUP_COLUMNS = (*MEASURE_FIELDS, "ttc_hist", "ttfr_hist")


@dataclass
class Measures:
    created: int = 0
    closed: int = 0
    closed_with_due: int = 0
    closed_on_time: int = 0
    ttc_sum_s: int = 0
    ttc_hist: histogram.Histogram = field(default_factory=histogram.empty)
    responded: int = 0
    ttfr_sum_s: int = 0
    ttfr_hist: histogram.Histogram = field(default_factory=histogram.empty)
    close_events: int = 0
    reopen_events: int = 0

    def add(self, other: Measures) -> None:
        for name in MEASURE_FIELDS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        histogram.merge_into(self.ttc_hist, other.ttc_hist)
        histogram.merge_into(self.ttfr_hist, other.ttfr_hist)

    @property
    def on_time_share(self) -> float | None:
        return self.closed_on_time / self.closed_with_due if self.closed_with_due else None

    @property
    def reopen_rate(self) -> float | None:
        return self.reopen_events / self.close_events if self.close_events else None

    @property
    def net_flow(self) -> int:
        return self.created - self.close_events + self.reopen_events

    def ttc_hours(self, q: float) -> float | None:
        seconds = histogram.percentile(self.ttc_hist, q)
        return None if seconds is None else seconds / 3600

    def ttfr_hours(self, q: float) -> float | None:
        seconds = histogram.percentile(self.ttfr_hist, q)
        return None if seconds is None else seconds / 3600

    def summary(self) -> MeasureSummary:
        """The figures the API shows for a group (hours rounded to 0.01)."""

        def r(value: float | None, digits: int = 2) -> float | None:
            return None if value is None else round(value, digits)

        ttc = _hours(histogram.percentiles(self.ttc_hist, SUMMARY_QUANTILES))
        ttfr = _hours(histogram.percentiles(self.ttfr_hist, SUMMARY_QUANTILES))

        return {
            "created": self.created,
            "closed": self.closed,
            "closed_with_due": self.closed_with_due,
            "closed_on_time": self.closed_on_time,
            "on_time_share": r(self.on_time_share, 4),
            "ttc_p50_h": r(ttc[0]),
            "ttc_p85_h": r(ttc[1]),
            "ttc_p90_h": r(ttc[2]),
            "ttc_mean_h": r(self.ttc_sum_s / self.closed / 3600) if self.closed else None,
            "responded": self.responded,
            "ttfr_p50_h": r(ttfr[0]),
            "ttfr_p85_h": r(ttfr[1]),
            "ttfr_p90_h": r(ttfr[2]),
            "close_events": self.close_events,
            "reopen_events": self.reopen_events,
            "reopen_rate": r(self.reopen_rate, 4),
            "net_flow": self.net_flow,
        }


SUMMARY_QUANTILES = (0.5, 0.85, 0.9)


def _hours(seconds: list[float | None]) -> list[float | None]:
    return [None if s is None else s / 3600 for s in seconds]


def city_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def day_start(day: date) -> datetime:
    """The first instant of a local (city time zone) day."""
    return datetime.combine(day, time(0), tzinfo=city_zone())


def local_today() -> date:
    return datetime.now(city_zone()).date()


def day_of(moment: datetime) -> date:
    return moment.astimezone(city_zone()).date()


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


# A key is (day, service_type_id, dimension) where the dimension is the channel or the area id.
Key = tuple[date, int, Any]

# A point belongs to the area whose interior contains it; a point exactly on a border (or
# outside every area) counts in none (area NULL). Areas of one kind must not overlap.
AREA_JOIN = f"LEFT JOIN {AREAS} ar ON ar.kind = %(kind)s AND ST_Contains(ar.geometry, sr.location)"


DIMENSION_COLUMNS = {"channel": "sr.channel", "area": "ar.id"}


def _local_day(column: str) -> str:
    return f"({column} AT TIME ZONE %(tz)s)::date"


def type_filter(params: dict[str, Any], service_type_ids: Iterable[int] | None) -> str:
    """The condition keeping the requests ``sr`` of the given service types ("" for every
    type), its parameter added to ``params``."""
    if service_type_ids is None:
        return ""
    params["types"] = list(service_type_ids)
    return " AND sr.service_type_id = ANY(%(types)s)"


def range_params(
    *, start: datetime, end: datetime, service_type_ids: Iterable[int] | None, **more: Any
) -> tuple[dict[str, Any], str]:
    """A read of [start, end) (``t0``, ``t1``) in the city's time zone (``tz``), with ``more``
    parameters, and its service-type condition (``type_filter``)."""
    params: dict[str, Any] = {"t0": start, "t1": end, "tz": settings.TIME_ZONE, **more}
    return params, type_filter(params, service_type_ids)


_CLOSED = literal(Status.CLOSED)
_STATUS_CHANGED = literal(EventKind.STATUS_CHANGED)
# The requests whose close counts (a duplicate's close is the original's business).
CLOSED_WHERE = f"sr.status = {_CLOSED} AND sr.close_reason <> {literal(CloseReason.DUPLICATE)}"
# Live work: every request but those still open in an imported export that no work order
# has taken up (channel import, the export's provenance in attributes, no work order; the
# console lists them with workorders.selectors.service_requests_imported_pending). They stay
# out of the backlog, the overdue lists, the live counters and the measures until a
# supervisor adopts one (backend.cases.adopt). Cheap: a request of another channel, or a
# closed one, is decided by its own columns.
LIVE_WHERE = (
    f"NOT (sr.channel = {literal(Channel.IMPORT)} AND sr.status <> {_CLOSED}"
    " AND (sr.attributes -> 'import') IS NOT NULL"
    f" AND NOT EXISTS (SELECT 1 FROM {WORK_ORDERS} wo WHERE wo.service_request_id = sr.id))"
)
# A request's events, each with its request.
EVENTS_FROM = f"{EVENTS} e JOIN {SR} sr ON sr.id = e.service_request_id"
# The first response: the change of status that leaves submitted.
FIRST_RESPONSE_WHERE = f"e.kind = {_STATUS_CHANGED} AND e.from_status = {literal(Status.SUBMITTED)}"

# Each family: its local-day column, FROM clause, WHERE, optional histogram bucket and
# aggregates. A family's rows are keyed by (day, service type, dimension[, bucket]).
_TTC = "extract(epoch FROM sr.closed_at - sr.requested_at)"
_TTFR = "extract(epoch FROM e.created_at - sr.requested_at)"
FAMILIES: dict[str, dict[str, str]] = {
    "created": {
        "day": "sr.requested_at",
        "from": f"{SR} sr",
        "where": f"sr.requested_at >= %(t0)s AND sr.requested_at < %(t1)s AND {LIVE_WHERE}",
        "bucket": "",
        "aggregates": "count(*)",
    },
    "closed": {
        "day": "sr.closed_at",
        "from": f"{SR} sr",
        "where": f"{CLOSED_WHERE} AND sr.closed_at >= %(t0)s AND sr.closed_at < %(t1)s",
        "bucket": histogram.sql_bucket(_TTC),
        "aggregates": f"count(*), coalesce(sum(round({_TTC})), 0)::bigint,"
        " count(*) FILTER (WHERE sr.expected_at IS NOT NULL),"
        " count(*) FILTER (WHERE sr.closed_at <= sr.expected_at)",
    },
    "responded": {
        "day": "e.created_at",
        "from": EVENTS_FROM,
        "where": f"{FIRST_RESPONSE_WHERE} AND e.created_at >= %(t0)s AND e.created_at < %(t1)s"
        f" AND {LIVE_WHERE}",
        "bucket": histogram.sql_bucket(_TTFR),
        "aggregates": f"count(*), coalesce(sum(round({_TTFR})), 0)::bigint",
    },
    "events": {
        "day": "e.created_at",
        "from": EVENTS_FROM,
        "where": f"e.kind = {_STATUS_CHANGED}"
        f" AND (e.to_status = {_CLOSED} OR e.from_status = {_CLOSED})"
        " AND e.created_at >= %(t0)s AND e.created_at < %(t1)s",
        "bucket": "",
        "aggregates": f"count(*) FILTER (WHERE e.to_status = {_CLOSED}),"
        f" count(*) FILTER (WHERE e.from_status = {_CLOSED})",
    },
}


def family_sql(family: str, dimensions: tuple[str, ...], types: str = "") -> str:
    """One family's query for one or both dimensions (both: GROUPING SETS, one scan, the
    last column telling which set a row belongs to)."""
    spec = FAMILIES[family]
    keys = [_local_day(spec["day"]), "sr.service_type_id"]
    keys += [DIMENSION_COLUMNS[d] for d in dimensions]
    if spec["bucket"]:
        keys.append(spec["bucket"])
    select = [*keys, spec["aggregates"]]
    positions = list(range(1, len(keys) + 1))
    if len(dimensions) == 1:
        group = ", ".join(map(str, positions))
    else:
        bucket = [str(len(keys))] if spec["bucket"] else []
        sets = [["1", "2", str(3 + k), *bucket] for k in range(len(dimensions))]
        group = "GROUPING SETS (" + ", ".join("(" + ", ".join(x) + ")" for x in sets) + ")"
        select.append(f"GROUPING({DIMENSION_COLUMNS[dimensions[0]]})")
    join = AREA_JOIN if "area" in dimensions else ""
    return (
        f"SELECT {', '.join(select)} FROM {spec['from']} {join}"
        f" WHERE {spec['where']}{types} GROUP BY {group}"
    )


def measures_compute_many(
    *,
    start: datetime,
    end: datetime,
    dimensions: tuple[str, ...] = ("channel",),
    service_type_ids: Iterable[int] | None = None,
) -> dict[str, dict[Key, Measures]]:
    """Every measure of [start, end) from the raw tables, for each dimension keyed by (local
    day, service type, channel or area id). ``start`` and ``end`` are local midnights (or
    now). Several dimensions are read in one scan per family."""
    params, types = range_params(
        start=start, end=end, service_type_ids=service_type_ids, kind=settings.ANALYTICS_AREA_KIND
    )
    out: dict[str, dict[Key, Measures]] = {d: {} for d in dimensions}
    n = len(dimensions)
    with connection.cursor() as cursor:
        for family in FAMILIES:
            cursor.execute(family_sql(family, dimensions, types), params)
            for row in cursor.fetchall():
                which = 0 if n == 1 else (1 if row[-1] else 0)
                dimension = dimensions[which]
                key = (row[0], row[1], row[2 + which])
                table = out[dimension]
                m = table.get(key)
                if m is None:
                    m = table[key] = Measures()
                at = 2 + n
                if family == "created":
                    m.created += row[at]
                elif family == "closed":
                    b = row[at]
                    histogram.add(m.ttc_hist, b, row[at + 1])
                    m.closed += row[at + 1]
                    m.ttc_sum_s += row[at + 2]
                    m.closed_with_due += row[at + 3]
                    m.closed_on_time += row[at + 4]
                elif family == "responded":
                    b = row[at]
                    histogram.add(m.ttfr_hist, b, row[at + 1])
                    m.responded += row[at + 1]
                    m.ttfr_sum_s += row[at + 2]
                else:
                    m.close_events += row[at]
                    m.reopen_events += row[at + 1]
    return out


def measures_compute(
    *,
    start: datetime,
    end: datetime,
    dimension: str = "channel",
    service_type_ids: Iterable[int] | None = None,
) -> dict[Key, Measures]:
    """``measures_compute_many`` for one dimension."""
    return measures_compute_many(
        start=start, end=end, dimensions=(dimension,), service_type_ids=service_type_ids
    )[dimension]


def cells_compute(
    *, start: datetime, end: datetime, service_type_ids: Iterable[int] | None = None
) -> dict[tuple[date, int, int, int], int]:
    """Requests submitted in [start, end) per (local day, service type, cell x, cell y)."""
    params, types = range_params(
        start=start,
        end=end,
        service_type_ids=service_type_ids,
        size=settings.ANALYTICS_CELL_DEGREES,
    )
    sql = f"""
        SELECT {_local_day("sr.requested_at")}, sr.service_type_id,
               floor(ST_X(sr.location) / %(size)s)::int, floor(ST_Y(sr.location) / %(size)s)::int,
               count(*)
        FROM {SR} sr
        WHERE sr.requested_at >= %(t0)s AND sr.requested_at < %(t1)s
          AND sr.location IS NOT NULL {types}
        GROUP BY 1, 2, 3, 4"""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(r[0], r[1], r[2], r[3]): r[4] for r in cursor.fetchall()}
