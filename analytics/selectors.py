"""Reads of the metrics (docs/metrics.md). Windows are whole local days; the days before
``rollups.live_from()`` come from the rollups, the rest (today) straight from the raw rows:
counts are exact, percentiles come from the merged histograms (``analytics.histogram``).
``source="raw"`` computes every day from the raw rows instead (the benchmark's comparison
and the tests' oracle); ``*_exact`` functions give exact percentiles over raw rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from django.conf import settings
from django.db import connection
from django.db.models import Avg, Count, Q
from django.utils import timezone

from analytics import histogram
from analytics.measures import (
    CLOSED_WHERE,
    EVENTS_FROM,
    FIRST_RESPONSE_WHERE,
    LIVE_WHERE,
    MEASURE_FIELDS,
    Measures,
    cells_compute,
    day_start,
    local_today,
    measures_compute,
    range_params,
    type_filter,
)
from analytics.rollups import live_from
from analytics.shapes import (
    AreaFigures,
    Backlog,
    BacklogDay,
    Cell,
    ChannelShare,
    DepartmentLive,
    Equity,
    HotspotMap,
    LiveCounters,
    LiveCounts,
    OverduePoint,
    OverdueRequest,
    Satisfaction,
    TeamFigures,
    WindowDays,
)
from analytics.tables import (
    AREA_ROLLUPS,
    CELL_ROLLUPS,
    SERVICE_ROLLUPS,
    SERVICE_TYPES,
    SR,
    TYPE_ROLLUPS,
)
from backend.catalog.models import Department, ServiceType
from backend.process_cache import ProcessCache
from backend.service_requests.models import OPEN_STATUSES, Status
from workorders.models import Area, Feedback, Team, WorkOrder, WorkOrderStatus

_live_days: ProcessCache[dict[Any, Measures]] = ProcessCache("analytics-live-days")

PERIOD_DAYS = {"day": 1, "week": 7, "month": 30, "quarter": 91}
AGE_BUCKETS = (("0-2", 0, 3), ("3-7", 3, 8), ("8-30", 8, 31), ("31+", 31, None))
GROUPS = ("day", "service_type", "department", "channel", "area")
OPEN = list(OPEN_STATUSES)
# A team's orders it still has to do (a new order has no team yet).
TEAM_OPEN = [WorkOrderStatus.ASSIGNED, WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.ON_HOLD]
# Where a read's past days come from: the rollups (and today live), or every day raw.
Source = Literal["rollup", "raw"]


@dataclass(frozen=True)
class Window:
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def as_dict(self) -> WindowDays:
        return {"first": self.first.isoformat(), "last": self.last.isoformat()}


def window_for(*, period: str, end: date) -> Window:
    """A trailing window of whole days ending with ``end`` (docs/metrics.md, "Windows")."""
    return Window(end - timedelta(days=PERIOD_DAYS[period] - 1), end)


def type_departments() -> dict[int, int]:
    return dict(ServiceType.objects.values_list("id", "department_id"))


def department_type_ids(department_id: int) -> list[int]:
    return list(
        ServiceType.objects.filter(department_id=department_id).values_list("id", flat=True)
    )


def _group_key(
    group_by: tuple[str, ...], day: date, type_id: int, dim: Any, departments: dict[int, int]
) -> tuple[Any, ...]:
    out: list[Any] = []
    for g in group_by:
        if g == "day":
            out.append(day)
        elif g == "service_type":
            out.append(type_id)
        elif g == "department":
            out.append(departments.get(type_id))
        else:  # channel or area: the rollup's own dimension
            out.append(dim)
    return tuple(out)


# A rollup's key columns, by what a read groups by (a department: its service types).
_ROLLUP_KEY = {
    "day": "day",
    "service_type": "service_type_id",
    "department": "service_type_id",
    "channel": "channel",
    "area": "area_id",
}
_SUMS = ", ".join(f"sum({f})::bigint" for f in MEASURE_FIELDS)


def _rollups_read(
    *,
    group_by: tuple[str, ...],
    window: Window,
    types: list[int] | None,
    histograms: tuple[str, ...],
) -> Iterable[tuple[tuple[Any, Any, Any], Measures]]:
    """The rollups of [first, last] added up per the rollup keys that ``group_by`` needs, as
    ((day, service type, channel or area), measures): the key parts not grouped by are None.
    Counts and sums are added up by the database. Histograms not grouped by day come from the
    service rollup's running totals, two rows per type whatever the window
    (``_running_histograms``); by day, or by channel or area, the days' own histograms are
    added up here."""
    first, last = window.first, window.last
    table = TYPE_ROLLUPS
    if "area" in group_by:
        table = AREA_ROLLUPS
    elif "channel" not in group_by:
        table = SERVICE_ROLLUPS
    columns = list(dict.fromkeys(_ROLLUP_KEY[g] for g in group_by))
    keys = "".join(f"r.{c}, " for c in columns)
    group = ", ".join(f"r.{c}" for c in columns) or "()"
    params: dict[str, Any] = {"first": first, "last": last}
    where = "r.day >= %(first)s AND r.day <= %(last)s"
    if types is not None:
        params["types"] = types
        where += " AND r.service_type_id = ANY(%(types)s)"
    found: dict[tuple[Any, ...], Measures] = {}
    n = len(columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {keys}{_SUMS} FROM {table} r WHERE {where} GROUP BY {group}"
            " HAVING count(*) > 0",
            params,
        )
        for row in cursor.fetchall():
            m = found[row[:n]] = Measures()
            for name, value in zip(MEASURE_FIELDS, row[n:], strict=True):
                setattr(m, name, value)
        if table == SERVICE_ROLLUPS and "day" not in columns:
            for type_id, (ttc, ttfr) in _running_histograms(
                cursor, first=first, last=last, types=types
            ).items():
                # setdefault: a refresh may commit between the two statements.
                m = found.setdefault((type_id,) if columns else (), Measures())
                histogram.merge_into(m.ttc_hist, ttc)
                histogram.merge_into(m.ttfr_hist, ttfr)
        else:
            read = [f"r.{h}_hist" if h in histograms else "NULL" for h in ("ttc", "ttfr")]
            cursor.execute(f"SELECT {keys}{', '.join(read)} FROM {table} r WHERE {where}", params)
            totals: dict[tuple[Any, ...], tuple[histogram.Accumulator, histogram.Accumulator]] = {}
            for row in cursor.fetchall():
                pair = totals.get(row[:n])
                if pair is None:
                    pair = totals[row[:n]] = (histogram.Accumulator(), histogram.Accumulator())
                pair[0].add_packed(row[n])
                pair[1].add_packed(row[n + 1])
            for key, (ttc_total, ttfr_total) in totals.items():
                m = found.setdefault(key, Measures())
                m.ttc_hist = ttc_total.histogram()
                m.ttfr_hist = ttfr_total.histogram()
    for values, m in found.items():
        named = dict(zip(columns, values, strict=True))
        dim = named.get("channel", named.get("area_id"))
        yield (named.get("day"), named.get("service_type_id"), dim), m


def _running_histograms(
    cursor: Any, *, first: date, last: date, types: list[int] | None
) -> dict[int, tuple[histogram.Histogram, histogram.Histogram]]:
    """Per service type with durations in [first, last]: its histograms over those days, the
    running total of its last row up to ``last`` minus that of its last row before ``first``."""
    type_ids = (
        "unnest(%(types)s::bigint[])" if types is not None else f"(SELECT id FROM {SERVICE_TYPES})"
    )
    cursor.execute(
        f"""SELECT t.id, b.which, p.ttc_cum, p.ttfr_cum
            FROM {type_ids} t(id)
            CROSS JOIN (VALUES (0, %(before)s::date), (1, %(last)s::date)) b(which, day)
            CROSS JOIN LATERAL (
                SELECT r.ttc_cum, r.ttfr_cum FROM {SERVICE_ROLLUPS} r
                WHERE r.service_type_id = t.id AND r.day <= b.day
                ORDER BY r.day DESC LIMIT 1) p""",
        {"types": types, "before": first - timedelta(days=1), "last": last},
    )
    ends: dict[int, dict[int, tuple[list[int], list[int]]]] = {}
    for type_id, which, ttc, ttfr in cursor.fetchall():
        ends.setdefault(type_id, {})[which] = (ttc, ttfr)
    out = {}
    for type_id, end in ends.items():
        before = end.get(0, ([], []))
        after = end.get(1, ([], []))
        ttc = histogram.difference(after[0], before[0])
        ttfr = histogram.difference(after[1], before[1])
        if ttc or ttfr:
            out[type_id] = (ttc, ttfr)
    return out


def measures_grouped(
    *,
    window: Window,
    group_by: tuple[str, ...] = (),
    service_type_ids: Iterable[int] | None = None,
    source: Source = "rollup",
    histograms: tuple[str, ...] = ("ttc", "ttfr"),
) -> dict[tuple[Any, ...], Measures]:
    """The window's measures added up per group (an empty ``group_by``: one total under ()).
    Only the duration histograms named in ``histograms`` are read; the others stay empty."""
    dimension = "area" if "area" in group_by else "channel"
    types = None if service_type_ids is None else list(service_type_ids)
    departments = type_departments()
    out: dict[tuple[Any, ...], Measures] = {}

    def slot(key: tuple[Any, ...]) -> Measures:
        found = out.get(key)
        if found is None:
            found = out[key] = Measures()
        return found

    live_first = window.first if source == "raw" else max(window.first, live_from())
    if live_first > window.first:
        past = Window(window.first, min(window.last, live_first - timedelta(days=1)))
        read = _rollups_read(group_by=group_by, window=past, types=types, histograms=histograms)
        for (day, type_id, dim), m in read:
            key = _group_key(group_by, day, type_id, dim, departments)
            if key in out:
                out[key].add(m)
            else:
                out[key] = m  # read for this call alone: taken as it is, not copied
    if live_first <= window.last:
        end = min(day_start(window.last + timedelta(days=1)), timezone.now())

        def compute() -> dict[Any, Measures]:
            return measures_compute(
                start=day_start(live_first), end=end, dimension=dimension, service_type_ids=types
            )

        if source == "raw":
            computed = compute()
        else:
            # The live days (today) are shared by every page for a short while (the
            # process cache's CATALOG_CACHE_SECONDS): a dashboard's figures for today are
            # at most that stale. Never mutated: groups add them into their own slots.
            key = (live_first, window.last, dimension, None if types is None else tuple(types))
            computed = _live_days.get(key, compute)
        for (day, type_id, dim), m in computed.items():
            slot(_group_key(group_by, day, type_id, dim, departments)).add(m)
    for m in out.values():
        if "ttc" not in histograms:
            m.ttc_hist = histogram.empty()
        if "ttfr" not in histograms:
            m.ttfr_hist = histogram.empty()
    return out


def percentiles_exact(
    *,
    window: Window,
    service_type_ids: Iterable[int] | None = None,
    method: Literal["interpolated", "nearest_rank"] = "interpolated",
) -> dict[str, float | None]:
    """Exact p50/p85/p90 of time to close and to first response over raw rows (hours):
    ``nearest_rank`` is the definition the histograms approximate (``percentile_disc``: the
    ``ceil(q * n)``-th smallest), ``interpolated`` is ``percentile_cont`` (docs/metrics.md,
    "Percentiles")."""
    function = "percentile_disc" if method == "nearest_rank" else "percentile_cont"
    params, types = range_params(
        start=day_start(window.first),
        end=day_start(window.last + timedelta(days=1)),
        service_type_ids=service_type_ids,
    )
    out: dict[str, float | None] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT {function}(ARRAY[0.5, 0.85, 0.9]) WITHIN GROUP (
                       ORDER BY extract(epoch FROM sr.closed_at - sr.requested_at))
                FROM {SR} sr WHERE {CLOSED_WHERE}
                  AND sr.closed_at >= %(t0)s AND sr.closed_at < %(t1)s {types}""",
            params,
        )
        ttc = cursor.fetchone()[0]
        cursor.execute(
            f"""SELECT {function}(ARRAY[0.5, 0.85, 0.9]) WITHIN GROUP (
                       ORDER BY extract(epoch FROM e.created_at - sr.requested_at))
                FROM {EVENTS_FROM} WHERE {FIRST_RESPONSE_WHERE} AND {LIVE_WHERE}
                  AND e.created_at >= %(t0)s AND e.created_at < %(t1)s {types}""",
            params,
        )
        ttfr = cursor.fetchone()[0]
    for name, values in (("ttc", ttc), ("ttfr", ttfr)):
        for q, v in zip(("p50", "p85", "p90"), values or [None, None, None], strict=True):
            out[f"{name}_{q}_h"] = None if v is None else round(float(v) / 3600, 2)
    return out


