"""Alerts bench: matching one new request against 100,000 alert subscriptions in PostGIS.

    .venv/bin/python bench/alerts.py [--subscriptions 100000] [--matches 300] [--keep]

What it does, in order:

1. Prepares its own database, ``city311_bench_alerts`` (``--database``; PostGIS, migrated,
   catalog loaded), so dev data is untouched.
2. Fills it, in SQL (``INSERT ... SELECT generate_series``), with 64 made-up neighbourhood
   areas (an 8 x 8 grid over a 20 x 17 km box around Boston) and ``--subscriptions``
   confirmed subscriptions: 70 % circles (a random point in the box, a radius from 100 m to
   5 km, skewed to the short: median about 270 m, three in four under 1 km; one in 14 of them
   for one service), 20 % areas (one in
   four for one service), 10 % city-wide for one service; a third want updates too. Each
   circle is stored as its polygon (``ST_Buffer`` of the point as geography), as
   ``alert_subscription_create`` does. ``--keep`` reuses the rows of an earlier run.
3. Times ``backend.alerts.selectors.alert_subscription_ids_matching`` — the query the alert
   task runs for each new request — for ``--matches`` random request points and services,
   as the task does (the statement, its ids read with the cursor), then the baseline on every
   ``--baseline-every``-th (10) of the same cases:
   - indexed: as in production (GiST on the circles, the areas' own spatial index, b-trees
     on area and service);
   - baseline: the same statement with ``enable_indexscan``, ``enable_bitmapscan`` off and
     no parallel workers — a sequential scan of the subscriptions on one core.
4. Prints p50/p95 of each beside the goal (indexed p95 < 20 ms), the matches per request and
   the plan's indexes, writes ``bench/results/alerts.json`` and exits 1 if the goal is missed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "alerts.json"
GOAL_P95_MS = 20.0
# The box: west, south, east, north (about 20 x 17 km around central Boston).
BOX = (-71.17, 42.28, -70.93, 42.43)
GRID = 8
SEED = 311
# The baseline: the same statement without its indexes, on one core (no parallel workers: the
# bench machine is shared, and production's worker would not get them either).
BASELINE_ON = (
    "SET enable_indexscan = off; SET enable_bitmapscan = off; "
    "SET max_parallel_workers_per_gather = 0"
)
BASELINE_OFF = (
    "RESET enable_indexscan; RESET enable_bitmapscan; RESET max_parallel_workers_per_gather"
)

FILL_AREAS = """
INSERT INTO workorders_area (kind, name, slug, geometry, properties, loaded_at)
SELECT 'bench-cell', 'Bench cell ' || i || '-' || j, 'bench-cell-' || i || '-' || j,
       ST_Multi(ST_MakeEnvelope(
           %(west)s + i * %(dx)s, %(south)s + j * %(dy)s,
           %(west)s + (i + 1) * %(dx)s, %(south)s + (j + 1) * %(dy)s, 4326)),
       '{}'::jsonb, now()
FROM generate_series(0, %(grid)s - 1) i, generate_series(0, %(grid)s - 1) j
ON CONFLICT DO NOTHING
"""

# One row per n: its kind by n modulo 20 (0-13 circles, 14-17 areas, 18-19 city-wide).
FILL_SUBSCRIPTIONS = """
WITH params AS (
    SELECT n,
           n %% 20 AS k,
           ST_SetSRID(ST_MakePoint(
               %(west)s + random() * (%(east)s - %(west)s),
               %(south)s + random() * (%(north)s - %(south)s)), 4326) AS pt,
           -- 100 m to 5 km, skewed to the short: median about 270 m, 3 in 4 under 1 km
           round(100 * exp(power(random(), 2) * ln(50)))::int AS radius,
           (SELECT array_agg(id ORDER BY id) FROM workorders_area
             WHERE kind = 'bench-cell') AS areas,
           (SELECT array_agg(id ORDER BY id) FROM catalog_servicetype) AS services
    FROM generate_series(1, %(rows)s) n
)
INSERT INTO alerts_alertsubscription (
    user_id, email, confirmed_at, created_at, language, notify_new, notify_updates,
    frequency, by_email, by_push, point, radius_m, region, area_id, service_type_id,
    last_digest_at)
