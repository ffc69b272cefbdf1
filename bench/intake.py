"""Intake benchmark: sustained JSON submissions to POST /mobile/v1/requests against a bare DRF
endpoint inserting one row (POST /bench/v1/rows, ``bench.baseline``) on the same server stack.

    .venv/bin/python bench/intake.py [--duration 20] [--connections 4] [--rounds 3]
        [--server uvicorn|granian] [--renderer drf|orjson] [--binding client|prepared]
        [--no-health-checks] [--middleware full|api]

The stack flags (``bench.common.Stack``; defaults: what production runs) choose the server and
the options ``bench/stack_options.py`` compares; they are printed with the figures.

What it does, in order:

1. Prepares its own database, ``city311_bench`` on the dev cluster (created with PostGIS if
   missing), so the dev data is neither polluted nor read: migrate, flush, ``catalog_load``.
   Every run starts from the same state: the catalog and no requests.
2. Starts uvicorn (``backend.asgi:application``, 2 workers for the 2 cores, DEBUG off, no access
   log) with ``CITY311_BENCH=1`` on a free loopback port and waits for /healthz; stops it at
   the end whatever happens.
3. Drives both endpoints with wrk from the same machine, alternating phases (baseline, intake,
   baseline, intake, ...) after a short warm-up of each, so noise on the shared machine falls
   on both. A Lua script sends a pothole at a random spot in a 5 x 5 km box per request (the
   duplicate check finds neighbours as the table fills) and counts every status exactly.
   Each connection stops sending after ``--duration`` seconds and the run lasts ``--drain``
   seconds more, so every request sent gets its answer and rows can be matched with 201s.
4. Counts the rows each phase created (each body carries a per-phase tag) and compares them
   with the 201s wrk saw: lost = 201s - rows, doubled = rows - 201s.
5. Prints medians over phases, the intake/baseline throughput ratio and PASS/FAIL against the
   goals, and writes the figures to bench/results/intake.json. Exits 1 if a goal fails.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import common  # noqa: E402  (the path is set up above)

RESULTS = ROOT / "bench" / "results" / "intake.json"
PATHS = {"baseline": "/bench/v1/rows", "intake": "/mobile/v1/requests"}
# Issue 18's goals (the earlier ones were 0.5 and 100 ms).
GOAL_RATIO = 0.6
GOAL_P99_MS = 50.0

# Lua for wrk, after the shared clock and thread set-up.
WRK_SCRIPT = (
    common.WRK_LUA_PRELUDE
    + r"""
function init(args)
  kind, tag, active = args[1], args[2], tonumber(args[3])
  lat0, long0, span = tonumber(args[4]), tonumber(args[5]), tonumber(args[6])
  math.randomseed(thread_id * 7919 + os.time())
  path = kind == "intake" and "/mobile/v1/requests" or "/bench/v1/rows"
  headers = {["Content-Type"] = "application/json"}
  n, sent, answered, created, duplicates = 0, 0, 0, 0, 0
  statuses = {}
  t_first, t_last, deadline = 0, 0, nil
end

-- wrk calls delay() before each request it sends (and not for the request() call it makes
-- once to check the script), so requests are counted here.
function delay()
  if past_deadline() then return 3600000 end
  sent = sent + 1
  return 0
end

function request()
  n = n + 1
  local id = string.format("%s t%d #%d", tag, thread_id, n)
  local body
  if kind == "intake" then
    -- span is in metres: about 111 km per degree of latitude, 84 km per degree of longitude
    -- at 40.7 N.
    local lat = lat0 + math.random() * span / 111000
    local long = long0 + math.random() * span / 84000
    body = string.format(
      '{"service_code":"pothole","lat":%.6f,"long":%.6f,"description":"%s",'
        .. '"attributes":{"size":"large"}}',
      lat, long, id)
  else
    body = string.format('{"text":"%s","number":%d}', id, n)
  end
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  answered = answered + 1
  t_last = now()
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then
    created = created + 1
    if kind == "intake" and not string.find(body, '"possible_duplicate":null', 1, true) then
      duplicates = duplicates + 1
    end
  end
end