# --- Backlog (raw: the open requests now)


def backlog_now(*, service_type_ids: Iterable[int] | None = None) -> Backlog:
    """Open and overdue counts now, and the open requests by age bucket (whole days since
    submission)."""
    params: dict[str, Any] = {"now": timezone.now(), "open": OPEN}
    types = type_filter(params, service_type_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT count(*),
                       count(*) FILTER (WHERE sr.expected_at < %(now)s),
                       count(*) FILTER (WHERE sr.requested_at > %(now)s - interval '3 days'),
                       count(*) FILTER (WHERE sr.requested_at <= %(now)s - interval '3 days'
                                          AND sr.requested_at > %(now)s - interval '8 days'),
                       count(*) FILTER (WHERE sr.requested_at <= %(now)s - interval '8 days'
                                          AND sr.requested_at > %(now)s - interval '31 days'),
                       count(*) FILTER (WHERE sr.requested_at <= %(now)s - interval '31 days')
                FROM {SR} sr WHERE sr.status = ANY(%(open)s) AND {LIVE_WHERE} {types}""",
            params,
        )
        total, overdue, *ages = cursor.fetchone()
    return {
        "open": total,
        "overdue": overdue,
        "by_age": [
            {"bucket": name, "open": n} for (name, _, _), n in zip(AGE_BUCKETS, ages, strict=True)
        ],
    }


def backlog_trend(
    *, window: Window, service_type_ids: Iterable[int] | None = None, source: Source = "rollup"
) -> list[BacklogDay]:
    """Per day: created, closed (close events), reopened, net flow and the backlog at the end
    of the day, walked back from today's open count: backlog(d - 1) = backlog(d) - net(d)."""
    today = local_today()
    types = None if service_type_ids is None else list(service_type_ids)
    span = Window(window.first, max(window.last, today))
    per_day = measures_grouped(
        window=span, group_by=("day",), service_type_ids=types, source=source
    )
    level = backlog_now(service_type_ids=types)["open"]
    rows: list[BacklogDay] = []
    day = today
    while day >= window.first:
        m = per_day.get((day,), Measures())
        if day <= window.last:
            rows.append(
                {
                    "day": day.isoformat(),
                    "created": m.created,
                    "closed": m.close_events,
                    "reopened": m.reopen_events,
                    "net_flow": m.net_flow,
                    "backlog": level,
                }
            )
        level -= m.net_flow
        day -= timedelta(days=1)
    rows.reverse()
    return rows


def overdue_list(*, service_type_ids: Iterable[int], limit: int = 50) -> list[OverdueRequest]:
    """Open requests past their due time, most urgent first: age in days x priority."""
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT sr.public_id, st.service_code, st.name, sr.address, sr.priority,
                       sr.requested_at, sr.expected_at, sr.status,
                       extract(epoch FROM %(now)s - sr.requested_at) / 86400.0 AS age_days
                FROM {SR} sr JOIN {SERVICE_TYPES} st ON st.id = sr.service_type_id
                WHERE sr.status = ANY(%(open)s) AND sr.expected_at < %(now)s
                  AND sr.service_type_id = ANY(%(types)s) AND {LIVE_WHERE}
                ORDER BY (%(now)s - sr.requested_at) * sr.priority DESC, sr.id LIMIT %(limit)s""",
            {"now": now, "open": OPEN, "types": list(service_type_ids), "limit": limit},
        )
        rows = cursor.fetchall()
    return [
        {
            "public_id": r[0],
            "service_code": r[1],
            "service_name": r[2],
            "address": r[3],
            "priority": r[4],
            "requested_at": r[5].isoformat(),
            "expected_at": r[6].isoformat(),
            "status": r[7],
            "age_days": round(float(r[8]), 2),
            "urgency": round(float(r[8]) * r[4], 2),
        }
        for r in rows
    ]


# --- Hotspots


def hotspots(*, service_type_id: int, window: Window, source: Source = "rollup") -> list[Cell]:
    """Requests per grid cell for one service type over the window, largest first."""
    size = settings.ANALYTICS_CELL_DEGREES
    counts: dict[tuple[int, int], int] = {}
    live_first = window.first if source == "raw" else max(window.first, live_from())
    if live_first > window.first:
        with connection.cursor() as cursor:
            cursor.execute(
                f"""SELECT cell_x, cell_y, sum(created) FROM {CELL_ROLLUPS}
                   WHERE service_type_id = %s AND day >= %s AND day <= %s
                   GROUP BY 1, 2""",
                [service_type_id, window.first, min(window.last, live_first - timedelta(days=1))],
            )
            for x, y, n in cursor.fetchall():
                counts[(x, y)] = counts.get((x, y), 0) + int(n)
    if live_first <= window.last:
        end = min(day_start(window.last + timedelta(days=1)), timezone.now())
        live = cells_compute(
            start=day_start(live_first), end=end, service_type_ids=[service_type_id]
        )
        for (_, _, x, y), n in live.items():
            counts[(x, y)] = counts.get((x, y), 0) + n
    return [
        {
            "cell_x": x,
            "cell_y": y,
            "count": n,
            "bounds": [x * size, y * size, (x + 1) * size, (y + 1) * size],
        }
        for (x, y), n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    ]


def overdue_points(*, service_type_id: int, limit: int = 2000) -> list[OverduePoint]:
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT sr.public_id, ST_Y(sr.location), ST_X(sr.location),
                       extract(epoch FROM %(now)s - sr.expected_at) / 86400.0
                FROM {SR} sr
                WHERE sr.service_type_id = %(type)s AND sr.status = ANY(%(open)s)
                  AND sr.expected_at < %(now)s AND sr.location IS NOT NULL AND {LIVE_WHERE}
                ORDER BY sr.expected_at LIMIT %(limit)s""",
            {"now": now, "type": service_type_id, "open": OPEN, "limit": limit},
        )
        return [
            {"public_id": r[0], "lat": r[1], "long": r[2], "days_overdue": round(float(r[3]), 2)}
            for r in cursor.fetchall()
        ]


