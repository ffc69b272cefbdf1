"""Keeps the daily rollups equal to the raw data (ADR 0014).

- ``rollups_rebuild(first=..., last=...)`` recomputes whole local days from the raw tables
  (``analytics.measures``) and replaces their rows: importers and the generator call it for
  the days they loaded, ``manage.py analytics_rollups --rebuild`` for everything.
- ``rollups_refresh()`` is the beat job (every ``ANALYTICS_ROLLUP_INTERVAL_S``): it reads the
  events written since its last run and recomputes only the days they can change (rules in
  docs/metrics.md, "Freshness"), always including yesterday. Today is never rolled up: reads
  compute it live from the raw rows, so today's counts are exact.

Both run under one advisory lock, so two workers never interleave their replacements."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from analytics import histogram
from analytics.measures import (
    EVENTS_FROM,
    MEASURE_FIELDS,
    ROLLUP_COLUMNS,
    Measures,
    cells_compute,
    day_of,
    day_start,
    local_today,
    measures_compute_many,
)
from analytics.models import (
    AreaDailyRollup,
    CellDailyRollup,
    RollupState,
    ServiceDailyRollup,
    TypeDailyRollup,
)
from analytics.tables import EVENTS, SERVICE_TYPES, SR, literal
from backend.service_requests.models import EventKind, Status

LOCK_KEY = 7_000_014
STATE = "default"
# Ids missing below the highest id folded in (a transaction that had not committed yet, or
# rolled back) are looked for again on later runs, as long as they are within this many ids
# of the highest: a transaction that commits late, after a higher id, is still seen.
OVERLAP_EVENTS = 20_000
# Days are recomputed in chunks of at most this many (bounded memory on a rebuild).
CHUNK_DAYS = 31


@dataclass
class RefreshReport:
    days: list[date]
    events: int
    last_event_id: int


def _lock() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])


def _ranges(days: Iterable[date]) -> list[tuple[date, date]]:
    """Consecutive runs of days, each at most CHUNK_DAYS long."""
    ordered = sorted(set(days))
    out: list[tuple[date, date]] = []
    for day in ordered:
        if out and day == out[-1][1] + timedelta(days=1) and (day - out[-1][0]).days < CHUNK_DAYS:
            out[-1] = (out[-1][0], day)
        else:
            out.append((day, day))
    return out


def _copy_rows(table: str, columns: list[str], rows: Iterable[tuple[Any, ...]]) -> None:
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)


def _array(h: histogram.Histogram) -> str:
    """A histogram packed (``analytics.histogram.pack``) as a PostgreSQL array literal."""
    return _array_literal(histogram.pack(h))


def _array_literal(values: list[int]) -> str:
    """Formatted here: psycopg's generic list dumper is ~50x slower."""
    return "{" + ",".join(map(str, values)) + "}"


def _replace_range(first: date, last: date) -> None:
    start, end = day_start(first), day_start(last + timedelta(days=1))
    computed_both = measures_compute_many(start=start, end=end, dimensions=("channel", "area"))
    for model, dimension, dim_column in (
        (TypeDailyRollup, "channel", "channel"),
        (AreaDailyRollup, "area", "area_id"),
    ):
        model.objects.filter(day__gte=first, day__lte=last).delete()
        computed = computed_both[dimension]
        _copy_rows(
            model._meta.db_table,
            ["day", "service_type_id", dim_column, *ROLLUP_COLUMNS],
            (
                (
                    key[0],
                    key[1],
                    key[2],
                    *(getattr(m, f) for f in MEASURE_FIELDS),
                    _array(m.ttc_hist),
                    _array(m.ttfr_hist),
                )
                for key, m in computed.items()
            ),
        )
    service_level: dict[tuple[date, int, None], Measures] = {}
    for (day, type_id, _channel), m in computed_both["channel"].items():
        total = service_level.get((day, type_id, None))
        if total is None:
            total = service_level[(day, type_id, None)] = Measures()
        total.add(m)
    ServiceDailyRollup.objects.filter(day__gte=first, day__lte=last).delete()
    _copy_rows(
        ServiceDailyRollup._meta.db_table,
        ["day", "service_type_id", *ROLLUP_COLUMNS, "ttc_cum", "ttfr_cum"],
        (
            (
                key[0],
                key[1],
                *(getattr(m, f) for f in MEASURE_FIELDS),
                _array(m.ttc_hist),
                _array(m.ttfr_hist),
                "{}",  # the running totals: _running_totals_update, once the days are in
                "{}",
            )
            for key, m in service_level.items()
        ),
    )
    CellDailyRollup.objects.filter(day__gte=first, day__lte=last).delete()
    cells = cells_compute(start=start, end=end)
    _copy_rows(
        CellDailyRollup._meta.db_table,
        ["day", "service_type_id", "cell_x", "cell_y", "created"],
        ((*key, n) for key, n in cells.items()),
    )


