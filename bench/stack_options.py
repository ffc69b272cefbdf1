"""Server-stack options measured against their alternative in one run: the intake bench's two
endpoints (POST /mobile/v1/requests and the bare DRF insert POST /bench/v1/rows,
``bench/intake.py``) served by two servers side by side, one per variant, their phases
alternating.

    flock /tmp/bench.lock .venv/bin/python bench/stack_options.py --compare server
    [--compare renderer|binding|health|middleware ...] [--duration 10] [--rounds 3]

Comparisons (the first variant is what production runs; ``bench.common.Stack``):

- ``server``: uvicorn (uvloop, httptools) against granian (ASGI), the same worker count;
- ``renderer``: DRF's JSON renderer and parser against orjson's (``bench/orjson_json.py``);
- ``binding``: psycopg's client-side binding against server-side binding with prepared
  statements (``prepare_threshold`` 5);
- ``health``: the pool's check of every connection it hands out against none;
- ``middleware``: the whole chain against one without the pages' sessions, sign-in,
  messages, CSRF and framing middleware (the most an API request could skip);
- ``code`` (only when asked, with ``--code CHECKOUT``): another checkout's application as A
  against this one's as B, the same defaults: CPU per request of old code against new, which
  a loaded machine moves far less than throughput.

Each comparison: both servers up (``--workers`` each, only one loaded at a time), a warm-up of
each endpoint on each, then ``--rounds`` rounds of baseline and intake phases on A then B
(B then A in every other round, so a drift in the machine's load falls on both). Prints the
medians per variant, B/A for each endpoint, and whether B wins by more than ``--noise``
(5 %), per round too. Beside throughput, which a loaded machine moves by tens of per cent
from one phase to the next, each phase reports the CPU time spent per answered request by
the server's processes (psutil, the supervisor and its workers) and by the PostgreSQL
backends of the bench database (those alive through the whole phase: the pools'), which
other jobs on the machine barely move: the verdict is on both. Every phase is checked like
the intake bench's (0 errors, rows = 201s). Its own database, ``city311_bench_stack``,
flushed at the start. Writes bench/results/stack_options-<comparisons>.json. Exits 1 if a
request failed, was lost or doubled.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402

from bench import common, intake  # noqa: E402  (the path is set up above)
from bench.common import Stack  # noqa: E402

RESULTS = ROOT / "bench" / "results"
COMPARISONS = {
    "server": (Stack(), Stack(server="granian")),
    "renderer": (Stack(), Stack(renderer="orjson")),
    "binding": (Stack(), Stack(binding="prepared")),
    "health": (Stack(), Stack(health_checks=False)),
    "middleware": (Stack(), Stack(middleware="api")),
}


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each process still alive."""
    seconds = {}
    for pid in pids:
        try:
            times = psutil.Process(pid).cpu_times()
        except psutil.NoSuchProcess:
            continue
        seconds[pid] = times.user + times.system
    return seconds


def server_pids(server: Any) -> list[int]:
    process = psutil.Process(server.pid)
    return [process.pid, *(child.pid for child in process.children(recursive=True))]


def backend_pids(admin: Any, database: str) -> list[int]:
    rows = admin.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s", [database])
    return [pid for (pid,) in rows.fetchall()]