def hotspot_map(*, service_type: ServiceType, window: Window) -> HotspotMap:
    """A service type's cells over the window and its overdue points now."""
    return {
        "service_type": service_type.service_code,
        "service_name": service_type.name,
        "window": window.as_dict(),
        "cells": hotspots(service_type_id=service_type.pk, window=window),
        "overdue": overdue_points(service_type_id=service_type.pk),
    }


# --- Equity, satisfaction, channel mix


EQUITY_METRICS = {
    "on_time_share": (lambda m: m.on_time_share, True),
    "ttc_p50_h": (lambda m: m.ttc_hours(0.5), False),
    "ttc_p90_h": (lambda m: m.ttc_hours(0.9), False),
    "ttfr_p50_h": (lambda m: m.ttfr_hours(0.5), False),
}


def equity(*, window: Window, metric: str, service_type_ids: Iterable[int] | None = None) -> Equity:
    """The metrics per area, and the spread between the best and the worst area."""
    grouped = measures_grouped(window=window, group_by=("area",), service_type_ids=service_type_ids)
    names = dict(Area.objects.filter(kind=settings.ANALYTICS_AREA_KIND).values_list("id", "name"))
    read, higher_is_better = EQUITY_METRICS[metric]
    rows: list[AreaFigures] = []
    for (area_id,), m in grouped.items():
        if area_id is None:
            continue
        rows.append({"area_id": area_id, "area": names.get(area_id, str(area_id)), **m.summary()})
    rows.sort(key=lambda r: r["area"])
    valued = [(r, read(grouped[(r["area_id"],)])) for r in rows]
    valued = [(r, v) for r, v in valued if v is not None]
    best = worst = None
    if valued:
        ordered = sorted(valued, key=lambda rv: rv[1], reverse=higher_is_better)
        best, worst = ordered[0], ordered[-1]
    return {
        "metric": metric,
        "areas": rows,
        "best": None if best is None else {"area": best[0]["area"], "value": round(best[1], 4)},
        "worst": None if worst is None else {"area": worst[0]["area"], "value": round(worst[1], 4)},
        "spread": None if best is None or worst is None else round(abs(best[1] - worst[1]), 4),
    }


