"""A rehearsed scale-out: city311 on seven hosts of its own (network namespaces on this
machine, tests/netstack.py) under the busy-day mix of bench/load.py, with faults.

    flock /tmp/bench.lock .venv/bin/python bench/scaleout.py [--seconds 150] [--rate 12]
        [--throughput-seconds 60] [--throughput-rate 40] [--no-throughput]

The hosts: a database host (PostgreSQL + PostGIS behind PgBouncer in transaction mode,
docker/pgbouncer.ini), a broker host (Redis), two web hosts (uvicorn, one process each) behind
a load-balancer host (HAProxy, docker/haproxy.cfg: health checks on /healthz), a worker host
(Celery worker, beat, the outbox dispatcher) and a client host (locust, bench/locustfile.py).
Needs root; traffic stays inside those namespaces (no address of the machine's own).

While the mix runs (``--seconds`` at ``--rate`` requests a second offered), one fault after
another (``FAULTS``, seconds from the start of the load):

- ``web_kill``: SIGKILL to the uvicorn of web2, started again ``WEB_DOWN_S`` later. Residents
  re-send a filing that got no answer (or a 502/503/504) with its Idempotency-Key; errors only
  while HAProxy has not yet seen the host down (``inter`` x ``fall`` of docker/haproxy.cfg).
- ``worker_kill``: every process of the worker host killed, all started again
  ``WORKER_DOWN_S`` later; intake keeps answering meanwhile (no error), and the photos left
  pending when it comes back are processed.
- ``pgbouncer_restart`` and ``postgres_restart``: each away ``AWAY_S``; every error meanwhile
  is the application's 503 with Retry-After, and the answers come back with nothing
  restarted (the web processes are the same).

Then bench/load.py's counting (``bench.load.run`` with this stack): every request a resident
got a 201 for is in the database once (lost, doubled), the background work drained. Last,
the same mix without faults at ``--throughput-rate`` (above what the machine answers) with
one and with two web hosts: on a machine of 2 cores that measures what a node costs, not a
speed-up. Prints the requests offered and answered, lost, doubled, the errors and their
window for each fault, both throughputs and PASS/FAIL per check; writes
bench/results/scaleout.json. Exits 1 on a fail.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402
from bench.load_search import held_lock  # noqa: E402
from tests.netstack import HAPROXY_CFG, NetStack  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "scaleout.json"
FAULTS = [("web_kill", 20.0), ("worker_kill", 50.0), ("pgbouncer_restart", 85.0),
          ("postgres_restart", 110.0)]  # fmt: skip
WEB_DOWN_S = 15.0
WORKER_DOWN_S = 15.0
AWAY_S = 4.0
RECOVERY_S = 10.0  # after a database tier is back, answers again within this
# A task a killed worker held comes back after the visibility timeout (bench/load.py's 300 s
# would outlast the run).
VISIBILITY_TIMEOUT_S = 20
WEB_PROCESSES = 2  # uvicorn processes in all for the throughput runs (one per core)
DATABASE_AWAY = re.compile(r"\b(OperationalError|InterfaceError)\b")
PENDING_SQL = "SELECT id FROM photos_photo WHERE state = 'pending'"


def health_check_timing() -> tuple[float, int]:
    """``inter`` (seconds) and ``fall`` of docker/haproxy.cfg's servers."""
    found = re.search(r"\binter (\d+(?:\.\d+)?)s fall (\d+)", HAPROXY_CFG.read_text())
    if not found:
        raise SystemExit(f"{HAPROXY_CFG}: no 'inter <n>s fall <n>'")
    return float(found[1]), int(found[2])