def cpu_delta_ms(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU milliseconds spent between the snapshots by the processes in both."""
    return 1000 * sum(after[pid] - before[pid] for pid in after.keys() & before.keys())


def comparison_run(
    *, name: str, args: argparse.Namespace, url: str, tmp: Path, run_id: str
) -> dict[str, Any]:
    import psycopg
    from django.db import connection

    # ``code``: another checkout's application (A) against this one's (B), the same stack.
    variants = (Stack(code=args.code), Stack()) if name == "code" else COMPARISONS[name]
    admin = psycopg.connect(
        common.database_url_with_name(url, "postgres").replace("postgis://", "postgresql://"),
        autocommit=True,
    )
    servers = []
    load: dict[str, dict[str, Any]] = {}
    script = tmp / "intake.lua"
    script.write_text(intake.WRK_SCRIPT)
    try:
        for label, stack in zip("AB", variants, strict=True):
            port = common.free_port()
            # The servers run with the pool, as in production (this process has none).
            env = dict(os.environ, CITY311_BENCH="1", DATABASE_URL=url, DEBUG="0", **stack.env())
            env.pop("DB_POOL", None)
            log = tmp / f"{name}-{label}.log"
            server = common.server_start(
                port=port,
                workers=args.workers,
                env=env,
                log=log,
                server=stack.server,
                code=stack.code,
            )
            servers.append(server)
            base_url = f"http://127.0.0.1:{port}"
            common.server_wait_ready(server=server, base_url=base_url, log=log)
            load[label] = {
                "base_url": base_url,
                "script": script,
                "drain": args.drain,
                "connections": args.connections,
                "threads": args.threads,
                "area": (40.70, -74.00, args.area),
            }
        for label in "AB":
            for kind in intake.PATHS:
                warm = intake.wrk_run(
                    kind=kind,
                    tag=f"bench {run_id} {name} warmup {label}",
                    duration=args.warmup,
                    **load[label],
                )
                if warm["created"] == 0:
                    raise SystemExit(
                        f"{name} {label}: {intake.PATHS[kind]} answered no 201 in the warm-up "
                        f"(statuses {warm['statuses']}):\n"
                        + (tmp / f"{name}-{label}.log").read_text()[-4000:]
                    )
        phases: dict[str, list[intake.Phase]] = {"A": [], "B": []}
        cpu: dict[str, list[dict[str, Any]]] = {"A": [], "B": []}
        for round_ in range(1, args.rounds + 1):
            order = "AB" if round_ % 2 else "BA"
            for label in order:
                for kind in intake.PATHS:
                    tag = f"bench {run_id} {name} r{round_} {label} {kind}"
                    server = servers["AB".index(label)]
                    web_pids = server_pids(server)
                    db_pids = backend_pids(admin, args.database)
                    web_before, db_before = cpu_seconds(web_pids), cpu_seconds(db_pids)
                    phase = intake.phase_run(
                        kind=kind, round_=round_, tag=tag, args=args, **load[label]
                    )
                    web_ms = cpu_delta_ms(web_before, cpu_seconds(web_pids))
                    db_ms = cpu_delta_ms(db_before, cpu_seconds(db_pids))
                    connection.close()
                    cpu[label].append(
                        {
                            "kind": kind,
                            "web_ms": round(web_ms / max(phase.answered, 1), 3),
                            "db_ms": round(db_ms / max(phase.answered, 1), 3),
                        }
                    )
                    print(
                        f"{name} round {round_} {label} ({variants['AB'.index(label)].label()}) "
                        f"{kind:<8} {phase.throughput:7.1f} req/s  p50 {phase.p50_ms:5.1f} ms  "
                        f"p99 {phase.p99_ms:6.1f} ms  CPU/request web "
                        f"{cpu[label][-1]['web_ms']:.2f} + db {cpu[label][-1]['db_ms']:.2f} ms  "
                        f"errors {phase.errors}  "
                        f"lost {phase.lost}  doubled {phase.doubled}",
                        flush=True,
                    )
                    phases[label].append(phase)
    finally:
        admin.close()
        for server in servers:
            common.server_stop(server)
            if server.returncode not in (0, -signal.SIGTERM):
                print(f"a {name} server exited with {server.returncode}", file=sys.stderr)
    return comparison_summary(
        name=name, variants=variants, phases=phases, cpu=cpu, noise=args.noise
    )


def comparison_summary(
    *,
    name: str,
    variants: tuple[Stack, Stack],
    phases: dict[str, list[intake.Phase]],
    cpu: dict[str, list[dict[str, Any]]],
    noise: float,
) -> dict[str, Any]:
    summary: dict[str, Any] = {"comparison": name}
    for label, stack in zip("AB", variants, strict=True):
        figures: dict[str, Any] = {"stack": asdict(stack), "label": stack.label()}
        for kind in intake.PATHS:
            mine = [p for p in phases[label] if p.kind == kind]
            figures[kind] = {
                "throughput_median": statistics.median(p.throughput for p in mine),
                "throughput_per_round": [p.throughput for p in mine],
                "p50_ms_median": statistics.median(p.p50_ms for p in mine),
                "p99_ms_median": statistics.median(p.p99_ms for p in mine),
                "cpu_web_ms_median": statistics.median(
                    c["web_ms"] for c in cpu[label] if c["kind"] == kind
                ),
                "cpu_db_ms_median": statistics.median(
                    c["db_ms"] for c in cpu[label] if c["kind"] == kind
                ),
            }
            figures[kind]["cpu_ms_median"] = round(
                figures[kind]["cpu_web_ms_median"] + figures[kind]["cpu_db_ms_median"], 3
            )
        summary[label] = figures
    for kind in intake.PATHS:
        a, b = summary["A"][kind], summary["B"][kind]
        summary[f"{kind}_b_over_a"] = round(b["throughput_median"] / a["throughput_median"], 3)
        summary[f"{kind}_b_over_a_per_round"] = [
            round(y / x, 3)
            for x, y in zip(a["throughput_per_round"], b["throughput_per_round"], strict=True)
        ]
        summary[f"{kind}_cpu_b_over_a"] = round(b["cpu_ms_median"] / a["cpu_ms_median"], 3)
    # B wins when it serves more intakes per second and spends less CPU on each, both by
    # more than the noise.
    summary["b_wins"] = (
        summary["intake_b_over_a"] > 1 + noise and summary["intake_cpu_b_over_a"] < 1 - noise
    )
    every = [p for label in "AB" for p in phases[label]]
    summary["errors"] = sum(p.errors for p in every)
    summary["lost"] = sum(p.lost for p in every)
    summary["doubled"] = sum(p.doubled for p in every)
    return summary


def report_print(summaries: list[dict[str, Any]], config: dict[str, Any], results: Path) -> None:
    print()
    print(
        f"stack options: {config['rounds']} rounds x {config['duration_s']} s per endpoint and "
        f"variant, {config['connections']} connections, {config['workers']} workers per server, "
        f"{config['cpus']} CPUs; load average before {' '.join(config['loadavg_before'])}, "
        f"after {' '.join(config['loadavg_after'])} (shared machine: compare within a run)"
    )
    header = f"  {'comparison':<11}{'variant':<26}{'baseline req/s':>15}{'intake req/s':>14}"
    print(header + f"{'ratio':>7}{'intake p99 ms':>15}{'CPU ms/req base':>17}{'intake':>14}")
    for summary in summaries:
        for label in "AB":
            figures = summary[label]
            base, mine = figures["baseline"], figures["intake"]
            print(
                f"  {summary['comparison'] if label == 'A' else '':<11}"
                f"{label + ' ' + figures['label']:<26}"
                f"{base['throughput_median']:>15.1f}{mine['throughput_median']:>14.1f}"
                f"{mine['throughput_median'] / base['throughput_median']:>7.3f}"
                f"{mine['p99_ms_median']:>15.1f}"
                f"{base['cpu_web_ms_median']:>9.2f}+{base['cpu_db_ms_median']:<6.2f}"
                f"{mine['cpu_web_ms_median']:>7.2f}+{mine['cpu_db_ms_median']:<6.2f}"
            )
        verdict = "B wins" if summary["b_wins"] else "within noise or slower"
        print(
            f"  {'':<11}B/A intake {summary['intake_b_over_a']:.3f} "
            f"(rounds {summary['intake_b_over_a_per_round']}), baseline "
            f"{summary['baseline_b_over_a']:.3f} (rounds {summary['baseline_b_over_a_per_round']})"
            f"; CPU per request B/A intake {summary['intake_cpu_b_over_a']:.3f}, baseline "
            f"{summary['baseline_cpu_b_over_a']:.3f}"
            f": {verdict}; errors {summary['errors']}, lost {summary['lost']}, "
            f"doubled {summary['doubled']}"
        )
    print(f"  figures: {results.relative_to(ROOT)}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--compare",
        action="append",
        choices=[*sorted(COMPARISONS), "code"],
        help="repeatable; default all but code",
    )
    parser.add_argument(
        "--code",
        default="",
        help="with --compare code: another checkout (git worktree add /tmp/old <commit>), "
        "run as A against this checkout as B, the same stack",
    )
    counts = {
        "--duration": (10, "seconds of load per phase"),
        "--rounds": (3, "A+B pairs of phases"),
        "--connections": (4, "wrk connections"),
        "--threads": (1, "wrk threads"),
        "--workers": (2, "workers per server"),
        "--warmup": (3, "seconds per endpoint and server, not counted"),
        "--drain": (2, "seconds for answers in flight"),
    }
    for flag, (default, text) in counts.items():
        parser.add_argument(flag, type=int, default=default, help=text)
    parser.add_argument("--noise", type=float, default=0.05, help="a win must beat this")
    parser.add_argument("--database", default="city311_bench_stack")
    parser.add_argument("--area", type=float, default=5000.0, help="side of the box in metres")
    args = parser.parse_args()
    if "code" in (args.compare or []) and not args.code:
        parser.error("--compare code needs --code CHECKOUT")

    if shutil.which("wrk") is None:
        raise SystemExit("wrk is missing: apt-get install wrk (make bench-intake installs it)")
    loadavg_before = Path("/proc/loadavg").read_text().split()[:3]
    url = common.database_url(args.database)
    os.environ.update(CITY311_BENCH="1", DATABASE_URL=url, DEBUG="0", DB_POOL="0")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
    import django

    django.setup()
    print(f"preparing database {args.database}", flush=True)
    server_env = dict(os.environ)
    server_env.pop("DB_POOL")
    common.database_prepare(url=url, env=server_env, flush=True)

    run_id = secrets.token_hex(3)
    names = args.compare or list(COMPARISONS)
    summaries = []
    with tempfile.TemporaryDirectory(prefix="bench-stack-") as tmp:
        for name in names:
            summaries.append(
                comparison_run(name=name, args=args, url=url, tmp=Path(tmp), run_id=run_id)
            )

    config = {
        "run_id": run_id,
        "duration_s": args.duration,
        "rounds": args.rounds,
        "connections": args.connections,
        "workers": args.workers,
        "cpus": os.cpu_count(),
        "loadavg_before": loadavg_before,
        "loadavg_after": Path("/proc/loadavg").read_text().split()[:3],
        "commit": common.git("rev-parse", "--short", "HEAD"),
    }
    results = RESULTS / f"stack_options-{'-'.join(names)}.json"
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps({"config": config, "comparisons": summaries}, indent=2) + "\n")
    report_print(summaries, config, results)
    failed = any(s["errors"] or s["lost"] or s["doubled"] for s in summaries)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