def satisfaction(*, window: Window, service_type_ids: Iterable[int] | None = None) -> Satisfaction:
    """Feedback given in the window ("Was it fixed?", rating 1-5), the reopen rate and the
    channel mix of the requests submitted in it."""
    feedback = Feedback.objects.filter(
        created_at__gte=day_start(window.first),
        created_at__lt=day_start(window.last + timedelta(days=1)),
    )
    if service_type_ids is not None:
        feedback = feedback.filter(service_request__service_type_id__in=list(service_type_ids))
    agg = feedback.aggregate(
        answers=Count("id"),
        fixed=Count("id", filter=Q(fixed=True)),
        rated=Count("rating"),
        rating=Avg("rating"),
    )
    by_channel = measures_grouped(
        window=window, group_by=("channel",), service_type_ids=service_type_ids
    )
    total = Measures()
    for m in by_channel.values():
        total.add(m)
    created = total.created
    channels: list[ChannelShare] = [
        {
            "channel": key[0],
            "created": m.created,
            "share": round(m.created / created, 4) if created else None,
        }
        for key, m in by_channel.items()
        if m.created
    ]
    return {
        "feedback_answers": agg["answers"],
        "fixed_share": round(agg["fixed"] / agg["answers"], 4) if agg["answers"] else None,
        "rated": agg["rated"],
        "mean_rating": None if agg["rating"] is None else round(float(agg["rating"]), 2),
        "close_events": total.close_events,
        "reopen_events": total.reopen_events,
        "reopen_rate": None if total.reopen_rate is None else round(total.reopen_rate, 4),
        "channels": sorted(channels, key=lambda r: -r["created"]),
    }