SELECT NULL, 'bench-' || n || '@example.org', now(), now(), 'en', true, n %% 3 = 0,
       CASE WHEN n %% 4 = 0 THEN 'daily' ELSE 'immediate' END, true, false,
       CASE WHEN k < 14 THEN pt END,
       CASE WHEN k < 14 THEN radius END,
       CASE WHEN k < 14 THEN ST_Multi(ST_Buffer(pt::geography, radius, 'quad_segs=8')::geometry)
       END,
       CASE WHEN k BETWEEN 14 AND 17 THEN areas[1 + (n / 20) %% array_length(areas, 1)] END,
       CASE WHEN k = 0 OR k = 14 OR k >= 18
            THEN services[1 + (n / 20) %% array_length(services, 1)] END,
       NULL
FROM params
"""


def fill(*, rows: int) -> dict[str, Any]:
    from django.db import connection

    from backend.alerts.models import AlertDelivery, AlertSubscription

    west, south, east, north = BOX
    values = {
        "west": west,
        "south": south,
        "east": east,
        "north": north,
        "dx": (east - west) / GRID,
        "dy": (north - south) / GRID,
        "grid": GRID,
        "rows": rows,
    }
    started = time.monotonic()
    AlertDelivery.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {AlertSubscription._meta.db_table} CASCADE")
        cursor.execute("SELECT setseed(0.311)")
        cursor.execute(FILL_AREAS, values)
        cursor.execute(FILL_SUBSCRIPTIONS, values)
        # As autovacuum leaves a table at rest: statistics, and the visibility map that lets
        # the covering indexes answer without the heap.
        cursor.execute(f"VACUUM ANALYZE {AlertSubscription._meta.db_table}")
        cursor.execute("VACUUM ANALYZE workorders_area")
    return {"fill_s": round(time.monotonic() - started, 1)}


def mix() -> dict[str, int]:
    from django.db.models import Q

    from backend.alerts.models import AlertSubscription

    subscriptions = AlertSubscription.objects
    return {
        "circles": subscriptions.filter(region__isnull=False).count(),
        "areas": subscriptions.filter(area__isnull=False).count(),
        "city-wide": subscriptions.filter(region__isnull=True, area__isnull=True).count(),
        "with a service": subscriptions.filter(~Q(service_type=None)).count(),
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def time_matches(*, count: int, baseline_every: int) -> dict[str, Any]:
    from django.contrib.gis.geos import Point
    from django.db import connection

    from backend.alerts.selectors import NEW, UPDATE, alert_subscription_ids_matching
    from backend.catalog.models import ServiceType

    rng = random.Random(SEED)
    services = list(ServiceType.objects.values_list("pk", flat=True))
    west, south, east, north = BOX
    cases = [
        (
            Point(rng.uniform(west, east), rng.uniform(south, north), srid=4326),
            rng.choice(services),
            NEW if rng.random() < 0.7 else UPDATE,
        )
        for _ in range(count)
    ]

    def run(point: Point, service: int, kind: str) -> tuple[float, int]:
        started = time.perf_counter()
        found = alert_subscription_ids_matching(point=point, service_type_id=service, kind=kind)
        return (time.perf_counter() - started) * 1000, len(found)

    indexed: list[float] = []
    baseline: list[float] = []
    matches: list[int] = []
    for point, service, kind in cases[:5]:  # warm-up: the caches, both plans
        run(point, service, kind)
    for point, service, kind in cases:
        ms, found = run(point, service, kind)
        indexed.append(ms)
        matches.append(found)
    # The baseline after, not in between: each of its scans takes a core for a second.
    for number, (point, service, kind) in enumerate(cases):
        if number % baseline_every:
            continue
        with connection.cursor() as cursor:
            cursor.execute(BASELINE_ON)
        ms_base, found_base = run(point, service, kind)
        with connection.cursor() as cursor:
            cursor.execute(BASELINE_OFF)
        assert found_base == matches[number], "the baseline found other subscriptions"
        baseline.append(ms_base)
    return {"indexed_ms": indexed, "baseline_ms": baseline, "matches": matches, "first": cases[0]}


def plan_indexes(point: Any, service: int, kind: str) -> list[str]:
    """The indexes the planner uses for one match: the ORM's statement, captured with its
    parameters, under EXPLAIN."""
    import re

    from django.db import connection

    from backend.alerts.selectors import alert_subscription_ids_matching

    captured: list[tuple[str, Any]] = []

    def capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        captured.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        alert_subscription_ids_matching(point=point, service_type_id=service, kind=kind)
    sql, params = captured[-1]
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    return sorted(set(re.findall(r"(?:Scan using|Index Scan on) (\w+)", plan)))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--matches", type=int, default=300, help="timed indexed matches")
    parser.add_argument(
        "--baseline-every",
        type=int,
        default=10,
        help="time the baseline on every n-th match (a sequential scan takes seconds)",
    )
    parser.add_argument("--database", default="city311_bench_alerts")
    parser.add_argument(
        "--keep", action="store_true", help="reuse the rows if the database holds as many"
    )
    args = parser.parse_args()

    common.django_setup_on(args.database)
    from backend.alerts.models import AlertSubscription

    fill_info: dict[str, Any] = {"reused": True}
    if not (args.keep and AlertSubscription.objects.count() == args.subscriptions):
        fill_info = fill(rows=args.subscriptions)
        print(f"filled in {fill_info['fill_s']} s", flush=True)
    subscriptions = mix()
    print(f"subscriptions: {AlertSubscription.objects.count():,} {subscriptions}", flush=True)

    timed = time_matches(count=args.matches, baseline_every=args.baseline_every)
    point, service, kind = timed["first"]
    indexes = plan_indexes(point, service, kind)
    load = os.getloadavg()[0]
    indexed, baseline = timed["indexed_ms"], timed["baseline_ms"]
    p50, p95 = statistics.median(indexed), _percentile(indexed, 0.95)
    b50, b95 = statistics.median(baseline), _percentile(baseline, 0.95)
    passed = p95 < GOAL_P95_MS
    matches = timed["matches"]
    lines = [
        f"alerts bench: {AlertSubscription.objects.count():,} subscriptions, "
        f"{len(indexed)} indexed matches, {len(baseline)} baseline",
        f"  matches per request: median {statistics.median(matches):.0f}, max {max(matches)}",
        f"  indexed   p50 {p50:7.2f} ms  p95 {p95:7.2f} ms   goal p95 < {GOAL_P95_MS:.0f} ms: "
        f"{'PASS' if passed else 'FAIL'}",
        f"  baseline  p50 {b50:7.2f} ms  p95 {b95:7.2f} ms   (the same statement, "
        "enable_indexscan, enable_bitmapscan off, no parallel workers: a sequential scan)",
        f"  speed-up at p95: {b95 / p95:.1f}x; the plan uses: {', '.join(indexes)}",
        f"  load average at the end: {load:.1f} on {os.cpu_count()} cores",
    ]
    print("\n".join(lines))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "subscriptions": subscriptions,
                "fill": fill_info,
                "indexed_ms": {"p50": round(p50, 2), "p95": round(p95, 2)},
                "baseline_ms": {"p50": round(b50, 2), "p95": round(b95, 2)},
                "baseline": BASELINE_ON,
                "matches": {"median": statistics.median(matches), "max": max(matches)},
                "plan_indexes": indexes,
                "load_average": round(load, 2),
                "goal_p95_ms": GOAL_P95_MS,
                "passed": passed,
                "commit": common.git("rev-parse", "--short", "HEAD"),
            },
            indent=2,
        )
    )
    print(f"figures: {RESULTS.relative_to(ROOT)}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