class Faults:
    """bench.load.run's observer: the faults, in a thread, while the load runs; then the
    failures the locust processes wrote (bench/locustfile.py) and the web hosts' logs."""

    def __init__(self, plan: list[tuple[str, float]], *, web_down_s: float = WEB_DOWN_S) -> None:
        self.plan = plan
        self.web_down_s = web_down_s
        self.events: list[dict[str, Any]] = []
        self.error: str = ""

    def begin(self, stack: NetStack, locust: Any) -> None:
        self.stack, self.locust = stack, locust
        self.started = time.time()
        self.web_pids = {name: stack.processes[name].pid for name in stack.web_names}
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for name, at in self.plan:
                time.sleep(max(self.started + at - time.time(), 0))
                event: dict[str, Any] = {"fault": name, "at": time.time()}
                self.events.append(event)
                getattr(self, name)(event)
        except Exception as error:  # reported as a failed check
            self.error = f"{type(error).__name__}: {error}"

    def web_kill(self, event: dict[str, Any]) -> None:
        self.stack.kill("web2")  # SIGKILL
        time.sleep(self.web_down_s)
        self.stack.web_start("web2")
        event["back"] = time.time()

    def worker_kill(self, event: dict[str, Any]) -> None:
        event["killed_pids"] = len(self.stack.host_kill("worker"))
        time.sleep(WORKER_DOWN_S)
        pending = [row[0] for row in self.stack.sql(PENDING_SQL)]
        event["pending_at_restart"] = len(pending)
        self.stack.worker_host_start()
        event["back"] = time.time()
        deadline = time.monotonic() + VISIBILITY_TIMEOUT_S + 90
        while time.monotonic() < deadline:
            still = {row[0] for row in self.stack.sql(PENDING_SQL)} & set(pending)
            if not still:
                event["drained_s"] = round(time.time() - event["back"], 1)
                return
            time.sleep(0.5)
        event["drained_s"] = None

    def pgbouncer_restart(self, event: dict[str, Any]) -> None:
        self.stack.kill("pgbouncer", sig=signal.SIGTERM)
        time.sleep(AWAY_S)
        self.stack.pgbouncer_start()
        event["back"] = time.time()

    def postgres_restart(self, event: dict[str, Any]) -> None:
        self.stack.postgres_stop()
        time.sleep(AWAY_S)
        self.stack.postgres_start()
        event["back"] = time.time()

    def end(self) -> dict[str, Any]:
        self.thread.join(timeout=300)
        out = Path(self.locust.args[self.locust.args.index("--csv") + 1]).parent
        failures: list[list[Any]] = []
        retried = 0
        for path in out.glob("locust-*.json"):
            found = json.loads(path.read_text())
            failures += found.get("failures", [])
            retried += len(found.get("retried", []))
        # Django's log record of each answer it could not give: the record's first line, its
        # traceback (chained exceptions included) up to the next record.
        records = re.split(
            r"^(?=(?:DEBUG|INFO|WARNING|ERROR|CRITICAL) )", self.stack.log("web"), flags=re.M
        )
        tracebacks = [r for r in records if "Traceback" in r]
        others = [t for t in tracebacks if not DATABASE_AWAY.search(t)]
        return {
            "started": self.started,
            "events": self.events,
            "error": self.error,
            "failures": sorted(failures),
            "retried": retried,
            "web_pids_kept": all(
                name in self.stack.processes and self.stack.processes[name].pid == pid
                for name, pid in self.web_pids.items()
                if name != "web2"
            ),
            # A server traceback that is not the database being away (OperationalError).
            "tracebacks": len(tracebacks),
            "other_tracebacks": len(others),
            "first_other_traceback": others[0][-3000:] if others else "",
        }


class RehearsalStack(NetStack):
    """A ``NetStack`` that says, as it stops, what background work was left (and keeps the
    logs in bench/results/scaleout-logs/ when any was)."""

    left: dict[str, Any] = {}

    def stop(self) -> None:
        if not self._stopped:
            try:
                left = {
                    "photos_pending": self.scalar(
                        "SELECT count(*) FROM photos_photo WHERE state = 'pending'"
                    ),
                    "outbox_waiting": self.sql(
                        "SELECT target, attempts, left(last_error, 120), count(*) "
                        "FROM outbox_outboxmessage WHERE dispatched_at IS NULL "
                        "GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 10"
                    ),
                }
            except Exception as error:  # the database itself may be what is wrong
                left = {"error": f"{type(error).__name__}: {error}"}
            RehearsalStack.left = left
            if left.get("photos_pending") or left.get("outbox_waiting") or "error" in left:
                keep = RESULTS.parent / "scaleout-logs"
                shutil.rmtree(keep, ignore_errors=True)
                shutil.copytree(self.dir / "log", keep)
        super().stop()


@contextmanager
def net_stacks(web_hosts: int) -> Iterator[None]:
    """bench.load.run with a ``NetStack`` of ``web_hosts`` web hosts (``workers`` uvicorn
    processes each) instead of its one-host stack."""

    def make(**options: Any) -> NetStack:
        options.update(visibility_timeout_s=VISIBILITY_TIMEOUT_S)
        return RehearsalStack(web_hosts=web_hosts, **options)

    original = load.Stack
    setattr(load, "Stack", make)  # noqa: B010  (the one seam bench.load.run offers)
    try:
        yield
    finally:
        setattr(load, "Stack", original)  # noqa: B010


