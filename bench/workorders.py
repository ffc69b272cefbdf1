"""Work-order benchmark: the escalation scan over a million work orders, and the supervisor's
queue page.

    .venv/bin/python bench/workorders.py [--orders 1000000] [--runs 5] [--page-calls 30]
                                         [--keep]

What it does, in order:

1. Prepares its own database, ``city311_bench_workorders`` on the dev cluster (created with
   PostGIS if missing; migrate; catalog_load), so the dev data is neither polluted nor read.
2. Fills it (unless ``--keep`` finds it filled already) with set-based SQL: ``--orders``
   service requests and one work order each, ids 1..N, a deterministic mix: 80 % closed (75 %
   completed, 5 % cancelled) and 20 % open (5 % new, 6 % assigned, 6 % in progress, 3 % on
   hold). Of the open orders 30 % are past due: most were marked by earlier scans (overdue,
   and escalated again when past twice the turnaround); one in six became due since the last
   scan and one in twelve passed twice its turnaround since then. A team with a supervisor
   per department. Then VACUUM ANALYZE.
3. Times the escalation scan, ``workorders.escalation.work_orders_escalate`` (both
   set-based statements and their commit), ``--runs`` times, undoing what each run marked
   (markers, events, alerts; then VACUUM) before the next: "catch-up" is that scan. Then
   times the scan again with nothing new to mark ("steady", what runs every 3 minutes), and
   shows which indexes the plan of its SELECT reads (partial indexes of open orders: the
   planner picks ``wo_running_due`` or ``uniq_active_work_order`` by its statistics).
4. Times the supervisor's queue page, GET /staff/workorders/?department=public-works (the
   department with the most open orders, 50 per page) through Django's test client as the
   department's supervisor, ``--page-calls`` times after 3 warm-up calls, counting the
   queries of each call.
5. Prints a table with PASS/FAIL against the goals (catch-up scan median < 2 s; queue page
   <= 10 queries and median < 50 ms), writes bench/results/workorders.json and exits 1 if a
   goal is missed.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402  (the path is set up above)

RESULTS = ROOT / "bench" / "results" / "workorders.json"
GOAL_SCAN_S = 2.0
GOAL_PAGE_MS = 50.0
GOAL_PAGE_QUERIES = 10
QUEUE_DEPARTMENT = "public-works"
SUPERVISOR = "bench-supervisor"

# Status buckets of 1000 (by a hash of the row number): the realistic mix.
BUCKETS = (
    (750, "completed"),
    (800, "cancelled"),
    (850, "new"),
    (910, "assigned"),
    (970, "in_progress"),
    (1000, "on_hold"),
)


def _columns(model: Any, given: dict[str, str]) -> tuple[str, str, list[Any]]:
    """The INSERT column list and SELECT expressions for every concrete column: ours where
    given, else the field's default as a parameter (so columns other apps add later, with
    a default, do not break the fill)."""
    columns, expressions, params = [], [], []
    for field in model._meta.concrete_fields:
        column = field.column
        columns.append(column)
        if column in given:
            expressions.append(given[column])
        elif field.null:
            expressions.append("NULL")
        else:
            default = field.get_default()  # "" for text fields without a default
            if default is None:
                raise SystemExit(f"no value for {model._meta.db_table}.{column}")
            expressions.append("%s")
            params.append(field.get_db_prep_save(default, connection=_connection()))
    return ", ".join(columns), ", ".join(expressions), params


def _connection() -> Any:
    from django.db import connection

    return connection


def fill(*, orders: int, now: datetime) -> dict[str, Any]:
    """Requests and work orders 1..orders, set-based; teams and supervisors by the ORM."""
    from django.contrib.auth import get_user_model
    from django.db import connection, transaction

    from backend.catalog.models import Department, ServiceType
    from backend.service_requests.models import ServiceRequest
    from workorders.models import Team, TeamMember, TeamRole, WorkOrder

    services = list(
        ServiceType.objects.order_by("pk").values_list("pk", "department_id", "turnaround_hours")
    )
    teams: dict[int, int] = {}
    user_model = get_user_model()
    supervisor, _ = user_model.objects.get_or_create(
        username=SUPERVISOR, defaults={"email": "bench@example.org", "is_staff": True}
    )
    for department in Department.objects.all():
        team, _ = Team.objects.get_or_create(department=department, name="Bench crew")
        TeamMember.objects.get_or_create(
            team=team, user=supervisor, defaults={"role": TeamRole.SUPERVISOR}
        )
        teams[department.pk] = team.pk
    # (index, service type, department, team, turnaround hours): ints only.
    service_rows = ", ".join(
        f"({index}, {pk}, {department}, {teams[department]}, {hours})"
        for index, (pk, department, hours) in enumerate(services)
    )
    status_case = " ".join(
        f"WHEN mod(n * 7919, 1000) < {limit} THEN '{status}'" for limit, status in BUCKETS
    )
    # Per row: s = status, st = service, late = past-due class for open rows:
    #   0 not due, 1 became due since the last scan, 2 became twice due since the last scan,
    #   3 due long ago and marked (and twice due, marked, every other row).
    base = f"""
        WITH st(i, service_id, department_id, team_id, hours) AS (VALUES {service_rows}),
        rows AS (
            SELECT n, CASE {status_case} END AS s,
                   mod(n, {len(services)}) AS si,
                   CASE WHEN mod(n * 104729, 100) >= 30 THEN 0
                        WHEN mod(n * 31337, 60) < 10 THEN 1
                        WHEN mod(n * 31337, 60) < 15 THEN 2
                        ELSE 3 END AS late,
                   mod(n * 48271, 10000)::float8 / 10000 AS r
            FROM generate_series(1, %(orders)s::bigint) AS n
        ),
        timed AS (
            SELECT rows.*, st.service_id, st.department_id, st.team_id, st.hours,
                   CASE
                     WHEN s IN ('completed', 'cancelled')
                       THEN %(now)s - (interval '365 days' * r) - interval '1 hour' * st.hours
                     WHEN late = 0 THEN %(now)s - interval '1 hour' * st.hours * r
                     WHEN late = 1 THEN %(now)s - interval '1 hour' * st.hours
                                       - interval '1 minute' * (1 + r * 59)
                     WHEN late = 2 THEN %(now)s - interval '2 hours' * st.hours
                                       - interval '1 minute' * (1 + r * 59)
                     ELSE %(now)s - interval '1 hour' * st.hours * (1.2 + 2 * r)
                   END AS requested_at
            FROM rows JOIN st ON st.i = rows.si
        )
    """
    sr_given = {
        "id": "n",
        "public_id": "'SRB-' || n",
        "service_type_id": "service_id",
        "location": "ST_SetSRID(ST_MakePoint(-71.12 + 0.1 * r, "
        "42.30 + 0.08 * mod(n * 16807, 10000)::float8 / 10000), 4326)",
        "status": "CASE s WHEN 'completed' THEN 'closed' WHEN 'cancelled' THEN 'closed' "
        "WHEN 'new' THEN 'submitted' WHEN 'assigned' THEN 'acknowledged' "
        "ELSE 'in_progress' END",
        "channel": "'app'",
        "requested_at": "requested_at",
        "updated_at": "requested_at",
        "expected_at": "requested_at + interval '1 hour' * hours",
        "closed_at": "CASE WHEN s IN ('completed', 'cancelled') "
        "THEN requested_at + interval '1 hour' * hours * (0.5 + r) END",
        "close_reason": "CASE s WHEN 'completed' THEN 'resolved' WHEN 'cancelled' "
        "THEN 'cancelled' ELSE '' END",
        "attributes": "'{}'::jsonb",
    }
    due = "requested_at + interval '1 hour' * hours"
    again = "requested_at + interval '2 hours' * hours"
    done = "requested_at + interval '1 hour' * hours * (0.5 + r)"
    wo_given = {
        "id": "n",
        "service_request_id": "n",
        "department_id": "department_id",
        "team_id": "CASE WHEN s IN ('new', 'cancelled') THEN NULL ELSE team_id END",
        "status": "s",
        "turnaround_hours": "hours",
        "turnaround_business_hours": "false",
        "due_at": due,
        "escalate_again_at": again,
        "created_at": "requested_at",
        "updated_at": "requested_at",
        "assigned_at": "CASE WHEN s NOT IN ('new', 'cancelled') THEN requested_at END",
        "started_at": "CASE WHEN s IN ('in_progress', 'on_hold', 'completed') "
        "THEN requested_at END",
        "completed_at": f"CASE WHEN s = 'completed' THEN {done} END",
        "cancelled_at": f"CASE WHEN s = 'cancelled' THEN {done} END",
        "on_time": "CASE WHEN s = 'completed' THEN r < 0.5 END",
        "overdue_at": f"CASE WHEN s IN ('completed', 'cancelled') AND r >= 0.5 THEN {due} "
        f"WHEN late IN (2, 3) THEN {due} END",
        "escalated_again_at": f"CASE WHEN late = 3 AND {again} < %(now)s THEN {again} END",
        "review_reasons": "'[]'::jsonb",
    }
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        for model in (WorkOrder, ServiceRequest):
            cursor.execute(f"TRUNCATE {model._meta.db_table} CASCADE")
        for model, given in ((ServiceRequest, sr_given), (WorkOrder, wo_given)):
            columns, expressions, params = _columns(model, given)
            table = model._meta.db_table
            # The defaults' %s come first in the text: name them for the dict of params.
            named = {f"p{index}": value for index, value in enumerate(params)}
            for index in range(len(params)):
                expressions = expressions.replace("%s", f"%(p{index})s", 1)
            print(f"filling {table} ({orders:,} rows)", flush=True)
            cursor.execute(
                f"{base} INSERT INTO {table} ({columns}) SELECT {expressions} FROM timed",
                {"orders": orders, "now": now, **named},
            )
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), %(n)s)", {"n": orders}
            )
    filled_s = time.perf_counter() - start
    with connection.cursor() as cursor:
        for model in (ServiceRequest, WorkOrder):
            cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    return {"fill_s": round(filled_s, 1), "orders": orders, "filled_at": now.isoformat()}


def mix() -> dict[str, int]:
    from django.db.models import Count

    from workorders.models import WorkOrder

    return dict(WorkOrder.objects.values_list("status").annotate(n=Count("*")).order_by())


def scan_reset(now: datetime) -> None:
    """Undoes what a scan at ``now`` marked: markers, events and alerts."""
    from django.db import connection, transaction

    from workorders.models import SupervisorAlert, WorkOrder, WorkOrderEvent

    with transaction.atomic(), connection.cursor() as cursor:
        table = WorkOrder._meta.db_table
        cursor.execute(f"UPDATE {table} SET overdue_at = NULL WHERE overdue_at = %s", [now])
        cursor.execute(
            f"UPDATE {table} SET escalated_again_at = NULL WHERE escalated_again_at = %s", [now]
        )
        WorkOrderEvent.objects.filter(created_at=now, kind__in=["overdue", "escalated"]).delete()
        SupervisorAlert.objects.filter(created_at=now).delete()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM ANALYZE {WorkOrder._meta.db_table}")


def scan_plan(now: datetime) -> str:
    from django.db import connection

    from workorders.models import CLOCK_RUNNING_STATUSES, WorkOrder

    running = ", ".join(f"'{status}'" for status in CLOCK_RUNNING_STATUSES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"EXPLAIN (ANALYZE, BUFFERS) SELECT id FROM {WorkOrder._meta.db_table} "
            f"WHERE status IN ({running}) AND overdue_at IS NULL AND due_at < %s",
            [now],
        )
        return "\n".join(row[0] for row in cursor.fetchall())


def time_scans(*, runs: int) -> dict[str, Any]:
    from django.utils import timezone

    from workorders.escalation import work_orders_escalate

    catchup: list[float] = []
    marked: list[tuple[int, int]] = []
    for run in range(runs):
        now = timezone.now()
        start = time.perf_counter()
        result = work_orders_escalate(now=now)
        catchup.append(time.perf_counter() - start)
        marked.append((result.overdue, result.escalated))
        print(
            f"  catch-up scan {run + 1}: {catchup[-1] * 1000:8.1f} ms, marked "
            f"{result.overdue:,} overdue and {result.escalated:,} twice overdue",
            flush=True,
        )
        if run < runs - 1:
            scan_reset(now)
    steady: list[float] = []
    for _ in range(runs):
        start = time.perf_counter()
        result = work_orders_escalate()
        steady.append(time.perf_counter() - start)
        assert (result.overdue, result.escalated) == (0, 0), result
    plan = scan_plan(timezone.now())
    return {
        "catchup_s": catchup,
        "catchup_marked": marked,
        "steady_s": steady,
        "plan": plan,
        "plan_indexes": sorted(set(re.findall(r"using (\w+)", plan))),
    }


def time_queue_page(*, calls: int) -> dict[str, Any]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(get_user_model().objects.get(username=SUPERVISOR))
    url = f"/staff/workorders/?department={QUEUE_DEPARTMENT}"
    for _ in range(3):
        assert client.get(url).status_code == 200
    times, queries = [], []
    rows, total = 0, ""
    for _ in range(calls):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
        queries.append(len(captured.captured_queries))
        rows = len(response.context["page"])
        paginator = response.context["page"].paginator
        total = f"more than {paginator.count - 1:,}" if paginator.capped else f"{paginator.count:,}"
    return {"ms": times, "queries": queries, "rows": rows, "open_in_department": total}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5, help="timed scans of each kind")
    parser.add_argument("--page-calls", type=int, default=30)
    parser.add_argument("--database", default="city311_bench_workorders")
    parser.add_argument(
        "--keep", action="store_true", help="reuse the data if the database holds --orders"
    )
    args = parser.parse_args()

    common.django_setup_on(args.database)
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    from workorders.models import WorkOrder

    setup_test_environment()  # the test client's response.context
    fill_info: dict[str, Any] = {"reused": True}
    if not (args.keep and WorkOrder.objects.count() == args.orders):
        fill_info = fill(orders=args.orders, now=timezone.now())
        print(f"filled in {fill_info['fill_s']} s", flush=True)
    statuses = mix()
    print(f"work orders: {sum(statuses.values()):,} {statuses}", flush=True)

    print("escalation scan:", flush=True)
    scans = time_scans(runs=args.runs)
    print("supervisor queue page:", flush=True)
    page = time_queue_page(calls=args.page_calls)

    catchup_median = statistics.median(scans["catchup_s"])
    steady_median = statistics.median(scans["steady_s"])
    page_median = statistics.median(page["ms"])
    page_queries = max(page["queries"])
    checks = [
        (
            "escalation scan, catch-up",
            f"{catchup_median * 1000:.0f} ms median (min {min(scans['catchup_s']) * 1000:.0f}, "
            f"max {max(scans['catchup_s']) * 1000:.0f}); marks "
            f"{scans['catchup_marked'][0][0]:,} + {scans['catchup_marked'][0][1]:,}",
            f"< {GOAL_SCAN_S:g} s",
            catchup_median < GOAL_SCAN_S,
        ),
        (
            "escalation scan, steady",
            f"{steady_median * 1000:.1f} ms median; marks 0",
            f"< {GOAL_SCAN_S:g} s",
            steady_median < GOAL_SCAN_S,
        ),
        (
            "queue page, queries",
            f"{page_queries} (every call)",
            f"<= {GOAL_PAGE_QUERIES}",
            page_queries <= GOAL_PAGE_QUERIES,
        ),
        (
            "queue page, time",
            f"{page_median:.1f} ms median (min {min(page['ms']):.1f}, max {max(page['ms']):.1f})"
            f"; {page['rows']} rows of {page['open_in_department']} open",
            f"< {GOAL_PAGE_MS:g} ms",
            page_median < GOAL_PAGE_MS,
        ),
    ]
    print()
    print(f"Work orders: {sum(statuses.values()):,} ({statuses})")
    print(f"{'measure':<28}{'result':<72}{'goal':<10}")
    for name, result, goal, passed in checks:
        print(f"{name:<28}{result:<72}{goal:<10}{'PASS' if passed else 'FAIL'}")
    print(
        "scan plan (first statement's SELECT) reads the indexes: "
        + ", ".join(scans["plan_indexes"])
        + " (partial indexes of open orders, never the whole table)"
    )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "orders": args.orders,
                "statuses": statuses,
                "fill": fill_info,
                "scan": {
                    "catchup_ms": [round(s * 1000, 1) for s in scans["catchup_s"]],
                    "catchup_marked": scans["catchup_marked"],
                    "steady_ms": [round(s * 1000, 2) for s in scans["steady_s"]],
                    "catchup_median_ms": round(catchup_median * 1000, 1),
                    "steady_median_ms": round(steady_median * 1000, 2),
                    "plan_indexes": scans["plan_indexes"],
                    "plan": scans["plan"],
                },
                "queue_page": {
                    "ms": [round(m, 2) for m in page["ms"]],
                    "median_ms": round(page_median, 2),
                    "queries": page["queries"],
                    "rows": page["rows"],
                    "open_in_department": page["open_in_department"],
                },
                "goals": {
                    "scan_s": GOAL_SCAN_S,
                    "page_ms": GOAL_PAGE_MS,
                    "page_queries": GOAL_PAGE_QUERIES,
                },
                "passed": all(passed for *_, passed in checks),
                "at": datetime.now().astimezone().isoformat(),
                "commit": common.git("rev-parse", "--short", "HEAD"),
                "loadavg": Path("/proc/loadavg").read_text().split()[:3],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"figures: {RESULTS.relative_to(ROOT)}")
    return 0 if all(passed for *_, passed in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