def _running_totals_update(since: date) -> None:
    """Recomputes the service rollup's running totals (``ttc_cum``, ``ttfr_cum``) of every
    row from ``since`` on: each type's total before ``since`` plus its days in order."""
    table = ServiceDailyRollup._meta.db_table
    running: dict[int, tuple[histogram.Accumulator, histogram.Accumulator]] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT t.id, p.ttc_cum, p.ttfr_cum FROM {SERVICE_TYPES} t
                CROSS JOIN LATERAL (
                    SELECT r.ttc_cum, r.ttfr_cum FROM {table} r
                    WHERE r.service_type_id = t.id AND r.day < %s
                    ORDER BY r.day DESC LIMIT 1) p""",
            [since],
        )
        for type_id, ttc, ttfr in cursor.fetchall():
            running[type_id] = (histogram.Accumulator(), histogram.Accumulator())
            running[type_id][0].add_packed(ttc)
            running[type_id][1].add_packed(ttfr)
        cursor.execute(
            f"""SELECT id, service_type_id, ttc_hist, ttfr_hist FROM {table}
                WHERE day >= %s ORDER BY day""",
            [since],
        )
        rows = cursor.fetchall()
        cursor.execute(
            "CREATE TEMPORARY TABLE rollup_running (id bigint, ttc integer[], ttfr integer[])"
            " ON COMMIT DROP"
        )
    totals = []
    for row_id, type_id, ttc, ttfr in rows:
        pair = running.get(type_id)
        if pair is None:
            pair = running[type_id] = (histogram.Accumulator(), histogram.Accumulator())
        pair[0].add_packed(ttc)
        pair[1].add_packed(ttfr)
        totals.append((row_id, _array_literal(pair[0].packed()), _array_literal(pair[1].packed())))
    _copy_rows("rollup_running", ["id", "ttc", "ttfr"], totals)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE {table} r SET ttc_cum = t.ttc, ttfr_cum = t.ttfr
                FROM rollup_running t WHERE r.id = t.id"""
        )
        cursor.execute("DROP TABLE rollup_running")


def _state() -> RollupState:
    state, _ = RollupState.objects.select_for_update().get_or_create(name=STATE)
    return state


def rollups_rebuild(*, first: date | None = None, last: date | None = None) -> list[date]:
    """Recomputes the days [first, last] (default: every day with data, up to yesterday)."""
    with transaction.atomic():
        _lock()
        return _rebuild(_state(), first=first, last=last)


def _rebuild(state: RollupState, *, first: date | None, last: date | None) -> list[date]:
    """``rollups_rebuild`` under the lock. Rollups whose histograms have another bucket ratio
    than ``histogram.RATIO`` are rebuilt whole, whatever days were asked for."""
    today = local_today()
    max_event = _max_event_id()
    if state.histogram_ratio != histogram.RATIO:
        first = last = None
    if first is None or last is None:
        bounds = _data_bounds()
        if bounds is None:
            TypeDailyRollup.objects.all().delete()
            ServiceDailyRollup.objects.all().delete()
            AreaDailyRollup.objects.all().delete()
            CellDailyRollup.objects.all().delete()
            _state_save(state, max_event)
            return []
        first = first or bounds[0]
        last = last or bounds[1]
    last = min(last, today - timedelta(days=1))
    days = [first + timedelta(days=i) for i in range(max(0, (last - first).days + 1))]
    if state.cell_degrees != settings.ANALYTICS_CELL_DEGREES and state.refreshed_at:
        # Cells of another size are meaningless now: rebuild them all.
        CellDailyRollup.objects.all().delete()
    if state.histogram_ratio != histogram.RATIO:
        # Days without data any more keep no row of the old ratio either.
        for model in (TypeDailyRollup, ServiceDailyRollup, AreaDailyRollup):
            model.objects.exclude(day__gte=first, day__lte=last).delete()
    for lo, hi in _ranges(days):
        _replace_range(lo, hi)
    if days:
        _running_totals_update(days[0])
    if max_event > state.last_event_id:
        state.missing_event_ids = _missing_ids(max_event)
    _state_save(state, max_event)
    return days


def _state_save(state: RollupState, last_event_id: int) -> None:
    state.last_event_id = max(state.last_event_id, last_event_id)
    state.refreshed_at = timezone.now()
    state.cell_degrees = settings.ANALYTICS_CELL_DEGREES
    state.histogram_ratio = histogram.RATIO
    state.save()