def windows(observed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each failure falls in the window of the last fault before it (or "before")."""
    events = observed["events"]
    found: dict[str, dict[str, Any]] = {
        name: {"errors": 0, "statuses": Counter(), "without_retry_after_503": 0, "last": None}
        for name in ["before", *(e["fault"] for e in events)]
    }
    for at, _name, status, retry_after in observed["failures"]:
        fault = next((e for e in reversed(events) if e["at"] <= at), None)
        window = found[fault["fault"] if fault else "before"]
        window["errors"] += 1
        window["statuses"][status] += 1
        if status == 503 and retry_after is None:
            window["without_retry_after_503"] += 1
        offset = round(at - (fault["at"] if fault else observed["started"]), 2)
        window["first"] = window.get("first", offset)
        window["last"] = offset
    for window in found.values():
        window["statuses"] = dict(window["statuses"])
    return found


def checks(result: dict[str, Any]) -> list[tuple[str, bool, str]]:
    """(check, passed, figures) for the fault run."""
    counts, observed = result["counts"], result["observed"]
    found = windows(observed)
    events = {e["fault"]: e for e in observed["events"]}
    inter, fall = health_check_timing()
    done: list[tuple[str, bool, str]] = [
        (
            "nothing lost, nothing doubled",
            counts["filed_201"] > 0 and (counts["lost"], counts["doubled"]) == (0, 0),
            f"filed {counts['filed_201']}, in the database {counts['in_database']}, lost "
            f"{counts['lost']}, doubled {counts['doubled']}, filings re-sent {observed['retried']}",
        ),
        (
            "no error before the first fault",
            found["before"]["errors"] == 0,
            f"{found['before']['errors']} errors",
        ),
        (
            "background work drained, completed orders in the database, no photo failed",
            counts["drained"]
            and counts["completed_in_database"] == counts["completed_200"]
            and counts["photos_failed"] == 0,
            f"settled {counts['settle_s']} s after the load (left at the end: "
            f"{result['left_at_stop']}); completed "
            f"{counts['completed_200']}/{counts['completed_in_database']}; photos failed "
            f"{counts['photos_failed']}",
        ),
        (
            "no server traceback but the database away",
            observed["other_tracebacks"] == 0,
            f"{observed['other_tracebacks']} of {observed['tracebacks']}"
            + (
                f"; the first:\n{observed['first_other_traceback']}"
                if observed["other_tracebacks"]
                else ""
            ),
        ),
        ("every fault ran", not observed["error"], observed["error"] or "yes"),
    ]
    if "web_kill" in events:
        window = found["web_kill"]
        bound = inter * fall + 1.0
        last = window["last"]
        done.append(
            (
                "web host killed: errors only in HAProxy's detection window",
                last is None or last <= bound,
                f"{window['errors']} errors {window['statuses']}, from "
                f"{window.get('first', '-')} s to {last if last is not None else '-'} s after "
                f"the kill (inter {inter:g} s x fall {fall} = {inter * fall:g} s; allowed "
                f"{bound:g} s)",
            )
        )
    if "worker_kill" in events:
        window, event = found["worker_kill"], events["worker_kill"]
        done.append(
            (
                "worker host killed: intake answers, the work left pending done once it is back",
                window["errors"] == 0 and event.get("drained_s") is not None,
                f"{window['errors']} errors; {event.get('killed_pids')} processes killed; "
                f"{event.get('pending_at_restart')} photos pending at the restart, done "
                f"{event.get('drained_s')} s after it",
            )
        )
    for name, what in (("pgbouncer_restart", "PgBouncer"), ("postgres_restart", "PostgreSQL")):
        if name not in events:
            continue
        window, event = found[name], events[name]
        back_after = round(event["back"] - event["at"], 1)
        recovered = window["last"] is None or window["last"] <= back_after + RECOVERY_S
        only_503 = set(window["statuses"]) <= {503} and window["without_retry_after_503"] == 0
        done.append(
            (
                f"{what} restarted: 503 with Retry-After while away, then answers",
                only_503 and recovered and window["errors"] > 0 and observed["web_pids_kept"],
                f"{window['errors']} errors {window['statuses']} "
                f"({window['without_retry_after_503']} 503s without Retry-After), from "
                f"{window.get('first', '-')} s to {window['last']} s after it went, back at "
                f"{back_after} s; web processes the same: {observed['web_pids_kept']}",
            )
        )
    return done


def run_faults(
    *,
    seconds: int,
    rate: float,
    plan: list[tuple[str, float]],
    drain_timeout: float = 300.0,
    web_down_s: float = WEB_DOWN_S,
) -> dict[str, Any]:
    """The mix with the faults of ``plan``, two web hosts; bench.load.run's result with the
    faults' figures in ``observed`` and the checks in ``checks``."""
    faults = Faults(plan, web_down_s=web_down_s)
    with net_stacks(2):
        result = load.run(
            seconds=seconds,
            rate=rate,
            workers=1,
            observer=faults,  # type: ignore[arg-type]  # begin() and end() as load_cpu.Observer
            drain_timeout=drain_timeout,
        )
    result["left_at_stop"] = RehearsalStack.left
    result["windows"] = windows(result["observed"])
    result["checks"] = checks(result)
    return result


def run_throughput(*, seconds: int, rate: float, web_hosts: int) -> dict[str, Any]:
    """The mix without faults on ``web_hosts`` hosts of ``WEB_PROCESSES / web_hosts`` uvicorn
    processes each: as many processes either way, so the difference is what a node costs
    (its pool, the balancing), not more processes on the same 2 cores."""
    with net_stacks(web_hosts):
        return load.run(seconds=seconds, rate=rate, workers=WEB_PROCESSES // web_hosts, warmup_s=10)


def report(faults: dict[str, Any], throughput: dict[int, dict[str, Any]]) -> bool:
    total, counts = faults["total"], faults["counts"]
    print(
        f"scale-out: 7 hosts (network namespaces), 2 web hosts x 1 uvicorn behind HAProxy, "
        f"PgBouncer (transaction mode) in front of PostgreSQL; {faults['config']['seconds']} s "
        f"at {faults['config']['rate_offered']:g} req/s offered, {faults['config']['cpus']} CPUs"
    )
    config = faults["config"]
    print(
        f"requests offered ~{config['seconds'] * config['rate_offered']:.0f}, "
        f"sent {total['requests']}, errors {total['failures']} (every attempt "
        f"counts: a re-sent filing is a new request); filings answered 201: "
        f"{counts['filed_201']}, in the database {counts['in_database']}, lost {counts['lost']}, "
        f"doubled {counts['doubled']}; answered without error "
        f"{total['requests'] - total['failures']}"
    )
    for name, window in faults["windows"].items():
        last = "-" if window["last"] is None else window["last"]
        print(
            f"  {name:<18} errors {window['errors']:>4}  statuses {window['statuses']}  "
            f"from {window.get('first', '-')} s to {last} s after it"
        )
    ok = True
    for name, passed, figures in faults["checks"]:
        ok = ok and passed
        print(f"{'PASS' if passed else 'FAIL'}  {name}: {figures}")
    if throughput:
        print(
            "throughput without faults, the same mix offered above what the machine answers "
            f"and {WEB_PROCESSES} uvicorn processes in all either way (on 2 shared cores this "
            "measures what a node costs, not a speed-up):"
        )
        for hosts, result in sorted(throughput.items()):
            passed = result["counts"]["lost"] == 0 and result["counts"]["doubled"] == 0
            ok = ok and passed
            print(
                f"{'PASS' if passed else 'FAIL'}  {hosts} web host(s) x "
                f"{result['config']['workers']} uvicorn process(es): offered "
                f"{result['config']['rate_offered']:g} req/s, answered without error "
                f"{result['achieved_rps']:g} req/s, p50 {result['total']['p50_ms']:.0f} ms, "
                f"p99 {result['total']['p99_ms']:.0f} ms, errors {result['total']['failures']}, "
                f"lost {result['counts']['lost']}, doubled {result['counts']['doubled']}"
            )
    print("scale-out rehearsal:", "PASS" if ok else "FAIL")
    return ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=150)
    parser.add_argument("--rate", type=float, default=12.0, help="requests a second offered")
    parser.add_argument("--throughput-seconds", type=int, default=60)
    parser.add_argument("--throughput-rate", type=float, default=40.0)
    parser.add_argument("--no-throughput", action="store_true")
    parser.add_argument("--lock", type=Path, help="flock this file around every run")
    args = parser.parse_args()
    if args.seconds < FAULTS[-1][1] + 25:
        parser.error(f"--seconds: at least {FAULTS[-1][1] + 25:g} for the faults")
    RESULTS.parent.mkdir(exist_ok=True)
    runs: list[Callable[[], None]] = []
    found: dict[str, Any] = {"throughput": {}}

    def fault_run() -> None:
        found["faults"] = run_faults(seconds=args.seconds, rate=args.rate, plan=FAULTS)

    runs.append(fault_run)
    if not args.no_throughput:
        for hosts in (1, 2):

            def throughput_run(hosts: int = hosts) -> None:
                found["throughput"][hosts] = run_throughput(
                    seconds=args.throughput_seconds, rate=args.throughput_rate, web_hosts=hosts
                )

            runs.append(throughput_run)
    for one in runs:
        with held_lock(args.lock):
            one()
    ok = report(found["faults"], found["throughput"])
    RESULTS.write_text(json.dumps({**found, "ok": ok}, indent=2, default=str) + "\n")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
