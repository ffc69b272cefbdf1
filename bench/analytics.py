"""Analytics benchmark: the leadership scorecard, a department page and the hotspot map over
millions of requests, against the same numbers computed straight from the raw tables; the
importer's rate; how fresh the counts stay while 50 new requests a second arrive.

    .venv/bin/python bench/analytics.py [--rows 5000000] [--calls 20] [--import-rows 200000]
                                        [--rate 50] [--seconds 30] [--keep]
                                        [--import-methods import] [--import-only]
                                        [--pages-only]

What it does, in order:

1. Prepares its own database, ``city311_bench_analytics`` (PostGIS, migrate, catalog_load),
   so the dev data is neither polluted nor read.
2. Unless ``--keep`` finds it filled already, generates ``--rows`` requests
   (``manage.py analytics_generate``: two years, seasonality, weekday and hour patterns,
   per-type resolution times, hotspots, an overdue backlog; COPY) and rebuilds the rollups;
   then VACUUM ANALYZE.
3. Times, through Django's test client as a leadership user, ``--calls`` warm calls of
   GET /api/v1/analytics/scorecard (week and quarter), /departments/<busiest> (quarter) and
   /hotspots for the busiest type and the last full quarter, and the same figures computed
   from the raw rows (``source="raw"``: every day from the raw tables) three times each; it
   checks both give the same numbers and reports the ratio. The percentiles of the busiest
   department's quarter and of the city's quarter are set against the exact nearest-rank
   values (percentile_disc, the definition; percentile_cont beside them) from the raw rows,
   and beside them, as the baseline, what the ratio-1.2 histograms of before ADR 0023 read
   (the old bucket expression over the raw rows, in the same run).
4. Imports ``--import-rows`` rows of a Boston-format CSV (the 100-row sample repeated under
   new ids) with ``manage.py analytics_import`` once per method of ``--import-methods``
   (``import``, the default; ``bulk`` is the command with ``--bulk``; the rows are deleted
   and the tables vacuumed after each run) and reports rows/s and the load average (without
   the rollup rebuild, timed apart). Beside it, the baseline every import is bounded by: the
   same file COPYed alone into an unlogged table of text columns, no index, no event, no
   mapping (the importer's first step), and the import into empty request and event tables
   (a first load: the same statements, small indexes).
   ``--keep --import-only`` runs just this step on a filled database and writes
   bench/results/analytics-import.json.
5. Freshness: ``--rate`` requests a second for ``--seconds`` through the intake pipeline
   (three threads) while a poller reads the live counters every 0.25 s and the rollup job
   runs every ANALYTICS_ROLLUP_INTERVAL_S; reports how long each request took to show in
   the count, and the refresh job's duration under that load.
6. Prints a table with PASS/FAIL against the goals (scorecard and department page p50 <
   100 ms, hotspots p50 < 200 ms, every percentile within 1 % of the nearest-rank value,
   import >= 50,000 rows/s, freshness <= 60 s), writes bench/results/analytics.json and
   exits 1 if a goal is missed. ``--pages-only`` stops after step 3 (no import, no
   freshness) and writes bench/results/analytics-pages.json.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402  (the path is set up above)

RESULTS = ROOT / "bench" / "results" / "analytics.json"
RESULTS_IMPORT = ROOT / "bench" / "results" / "analytics-import.json"
RESULTS_PAGES = ROOT / "bench" / "results" / "analytics-pages.json"
BULK_TABLES = ("service_requests_servicerequest", "service_requests_servicerequestevent")
BOSTON_SAMPLE = ROOT.parent / "shared" / "data" / "boston311-100.csv"
GOAL_PAGE_MS = 100.0
GOAL_HOTSPOTS_MS = 200.0
GOAL_PERCENTILE_ERROR = 0.01  # against the exact nearest-rank value (docs/metrics.md)
GOAL_IMPORT_RATE = 50_000
GOAL_FRESH_S = 60.0
LEADER = "bench-leader"
SUBMITTERS = 3


def manage(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def timed_calls(client: Any, url: str, calls: int) -> tuple[list[float], Any]:
    for _ in range(3):
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
    times = []
    body = None
    for _ in range(calls):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        body = response.json()
    return times, body


def timed_raw(fn: Any, runs: int = 3) -> tuple[list[float], Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return times, result


# The histograms before ADR 0023 (ratio 1.2 from one minute, 96 buckets), read the same way:
# the bucket of the ceil(q * n)-th duration at its geometric middle. The baseline of the
# accuracy figures, computed from the raw rows in the same run.
_OLD_BUCKET = "CASE WHEN {s} < 60 THEN 0 ELSE LEAST(95, 1 + floor(ln({s} / 60) / ln(1.2)))::int END"
QUANTILES = (0.5, 0.85, 0.9)


def _old_bucket_value(bucket: int) -> float:
    return 30.0 if bucket == 0 else 60 * 1.2 ** (bucket - 1) * 1.2**0.5


def percentiles_compared(*, window: Any, type_ids: list[int] | None) -> dict[str, dict[str, Any]]:
    """Exact nearest-rank (percentile_disc, the definition) and percentile_cont values of the
    window's times to close and to first response, and the ratio-1.2 histograms' reading, all
    from the raw rows in seconds (one statement per duration)."""
    from django.db import connection

    from analytics.measures import (
        CLOSED_WHERE,
        EVENTS_FROM,
        FIRST_RESPONSE_WHERE,
        LIVE_WHERE,
        day_start,
        range_params,
    )
    from analytics.tables import SR

    params, types = range_params(
        start=day_start(window.first),
        end=day_start(window.last + timedelta(days=1)),
        service_type_ids=type_ids,
    )
    sources = {
        "ttc": (
            "extract(epoch FROM sr.closed_at - sr.requested_at)",
            f"{SR} sr WHERE {CLOSED_WHERE} AND sr.closed_at >= %(t0)s AND sr.closed_at < %(t1)s",
        ),
        "ttfr": (
            "extract(epoch FROM e.created_at - sr.requested_at)",
            f"{EVENTS_FROM} WHERE {FIRST_RESPONSE_WHERE} AND {LIVE_WHERE}"
            " AND e.created_at >= %(t0)s AND e.created_at < %(t1)s",
        ),
    }
    qs = "ARRAY[0.5, 0.85, 0.9]"
    out: dict[str, dict[str, Any]] = {}
    with connection.cursor() as cursor:
        for name, (seconds, rows) in sources.items():
            cursor.execute(
                f"""SELECT percentile_disc({qs}) WITHIN GROUP (ORDER BY s),
                           percentile_cont({qs}) WITHIN GROUP (ORDER BY s),
                           percentile_disc({qs}) WITHIN GROUP (ORDER BY b), count(*)
                    FROM (SELECT s, {_OLD_BUCKET.format(s="s")} AS b
                          FROM (SELECT {seconds} AS s FROM {rows} {types}) d) x""",
                params,
            )
            disc, cont, old, n = cursor.fetchone()
            out[name] = {
                "n": n,
                "nearest_rank_s": [float(v) for v in disc or []],
                "cont_s": [float(v) for v in cont or []],
                "ratio_1_2_s": [_old_bucket_value(b) for b in old or []],
            }
    return out


def accuracy_rows(
    label: str, compared: dict[str, dict[str, Any]], summary: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """One row per duration and quantile: the exact values, the page's figure (hours, as the
    API shows it, from the ratio-1.02 histograms) and the ratio-1.2 reading, with their
    relative errors against the exact nearest-rank value."""
    rows = []
    for name, found in compared.items():
        for i, q in enumerate(QUANTILES):
            if not found["nearest_rank_s"]:
                continue
            exact_h = found["nearest_rank_s"][i] / 3600
            shown = summary[f"{name}_p{round(q * 100)}_h"]
            old_h = found["ratio_1_2_s"][i] / 3600
            rows.append(
                {
                    "figure": f"{label} {name} p{round(q * 100)}",
                    "n": found["n"],
                    "exact_nearest_rank_h": round(exact_h, 3),
                    "exact_cont_h": round(found["cont_s"][i] / 3600, 3),
                    "histogram_h": shown,
                    "error": round(abs(shown - exact_h) / exact_h, 5) if exact_h else None,
                    "ratio_1_2_h": round(old_h, 3),
                    "ratio_1_2_error": round(abs(old_h - exact_h) / exact_h, 5)
                    if exact_h
                    else None,
                }
            )
    return rows


def last_full_quarter(today: date) -> tuple[str, date, date]:
    q = (today.month - 1) // 3  # the current quarter's index, 0-3
    year, q = (today.year, q) if q > 0 else (today.year - 1, 4)
    first = date(year, 3 * q - 2, 1)
    after = date(year + (q == 4), 1 if q == 4 else 3 * q + 1, 1)
    return f"{year}Q{q}", first, after - timedelta(days=1)


def boston_csv(path: Path, rows: int) -> None:
    with BOSTON_SAMPLE.open(encoding="utf-8", newline="") as handle:
        sample = list(csv.DictReader(handle))
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(sample[0]))
        writer.writeheader()
        for i in range(rows):
            record = dict(sample[i % len(sample)])
            record["case_enquiry_id"] = f"9{i:011d}"
            writer.writerow(record)


def _copy_alone(path: Path) -> float:
    """Rows/s of COPYing the file into an unlogged table of text columns: no index, no event,
    no mapping, nothing but the server's CSV parser and the table's write."""
    from django.db import connection

    header = next(csv.reader(path.open(encoding="utf-8")))
    names = ", ".join(f"c{i}" for i in range(1, len(header) + 1))
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_copy_alone")
        cursor.execute(
            "CREATE UNLOGGED TABLE bench_copy_alone ("
            + ", ".join(f"c{i} text" for i in range(1, len(header) + 1))
            + ")"
        )
        start = time.perf_counter()
        with (
            cursor.cursor.copy(
                f"COPY bench_copy_alone ({names}) FROM STDIN (FORMAT csv, HEADER true)"
            ) as copy,
            path.open("rb") as handle,
        ):
            while block := handle.read(1 << 20):
                copy.write(block)
        seconds = time.perf_counter() - start
        cursor.execute("DROP TABLE bench_copy_alone")
    return round(sum(1 for _ in path.open("rb")) / seconds)


def _database_drop(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


def _import_once(path: Path, method: str, env: dict[str, str]) -> dict[str, Any]:
    options = ["--bulk"] if method == "bulk" else []
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    out = manage(
        "analytics_import", "boston", str(path), "--no-progress", "--no-rollups", *options, env=env
    )
    import_s = time.perf_counter() - start
    rate_line = out.strip().splitlines()[0]
    return {
        "method": method,
        "command_s": round(import_s, 1),
        "rows_per_s": float(rate_line.rsplit("(", 1)[1].split(" ")[0].replace(",", "")),
        "load_avg_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "output": rate_line,
    }


def import_rates(args: Any, env: dict[str, str]) -> dict[str, Any]:
    """Imports ``--import-rows`` Boston rows once per method of ``--import-methods``, reports
    rows/s and the load average, and after each run deletes the imported rows and vacuums the
    two tables, so every run starts from the database as generated. Beside them: the COPY of
    the file alone, and the import into empty tables (another database, made and dropped)."""
    from django.db import connection

    runs = []
    imported = "SELECT id FROM service_requests_servicerequest WHERE public_id LIKE %s"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "boston.csv"
        boston_csv(path, args.import_rows)
        copy_alone = _copy_alone(path)
        print(f"COPY of the file alone: {copy_alone:,} rows/s", flush=True)
        for method in [m for m in args.import_methods.split(",") if m]:
            runs.append({**_import_once(path, method, env), "rows": args.import_rows})
            print(f"import ({method}): {runs[-1]}", flush=True)
            with connection.cursor() as cursor:  # leave the data as generated
                cursor.execute(
                    f"DELETE FROM service_requests_servicerequestevent"
                    f" WHERE service_request_id IN ({imported})",
                    ["BOS-9%"],
                )
                cursor.execute(
                    f"DELETE FROM service_requests_servicerequest WHERE id IN ({imported})",
                    ["BOS-9%"],
                )
                for table in BULK_TABLES:
                    cursor.execute(f"VACUUM {table}")
        empty_url = common.database_url_with_name(env["DATABASE_URL"], "city311_bench_import_empty")
        empty_env = {**env, "DATABASE_URL": empty_url}
        _database_drop(empty_url)
        common.database_prepare(url=empty_url, env=empty_env)
        first_load = _import_once(path, "import", empty_env)
        _database_drop(empty_url)
        print(f"import into empty tables: {first_load}", flush=True)
    default = [r for r in runs if r["method"] == "import"] or runs
    rate = default[-1]["rows_per_s"]
    return {
        "rows_per_s": rate,
        "runs": runs,
        "copy_alone_rows_per_s": copy_alone,
        "import_vs_copy_alone": round(rate / copy_alone, 3),
        "into_empty_tables": first_load,
    }


def freshness(*, rate: int, seconds: int, interval_s: float) -> dict[str, Any]:
    """Submits ``rate`` requests a second; a poller reads created-today and closed counts."""
    from django.db import connections

    from analytics.rollups import rollups_refresh
    from analytics.selectors import live_counters
    from backend.intake.services import service_request_submit

    stop = threading.Event()
    committed: list[float] = []
    lock = threading.Lock()
    refreshes: list[float] = []
    polls: list[tuple[float, int]] = []
    baseline = live_counters()["total"]["created_today"]

    def submitter(offset: int) -> None:
        per_thread = rate / SUBMITTERS
        start = time.perf_counter()
        n = 0
        try:
            while not stop.is_set():
                due = start + n / per_thread
                pause = due - time.perf_counter()
                if pause > 0:
                    time.sleep(pause)
                service_request_submit(
                    service_code="graffiti",
                    channel="web",
                    lat=42.30 + (n % 100) * 0.0007,
                    long=-71.10 + offset * 0.01,
                    attributes={"surface": "public", "offensive": "no"},
                )
                with lock:
                    committed.append(time.perf_counter())
                n += 1
        finally:
            connections.close_all()

    def refresher() -> None:
        try:
            while not stop.wait(interval_s):
                start = time.perf_counter()
                rollups_refresh()
                refreshes.append(time.perf_counter() - start)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submitter, args=(i,)) for i in range(SUBMITTERS)]
    threads.append(threading.Thread(target=refresher))
    for t in threads:
        t.start()
    end = time.perf_counter() + seconds
    while time.perf_counter() < end + 2:
        count = live_counters()["total"]["created_today"] - baseline
        polls.append((time.perf_counter(), count))
        if time.perf_counter() >= end:
            stop.set()
        time.sleep(0.25)
    stop.set()
    for t in threads:
        t.join()
    count = live_counters()["total"]["created_today"] - baseline
    polls.append((time.perf_counter(), count))
    lags = []
    for i, at in enumerate(sorted(committed)):
        seen = next((t for t, n in polls if n >= i + 1 and t >= at), None)
        if seen is not None:
            lags.append(seen - at)
    return {
        "submitted": len(committed),
        "achieved_rate": round(len(committed) / seconds, 1),
        "counted": count,
        "lag_p50_s": round(statistics.median(lags), 3) if lags else None,
        "lag_max_s": round(max(lags), 3) if lags else None,
        "refresh_runs": len(refreshes),
        "refresh_s": [round(r, 3) for r in refreshes],
        "rollup_staleness_bound_s": round(interval_s + max(refreshes, default=0), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--import-rows", type=int, default=200_000)
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=70)
    parser.add_argument("--database", default="city311_bench_analytics")
    parser.add_argument(
        "--import-methods",
        default="import",
        help="import, bulk (analytics_import --bulk): timed side by side, in order",
    )
    parser.add_argument(
        "--import-only",
        action="store_true",
        help="with --keep and a filled database: only the import part (step 4)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="reuse the data if the database holds --rows"
    )
    parser.add_argument(
        "--pages-only",
        action="store_true",
        help="steps 1-3 and the percentiles' accuracy only (no import, no freshness);"
        " writes bench/results/analytics-pages.json",
    )
    args = parser.parse_args()

    url = common.database_url(args.database)
    env = dict(os.environ, DATABASE_URL=url, DEBUG="0", DB_POOL="0", CATALOG_CACHE_SECONDS="30")
    os.environ.update(env)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    print(f"preparing database {args.database}", flush=True)
    common.database_prepare(url=url, env=env)
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from rest_framework.test import APIClient

    from analytics.measures import local_today
    from analytics.models import RollupState, TypeDailyRollup
    from analytics.scorecard import department_page, scorecard
    from analytics.selectors import (
        Window,
        hotspots,
        measures_grouped,
        percentiles_exact,
        window_for,
    )
    from backend.catalog.models import Department, ServiceType
    from backend.service_requests.models import ServiceRequest

    fill: dict[str, Any] = {"reused": True}
    present = ServiceRequest.objects.filter(public_id__startswith="GEN-").count()
    if not (args.keep and present >= args.rows * 0.99):
        print(f"generating {args.rows:,} requests", flush=True)
        start = time.perf_counter()
        out = manage(
            "analytics_generate",
            "--rows",
            str(args.rows),
            "--no-progress",
            "--no-rollups",
            env=env,
        )
        fill = {"generate_s": round(time.perf_counter() - start, 1), "output": out.strip()}
        print(out.strip(), flush=True)
    if not (args.keep and TypeDailyRollup.objects.exists() and RollupState.objects.exists()):
        print("rebuilding rollups", flush=True)
        start = time.perf_counter()
        manage("analytics_rollups", "--rebuild", env=env)
        fill["rollup_rebuild_s"] = round(time.perf_counter() - start, 1)
        print(f"rollups rebuilt in {fill['rollup_rebuild_s']} s", flush=True)
    if args.import_only:
        result = {"requests": ServiceRequest.objects.count(), **import_rates(args, env)}
        RESULTS_IMPORT.parent.mkdir(parents=True, exist_ok=True)
        RESULTS_IMPORT.write_text(json.dumps(result, indent=2) + "\n")
        print(f"written {RESULTS_IMPORT.relative_to(ROOT)}")
        return 0
    with connection.cursor() as cursor:
        for table in ("service_requests_servicerequest", "service_requests_servicerequestevent"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    total = ServiceRequest.objects.count()
    print(f"requests in the database: {total:,}", flush=True)

    leader, _ = get_user_model().objects.get_or_create(username=LEADER, defaults={"is_staff": True})
    client = APIClient()
    client.force_authenticate(leader)
    today = local_today()
    figures: dict[str, Any] = {}

    # The scorecard, week and quarter.
    for period in ("week", "quarter"):
        window = window_for(period=period, end=today)
        ms, body = timed_calls(client, f"/api/v1/analytics/scorecard?period={period}", args.calls)
        raw_ms, raw = timed_raw(lambda w=window: scorecard(window=w, source="raw"))
        same = raw["departments"] == body["departments"] and raw["city"] == body["city"]
        figures[f"scorecard_{period}"] = {
            "p50_ms": round(statistics.median(ms), 1),
            "max_ms": round(max(ms), 1),
            "raw_p50_ms": round(statistics.median(raw_ms), 1),
            "ratio": round(statistics.median(raw_ms) / statistics.median(ms), 1),
            "same_numbers": same,
            "city_score": body["city"]["score"],
        }
        print(f"scorecard {period}: {figures[f'scorecard_{period}']}", flush=True)

    # The busiest department's page, quarter.
    busiest = (
        ServiceType.objects.values("department__code")
        .annotate(n=django.db.models.Count("id"))
        .order_by("-n")
        .first()
    )
    code = busiest["department__code"] if busiest else "public-works"
    department = Department.objects.get(code=code)
    window = window_for(period="quarter", end=today)
    ms, body = timed_calls(client, f"/api/v1/analytics/departments/{code}", args.calls)
    raw_ms, raw = timed_raw(
        lambda: department_page(department=department, window=window, source="raw")
    )
    type_ids = list(department.services.values_list("id", flat=True))
    exact = percentiles_exact(window=window, service_type_ids=type_ids)
    accuracy = accuracy_rows(
        f"{code} quarter",
        percentiles_compared(window=window, type_ids=type_ids),
        body["summary"],
    )
    city = measures_grouped(window=window)[()].summary()
    accuracy += accuracy_rows(
        "city quarter", percentiles_compared(window=window, type_ids=None), city
    )
    figures["accuracy"] = accuracy
    figures["department_quarter"] = {
        "department": code,
        "p50_ms": round(statistics.median(ms), 1),
        "max_ms": round(max(ms), 1),
        "raw_p50_ms": round(statistics.median(raw_ms), 1),
        "ratio": round(statistics.median(raw_ms) / statistics.median(ms), 1),
        "same_numbers": raw["summary"] == body["summary"]
        and raw["by_service_type"] == body["by_service_type"]
        and raw["trend"] == body["trend"],
        "ttc_p50_h_histogram": body["summary"]["ttc_p50_h"],
        "ttc_p50_h_exact": exact["ttc_p50_h"],
        "ttc_p90_h_histogram": body["summary"]["ttc_p90_h"],
        "ttc_p90_h_exact": exact["ttc_p90_h"],
        "open": body["backlog"]["open"],
        "overdue": body["backlog"]["overdue"],
    }
    print(f"department page: {figures['department_quarter']}", flush=True)

    # Hotspots: the busiest type, the last full quarter.
    label, first, last = last_full_quarter(today)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT service_type_id FROM analytics_typedailyrollup WHERE day BETWEEN %s AND %s"
            " GROUP BY 1 ORDER BY sum(created) DESC LIMIT 1",
            [first, last],
        )
        busiest_type = cursor.fetchone()[0]
    service_code = ServiceType.objects.get(pk=busiest_type).service_code
    ms, body = timed_calls(
        client,
        f"/api/v1/analytics/hotspots?service_type={service_code}&quarter={label}",
        args.calls,
    )
    raw_ms, raw_cells = timed_raw(
        lambda: hotspots(service_type_id=busiest_type, window=Window(first, last), source="raw")
    )
    figures["hotspots_quarter"] = {
        "service_type": service_code,
        "quarter": label,
        "cells": len(body["cells"]),
        "requests": sum(c["count"] for c in body["cells"]),
        "overdue_points": len(body["overdue"]),
        "p50_ms": round(statistics.median(ms), 1),
        "max_ms": round(max(ms), 1),
        "raw_p50_ms": round(statistics.median(raw_ms), 1),
        "ratio": round(statistics.median(raw_ms) / statistics.median(ms), 1),
        "same_numbers": raw_cells == body["cells"],
    }
    print(f"hotspots: {figures['hotspots_quarter']}", flush=True)

    checks = [
        ("scorecard week p50", figures["scorecard_week"]["p50_ms"], GOAL_PAGE_MS, "<"),
        ("scorecard quarter p50", figures["scorecard_quarter"]["p50_ms"], GOAL_PAGE_MS, "<"),
        ("department quarter p50", figures["department_quarter"]["p50_ms"], GOAL_PAGE_MS, "<"),
        ("hotspots quarter p50", figures["hotspots_quarter"]["p50_ms"], GOAL_HOTSPOTS_MS, "<"),
        (
            "percentile error max",
            max((r["error"] for r in accuracy if r["error"] is not None), default=1e9),
            GOAL_PERCENTILE_ERROR,
            "<=",
        ),
    ]
    if not args.pages_only:
        # Import rate, each method in --import-methods on its own fresh ids, one after the
        # other.
        figures["import"] = import_rates(args, env)
        print(f"import: {figures['import']}", flush=True)

        # Freshness under load.
        print(f"freshness: {args.rate} requests/s for {args.seconds} s", flush=True)
        figures["freshness"] = freshness(
            rate=args.rate, seconds=args.seconds, interval_s=settings.ANALYTICS_ROLLUP_INTERVAL_S
        )
        print(f"freshness: {figures['freshness']}", flush=True)
        checks += [
            ("import rows/s", figures["import"]["rows_per_s"], GOAL_IMPORT_RATE, ">="),
            (
                "count freshness max s",
                figures["freshness"]["lag_max_s"] or 1e9,
                GOAL_FRESH_S,
                "<=",
            ),
        ]

    print()
    print(
        f"{'percentile':<34}{'n':>9}  {'exact (nearest rank)':>20}  {'cont':>9}  "
        f"{'ratio 1.02':>10}  {'error':>7}  {'ratio 1.2 (before)':>18}  {'error':>7}"
    )
    for r in accuracy:
        print(
            f"{r['figure']:<34}{r['n']:>9}  {r['exact_nearest_rank_h']:>18} h  "
            f"{r['exact_cont_h']:>7} h  {r['histogram_h']:>8} h  {r['error']:>7.2%}  "
            f"{r['ratio_1_2_h']:>16} h  {r['ratio_1_2_error']:>7.2%}"
        )
    print()
    print(f"Requests: {total:,}")
    print(f"{'measure':<26}{'result':>12}  {'raw':>10}  {'ratio':>7}  {'goal':<12}")
    passed_all = True
    for name, value, goal, op in checks:
        passed = value < goal if op == "<" else value >= goal if op == ">=" else value <= goal
        passed_all &= passed
        key = {
            "scorecard week p50": "scorecard_week",
            "scorecard quarter p50": "scorecard_quarter",
            "department quarter p50": "department_quarter",
            "hotspots quarter p50": "hotspots_quarter",
        }.get(name)
        raw = f"{figures[key]['raw_p50_ms']:>8} ms" if key else " " * 10
        ratio = f"{figures[key]['ratio']:>6}x" if key else " " * 7
        print(
            f"{name:<26}{value:>12}  {raw}  {ratio}  {op} {goal:<10}{'PASS' if passed else 'FAIL'}"
        )
    results = RESULTS_PAGES if args.pages_only else RESULTS
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(
        json.dumps({"requests": total, "rows_asked": args.rows, "fill": fill, **figures}, indent=2)
        + "\n"
    )
    print(f"written {results.relative_to(ROOT)}")
    return 0 if passed_all else 1


if __name__ == "__main__":
    sys.exit(main())