# --- Teams (crews)


def team_view(*, team: Team) -> TeamFigures:
    """A crew's own figures: its open orders by status and due time, and how its last 30
    days of completions went."""
    now = timezone.now()
    orders = WorkOrder.objects.filter(team=team)
    open_orders = orders.filter(status__in=TEAM_OPEN)
    open_by_status = dict(
        open_orders.values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    since = now - timedelta(days=30)
    done = orders.filter(status=WorkOrderStatus.COMPLETED, completed_at__gte=since)
    agg: dict[str, int] = done.aggregate(
        completed=Count("id"),
        completed_on_time=Count("id", filter=Q(on_time=True)),
        decided=Count("id", filter=Q(on_time__isnull=False)),
    )
    due = list(
        open_orders.select_related("service_request", "service_request__service_type")
        .order_by("due_at", "id")[:50]
        .values_list(
            "id",
            "status",
            "due_at",
            "service_request__public_id",
            "service_request__service_type__name",
            "service_request__address",
        )
    )
    return {
        "team": {"id": team.pk, "name": team.name, "department_id": team.department_id},
        "open": sum(open_by_status.values()),
        "open_by_status": open_by_status,
        "overdue": open_orders.filter(due_at__lt=now).count(),
        "completed_30d": agg["completed"],
        "on_time_share_30d": (
            round(agg["completed_on_time"] / agg["decided"], 4) if agg["decided"] else None
        ),
        "queue": [
            {
                "work_order_id": r[0],
                "status": r[1],
                "due_at": r[2].isoformat() if r[2] else None,
                "overdue": bool(r[2] and r[2] < now),
                "public_id": r[3],
                "service_name": r[4],
                "address": r[5],
            }
            for r in due
        ],
    }


# --- Live counters


def _no_counts() -> LiveCounts:
    return {"open": 0, "overdue": 0, "created_today": 0, "closed_today": 0}


def live_counters(*, department_ids: Iterable[int] | None = None) -> LiveCounters:
    """Open, overdue, submitted today and closed today (exact, from the raw rows), for the
    city or the given departments, and per department."""
    start = day_start(local_today())
    now = timezone.now()
    departments = type_departments()
    wanted = None if department_ids is None else set(department_ids)
    types = [t for t, d in departments.items() if wanted is None or d in wanted]
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT sr.service_type_id,
                       count(*),
                       count(*) FILTER (WHERE sr.expected_at < %(now)s)
                FROM {SR} sr WHERE sr.status = ANY(%(open)s) AND sr.service_type_id = ANY(%(types)s)
                  AND {LIVE_WHERE}
                GROUP BY 1""",
            {"open": OPEN, "now": now, "types": types},
        )
        open_rows = cursor.fetchall()
        cursor.execute(
            f"""SELECT sr.service_type_id, count(*) FROM {SR} sr
                WHERE sr.requested_at >= %(start)s AND sr.service_type_id = ANY(%(types)s)
                  AND {LIVE_WHERE}
                GROUP BY 1""",
            {"start": start, "types": types},
        )
        created_rows = cursor.fetchall()
        cursor.execute(
            f"""SELECT sr.service_type_id, count(*) FROM {SR} sr
                WHERE sr.closed_at >= %(start)s AND sr.status = %(closed)s
                  AND sr.service_type_id = ANY(%(types)s)
                GROUP BY 1""",
            {"start": start, "types": types, "closed": Status.CLOSED},
        )
        closed_rows = cursor.fetchall()
    per: dict[int, LiveCounts] = {}
    total = _no_counts()

    def slots(type_id: int) -> tuple[LiveCounts, LiveCounts]:
        """The type's department's counts and the total, both to be added to."""
        return per.setdefault(departments[type_id], _no_counts()), total

    for type_id, n_open, n_overdue in open_rows:
        for counts in slots(type_id):
            counts["open"] += n_open
            counts["overdue"] += n_overdue
    for type_id, n in created_rows:
        for counts in slots(type_id):
            counts["created_today"] += n
    for type_id, n in closed_rows:
        for counts in slots(type_id):
            counts["closed_today"] += n
    names = dict(Department.objects.values_list("id", "code"))
    rows: list[DepartmentLive] = [
        {"department_id": d, "department": names.get(d), **c} for d, c in sorted(per.items())
    ]
    return {"at": now.isoformat(), "total": total, "departments": rows}