def _missing_ids(high: int) -> list[int]:
    """The ids within OVERLAP_EVENTS below ``high`` that no committed event has (yet)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT g FROM generate_series(%s::bigint, %s::bigint) g
                WHERE NOT EXISTS (SELECT 1 FROM {EVENTS} e WHERE e.id = g)""",
            [max(1, high - OVERLAP_EVENTS + 1), high],
        )
        return [r[0] for r in cursor.fetchall()]


def _max_event_id() -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT coalesce(max(id), 0) FROM {EVENTS}")
        return int(cursor.fetchone()[0])


def _data_bounds() -> tuple[date, date] | None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT min(t), max(t) FROM (
                  SELECT min(requested_at) t FROM {SR} UNION ALL SELECT max(requested_at) FROM {SR}
                  UNION ALL SELECT max(closed_at) FROM {SR}
                  UNION ALL SELECT max(created_at) FROM {EVENTS}) x"""
        )
        low, high = cursor.fetchone()
    if low is None:
        return None
    return day_of(low), day_of(high)


_CLOSED = literal(Status.CLOSED)
_DIRTY_EVENTS = f"""
SELECT e.id, e.kind, e.created_at, e.from_status, sr.requested_at, sr.closed_at,
       CASE WHEN e.from_status = {_CLOSED} THEN (
           SELECT max(p.created_at) FROM {EVENTS} p
           WHERE p.service_request_id = e.service_request_id
             AND p.to_status = {_CLOSED} AND p.id < e.id) END,
       CASE WHEN e.kind NOT IN ({literal(EventKind.CREATED)}, {literal(EventKind.STATUS_CHANGED)})
       THEN (
           SELECT min(f.created_at) FROM {EVENTS} f
           WHERE f.service_request_id = e.service_request_id
             AND f.from_status = {literal(Status.SUBMITTED)}) END
FROM {EVENTS_FROM}
WHERE e.id > %s OR e.id = ANY(%s) ORDER BY e.id"""


def dirty_days_since(
    event_id: int, missing: list[int] | None = None
) -> tuple[set[date], int, int, list[int]]:
    """The local days whose rollups the events after ``event_id`` (and the ``missing`` ids
    below it) can change, how many events there were, the highest id and the ids now
    missing below it. The rules (docs/metrics.md, "Freshness"):

    - created: the request's submission day;
    - status change: the event's day (closes, reopens, first responses, net flow); a reopen
      also the day of the close it undoes (the request leaves that day's closed figures);
    - anything else (a note, a change of service type or place): every day the request
      counts on, its submission, close and first-response days, and the event's day."""
    with connection.cursor() as cursor:
        cursor.execute(_DIRTY_EVENTS, [event_id, missing or []])
        rows = cursor.fetchall()
    high = max([event_id, *(r[0] for r in rows)])
    still_missing = _missing_ids(high)
    days: set[date] = set()
    for _id, kind, at, _from, requested_at, closed_at, undone_close, first_response in rows:
        if kind == EventKind.CREATED:
            days.add(day_of(requested_at))
        elif kind == EventKind.STATUS_CHANGED:
            days.add(day_of(at))
            if undone_close is not None:
                days.add(day_of(undone_close))
        elif kind == EventKind.ERASED:
            continue  # the retention run erased contact data: no measure changes
        else:
            for moment in (requested_at, closed_at, first_response, at):
                if moment is not None:
                    days.add(day_of(moment))
    return days, len(rows), high, still_missing


def rollups_refresh() -> RefreshReport:
    """The beat job: folds in what changed since the last run (everything, when the rollups
    were built with another histogram bucket ratio)."""
    today = local_today()
    with transaction.atomic():
        _lock()
        state = _state()
        if state.refreshed_at is not None and state.histogram_ratio != histogram.RATIO:
            rebuilt = _rebuild(state, first=None, last=None)
            return RefreshReport(days=rebuilt, events=0, last_event_id=state.last_event_id)
        days, events, high, missing = dirty_days_since(state.last_event_id, state.missing_event_ids)
        if state.refreshed_at is not None:
            # The day that was "today" at the last run is complete now (or still today).
            days.add(day_of(state.refreshed_at))
        days.add(today - timedelta(days=1))
        days = {d for d in days if d < today}
        for lo, hi in _ranges(days):
            _replace_range(lo, hi)
        if days:
            _running_totals_update(min(days))
        state.missing_event_ids = missing
        _state_save(state, high)
    return RefreshReport(days=sorted(days), events=events, last_event_id=high)


def live_from() -> date:
    """The first day reads compute live: days before it are in the rollups (as of the last
    refresh); with no refresh yet, or rollups of another histogram bucket ratio, everything is
    computed live."""
    state = RollupState.objects.filter(name=STATE).values_list("refreshed_at", "histogram_ratio")
    found = state.first()
    if found is None or found[0] is None or found[1] != histogram.RATIO:
        return date.min
    return min(day_of(found[0]), local_today())