function done(summary, latency, requests)
  local s, a, c, d, first, last = 0, 0, 0, 0, nil, 0
  local all = {}
  for _, t in ipairs(threads) do
    s = s + t:get("sent")
    a = a + t:get("answered")
    c = c + t:get("created")
    d = d + t:get("duplicates")
    local tf, tl = t:get("t_first"), t:get("t_last")
    if tf > 0 and (first == nil or tf < first) then first = tf end
    if tl > last then last = tl end
    for code, n in pairs(t:get("statuses")) do
      all[code] = (all[code] or 0) + n
    end
  end
  local codes = {}
  for code, n in pairs(all) do
    table.insert(codes, string.format('"%d":%d', code, n))
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"sent":%d,"answered":%d,"created":%d,"duplicates":%d,"statuses":{%s},'
      .. '"active_s":%.6f,"socket_errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}}\n',
    s, a, c, d, table.concat(codes, ","), last - (first or last),
    e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
"""
)


@dataclass
class Phase:
    kind: str  # baseline | intake
    round: int
    tag: str
    sent: int
    answered: int
    created: int  # 201 responses
    statuses: dict[str, int]
    socket_errors: dict[str, int]
    active_s: float
    throughput: float  # answers per second while sending
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    rows: int  # rows carrying this phase's tag, counted afterwards
    distinct_rows: int  # of which distinct request ids (a doubled insert shows here)
    duplicates_flagged: int  # intake answers naming a possible duplicate
    errors: int = field(init=False)
    lost: int = field(init=False)
    doubled: int = field(init=False)

    def __post_init__(self) -> None:
        self.errors = (
            (self.answered - self.created)  # any status but 201
            + sum(self.socket_errors.values())
            + (self.sent - self.answered)  # sent but never answered
        )
        # A 201 without its row is lost; a second row for one request id, or a row for a
        # request that got no 201, is doubled.
        self.lost = max(self.created - self.distinct_rows, 0)
        self.doubled = (self.rows - self.distinct_rows) + max(self.distinct_rows - self.created, 0)


# --- The database


def rows_count(*, kind: str, tag: str) -> tuple[int, int]:
    """Rows created by one phase, and how many distinct request ids they carry."""
    from backend.service_requests.models import ServiceRequest
    from bench.baseline.models import BenchRow

    prefix = tag + " "
    if kind == "intake":
        requests = ServiceRequest.objects.filter(description__startswith=prefix)
        return requests.count(), requests.values("description").distinct().count()
    rows = BenchRow.objects.filter(text__startswith=prefix)
    return rows.count(), rows.values("text").distinct().count()


# --- The load


def wrk_run(
    *,
    kind: str,
    tag: str,
    base_url: str,
    script: Path,
    duration: int,
    drain: int,
    connections: int,
    threads: int,
    area: tuple[float, float, float],
) -> dict[str, Any]:
    command = [
        "wrk",
        "--threads", str(threads),
        "--connections", str(connections),
        "--duration", f"{duration + drain}s",
        "--timeout", "30s",
        "--latency",
        "--script", str(script),
        base_url + PATHS[kind],
        "--", kind, tag, str(duration), *(str(x) for x in area),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            figures: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
            return figures
    raise SystemExit(f"wrk gave no figures (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")


def phase_run(*, kind: str, round_: int, tag: str, args: argparse.Namespace, **wrk: Any) -> Phase:
    figures = wrk_run(kind=kind, tag=tag, duration=args.duration, **wrk)
    rows, distinct_rows = rows_count(kind=kind, tag=tag)
    latency = figures["latency_us"]
    active = figures["active_s"] or float(args.duration)
    return Phase(
        kind=kind,
        round=round_,
        tag=tag,
        sent=figures["sent"],
        answered=figures["answered"],
        created=figures["created"],
        statuses=figures["statuses"],
        socket_errors=figures["socket_errors"],
        active_s=round(active, 3),
        throughput=round(figures["answered"] / active, 1),
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        rows=rows,
        distinct_rows=distinct_rows,
        duplicates_flagged=figures["duplicates"],
    )


# --- The report


def summary_build(phases: list[Phase]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for kind in PATHS:
        mine = [p for p in phases if p.kind == kind]
        summary[kind] = {
            "throughput_median": statistics.median(p.throughput for p in mine),
            "throughput_per_round": [p.throughput for p in mine],
            "p50_ms_median": statistics.median(p.p50_ms for p in mine),
            "p99_ms_median": statistics.median(p.p99_ms for p in mine),
            "p99_ms_worst": max(p.p99_ms for p in mine),
            "errors": sum(p.errors for p in mine),
            "created_201": sum(p.created for p in mine),
            "rows": sum(p.rows for p in mine),
            "lost": sum(p.lost for p in mine),
            "doubled": sum(p.doubled for p in mine),
            "duplicates_flagged": sum(p.duplicates_flagged for p in mine),
        }
    base, intake = summary["baseline"], summary["intake"]
    ratio = intake["throughput_median"] / base["throughput_median"]
    per_round = [
        round(i / b, 3)
        for b, i in zip(base["throughput_per_round"], intake["throughput_per_round"], strict=True)
    ]
    errors = base["errors"] + intake["errors"]
    lost = base["lost"] + intake["lost"]
    doubled = base["doubled"] + intake["doubled"]
    summary["ratio"] = round(ratio, 3)
    summary["ratio_per_round"] = per_round
    summary["goals"] = {
        f"ratio >= {GOAL_RATIO}": ratio >= GOAL_RATIO,
        f"intake p99 < {GOAL_P99_MS:.0f} ms": intake["p99_ms_median"] < GOAL_P99_MS,
        "errors == 0": errors == 0,
        "no request lost or doubled": lost == 0 and doubled == 0,
    }
    return summary


def report_print(*, summary: dict[str, Any], config: dict[str, Any]) -> None:
    base, intake = summary["baseline"], summary["intake"]

    def line(label: str, key: str, fmt: str = "{}") -> None:
        print(f"  {label:<30}{fmt.format(base[key]):>22}{fmt.format(intake[key]):>22}")

    print()
    print(
        f"intake bench: {config['rounds']} rounds x {config['duration_s']} s per endpoint, "
        f"{config['connections']} connections, wrk {config['wrk_threads']} thread(s), "
        f"{config['stack']['server']} {config['workers']} workers, {config['cpus']} CPUs, "
        f"db {config['database']}, stack: {config['stack_label']}"
    )
    print(
        f"load average before {' '.join(config['loadavg_before'])}, "
        f"after {' '.join(config['loadavg_after'])} (shared machine: compare within a run)"
    )
    print(f"  {'':<30}{'baseline /bench/v1/rows':>22}{'intake /mobile/v1/req':>22}")
    line("throughput req/s (median)", "throughput_median", "{:.1f}")
    print(
        f"  {'  per round':<30}"
        f"{' '.join(f'{x:.0f}' for x in base['throughput_per_round']):>22}"
        f"{' '.join(f'{x:.0f}' for x in intake['throughput_per_round']):>22}"
    )
    line("p50 ms (median of phases)", "p50_ms_median", "{:.1f}")
    line("p99 ms (median of phases)", "p99_ms_median", "{:.1f}")
    line("p99 ms (worst phase)", "p99_ms_worst", "{:.1f}")
    line("errors (all phases)", "errors")
    line("201 responses", "created_201")
    line("rows counted afterwards", "rows")
    print(
        f"  {'lost / doubled':<30}{'{} / {}'.format(base['lost'], base['doubled']):>22}"
        f"{'{} / {}'.format(intake['lost'], intake['doubled']):>22}"
    )
    goals = summary["goals"]
    errors = base["errors"] + intake["errors"]
    rows = f"lost {base['lost'] + intake['lost']}, doubled {base['doubled'] + intake['doubled']}"
    checks = [
        ("ratio intake/baseline", f"{summary['ratio']:.3f} (rounds {summary['ratio_per_round']})",
         f"ratio >= {GOAL_RATIO}"),
        ("intake p99", f"{intake['p99_ms_median']:.1f} ms", f"intake p99 < {GOAL_P99_MS:.0f} ms"),
        ("errors", str(errors), "errors == 0"),
        ("rows vs 201s", rows, "no request lost or doubled"),
    ]  # fmt: skip
    for label, value, goal in checks:
        verdict = "PASS" if goals[goal] else "FAIL"
        print(f"  {label:<24}{value:<40}goal {goal:<28}{verdict}")
    flagged = intake["duplicates_flagged"]
    share = flagged / intake["created_201"] if intake["created_201"] else 0.0
    print(f"  intake answers naming a possible duplicate: {flagged} ({share:.0%})")
    print(f"  figures: {RESULTS.relative_to(ROOT)}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per phase")
    parser.add_argument("--rounds", type=int, default=3, help="baseline+intake pairs")
    # 4 keep-alive connections already saturate the 2 uvicorn workers (the same throughput as
    # 8); more connections only add queueing in front of the server, which is what p99 then
    # measures (8 connections: p99 about 110 ms at the same req/s).
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers")
    parser.add_argument("--warmup", type=int, default=3, help="seconds per endpoint, not counted")
    parser.add_argument("--drain", type=int, default=3, help="seconds for answers in flight")
    parser.add_argument("--database", default="city311_bench")
    parser.add_argument("--area", type=float, default=5000.0, help="side of the box in metres")
    common.stack_arguments_add(parser)
    args = parser.parse_args()
    stack = common.stack_from_arguments(args)

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (make bench-intake installs it)")
    loadavg_before = Path("/proc/loadavg").read_text().split()[:3]
    url = common.database_url_with_name(
        os.environ.get("DATABASE_URL", common.DEV_DATABASE_URL), args.database
    )
    server_env = dict(os.environ, CITY311_BENCH="1", DATABASE_URL=url, DEBUG="0")
    migrate_env = dict(server_env)
    server_env.update(stack.env())
    # This process only counts rows: no pool of its own.
    os.environ.update(CITY311_BENCH="1", DATABASE_URL=url, DEBUG="0", DB_POOL="0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    import django

    django.setup()
    from django.db import connection

    print(f"preparing database {args.database}", flush=True)
    common.database_prepare(url=url, env=migrate_env, flush=True)

    run_id = secrets.token_hex(3)
    port = common.free_port()
    base_url = f"http://127.0.0.1:{port}"
    area = (40.70, -74.00, args.area)
    phases: list[Phase] = []
    with tempfile.TemporaryDirectory(prefix="bench-intake-") as tmp:
        script = Path(tmp) / "intake.lua"
        script.write_text(WRK_SCRIPT)
        log = Path(tmp) / "server.log"
        server = common.server_start(
            port=port, workers=args.workers, env=server_env, log=log, server=stack.server
        )
        try:
            common.server_wait_ready(server=server, base_url=base_url, log=log)
            load = {
                "base_url": base_url,
                "script": script,
                "drain": args.drain,
                "connections": args.connections,
                "threads": args.threads,
                "area": area,
            }
            for kind in PATHS:
                print(f"warm-up {kind} {args.warmup} s", flush=True)
                warm = wrk_run(
                    kind=kind, tag=f"bench {run_id} warmup", duration=args.warmup, **load
                )
                if warm["created"] == 0:
                    raise SystemExit(
                        f"{PATHS[kind]} answered no 201 during the warm-up "
                        f"(statuses {warm['statuses']}); the server said:\n"
                        + log.read_text()[-4000:]
                    )
            for round_ in range(1, args.rounds + 1):
                for kind in PATHS:
                    tag = f"bench {run_id} r{round_} {kind}"
                    phase = phase_run(kind=kind, round_=round_, tag=tag, args=args, **load)
                    connection.close()
                    print(
                        f"round {round_} {kind:<8} {phase.throughput:8.1f} req/s  "
                        f"p50 {phase.p50_ms:6.1f} ms  p99 {phase.p99_ms:6.1f} ms  "
                        f"errors {phase.errors}  201s {phase.created}  rows {phase.rows}",
                        flush=True,
                    )
                    phases.append(phase)
        finally:
            common.server_stop(server)
            if server.returncode not in (0, -signal.SIGTERM):
                print(log.read_text(), file=sys.stderr)

    config = {
        "run_id": run_id,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "connections": args.connections,
        "wrk_threads": args.threads,
        "workers": args.workers,
        "stack": asdict(stack),
        "stack_label": stack.label(),
        "warmup_s": args.warmup,
        "drain_s": args.drain,
        "database": args.database,
        "area_m": args.area,
        "cpus": os.cpu_count(),
        "loadavg_before": loadavg_before,
        "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        "commit": common.git("rev-parse", "--short", "HEAD"),
        "uncommitted_changes": bool(common.git("status", "--porcelain", "--untracked-files=no")),
    }
    summary = summary_build(phases)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"config": config, "summary": summary, "phases": [asdict(p) for p in phases]}, indent=2
        )
        + "\n"
    )
    report_print(summary=summary, config=config)
    return 0 if all(summary["goals"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
