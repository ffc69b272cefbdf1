"""Where the CPU of the busy-day load goes: CPU seconds per tier from ``/proc`` and py-spy
profiles of a web worker and the Celery worker, taken while bench/load.py runs its mix.

    .venv/bin/python bench/load.py --profile [--rate 20] [--seconds 60] [--code CHECKOUT]

A tier is a process and everything below it: the web (uvicorn's supervisor and its workers),
the Celery worker, the outbox dispatcher, PostgreSQL (the postmaster and its backends),
Redis, and locust (the load generator, on the same cores). A tier's CPU is the sum of
``utime + stime + cutime + cstime`` (``/proc/<pid>/stat``) over its processes, taken at the
start and at the end of a steady window; divided by the requests answered in that window it
gives the milliseconds of CPU each tier spends per request of the mix.

py-spy (``pip install py-spy``; not a dependency of the project) samples one uvicorn worker and
the Celery worker during the window, ``--nonblocking`` so the processes it samples are not
paused, only the thread holding the GIL (``--gil``: Python's own CPU, not threads waiting
for PostgreSQL). Each stack is a line of
``frame;frame;... count``; a function's *own* share is the samples where it is the innermost
frame, its *total* share the samples where it is anywhere in the stack.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TICK = os.sysconf("SC_CLK_TCK")
PY_SPY = Path(sys.executable).parent / "py-spy"
TOP = 15
PROJECT_PACKAGES = ("backend", "mobile_api", "workorders", "analytics", "chatbot")


def _stat(pid: int) -> tuple[int, float] | None:
    """The parent and the CPU seconds (its own and its waited-for children's) of ``pid``."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: the fields after it follow the last ")".
    fields = raw[raw.rindex(")") + 2 :].split()
    ppid = int(fields[1])
    utime, stime, cutime, cstime = (int(x) for x in fields[11:15])
    return ppid, (utime + stime + cutime + cstime) / TICK


def tree_cpu(roots: dict[str, int]) -> dict[str, float]:
    """CPU seconds so far of each tier: its root process and all its descendants."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (found := _stat(int(entry))) is not None:
            stats[int(entry)] = found
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    totals: dict[str, float] = {}
    for tier, root in roots.items():
        total, todo = 0.0, [root]
        while todo:
            pid = todo.pop()
            if pid in stats:
                total += stats[pid][1]
                todo += children.get(pid, [])
        totals[tier] = total
    return totals


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def tiers_of(stack: Any) -> dict[str, int]:
    """The root process of each tier of a running tests/stack.py ``Stack``."""
    postmaster = int((stack.pgdata / "postmaster.pid").read_text().split()[0])
    return {
        "web": stack.processes["web"].pid,
        "celery": stack.processes["worker"].pid,
        "dispatcher": stack.processes["dispatcher"].pid,
        "postgresql": postmaster,
        "redis": stack.processes["redis"].pid,
    }


def collapsed_top(path: Path, *, top: int = TOP) -> dict[str, Any]:
    """The ``top`` functions by own share of a py-spy ``--format raw`` file, the project's
    functions by total share (its middleware, in every stack, left out), and the own share by
    library (``django/db``, ``psycopg``, ``rest_framework`` ... or the project's package)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    library: Counter[str] = Counter()
    samples = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        samples += count
        frames = [frame_name(frame) for frame in stack.split(";")]
        own[frames[-1]] += count
        library[library_of(frames[-1])] += count
        for name in set(frames):
            if _is_project(name) and "backend/middleware.py" not in name:
                total[name] += count
    share = max(samples, 1)

    def shares(counter: Counter[str]) -> list[list[Any]]:
        return [[name, round(100 * n / share, 1)] for name, n in counter.most_common(top)]

    return {
        "samples": samples,
        "own": shares(own),
        "total_project": shares(total),
        "own_by_library": shares(library),
    }


def frame_name(frame: str) -> str:
    """``function (path/to/file.py:123)`` without the line number (the lines of one function
    add up); py-spy already shortens paths to the package (``django/db/...``)."""
    function, _, where = frame.partition(" (")
    file = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "/lib/python3.11/"):
        if marker in file:
            file = file.split(marker, 1)[1]
            break
    return f"{function} ({file})"


def _file(name: str) -> str:
    return name.rsplit(" (", 1)[-1].rstrip(")")


def _is_project(name: str) -> bool:
    return _file(name).split("/", 1)[0] in PROJECT_PACKAGES


def library_of(name: str) -> str:
    """The library a frame is in: two levels for Django (``django/db``), one for the rest;
    a bare file name is the standard library's."""
    parts = _file(name).split("/")
    if len(parts) == 1:
        return "stdlib" if parts[0].endswith(".py") else parts[0]
    if parts[0] in ("django", "rest_framework") and len(parts) > 2:
        return "/".join(parts[:2])
    return parts[0]


@dataclass
class Observer:
    """Runs beside the load: waits ``start_s``, takes the CPU of every tier, profiles for
    ``window_s`` (py-spy when ``profile``), takes the CPU again."""

    start_s: float
    window_s: float
    profile: bool
    code: Path
    keep: Path  # where the raw py-spy stacks are copied (load_profile-<tier>.txt)
    result: dict[str, Any] = field(default_factory=dict)
    _thread: threading.Thread | None = None

    def begin(self, stack: Any, locust: subprocess.Popen[str]) -> None:
        self._thread = threading.Thread(target=self._observe, args=(stack, locust), daemon=True)
        self._thread.start()

    def end(self) -> dict[str, Any]:
        if self._thread is not None:
            self._thread.join(timeout=self.window_s + 60)
        return self.result

    def _observe(self, stack: Any, locust: subprocess.Popen[str]) -> None:
        time.sleep(self.start_s)
        roots = {**tiers_of(stack), "locust": locust.pid}
        # The busiest of uvicorn's children (its workers; not multiprocessing's tracker).
        workers = children_of(roots["web"]) or [roots["web"]]
        targets = {
            "web": max(workers, key=lambda pid: (_stat(pid) or (0, 0.0))[1]),
            "celery": roots["celery"],
        }
        out = Path(tempfile.mkdtemp(prefix="load-profile-"))
        spies = []
        before_at, before = time.monotonic(), tree_cpu(roots)
        if self.profile and PY_SPY.exists():
            for tier, pid in targets.items():
                spies.append(
                    (
                        tier,
                        out / f"{tier}.txt",
                        subprocess.Popen(
                            [
                                str(PY_SPY), "record", "--pid", str(pid),
                                "--duration", str(int(self.window_s)),
                                "--rate", "100", "--nonblocking", "--gil",
                                "--format", "raw",
                                "--output", str(out / f"{tier}.txt"),
                            ],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                        ),
                    )
                )  # fmt: skip
        time.sleep(self.window_s)
        after_at, after = time.monotonic(), tree_cpu(roots)
        elapsed = after_at - before_at
        self.result["window_s"] = round(elapsed, 1)
        self.result["cpu_s"] = {tier: round(after[tier] - before[tier], 2) for tier in roots}
        self.result["cores"] = {
            tier: round((after[tier] - before[tier]) / elapsed, 2) for tier in roots
        }
        self.result["profiles"] = {}
        for tier, path, spy in spies:
            try:
                _, errors = spy.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                spy.kill()
                errors = "py-spy did not finish"
            if path.exists():
                self.result["profiles"][tier] = collapsed_top(path)
                shutil.copy(path, self.keep / f"load_profile-{tier}.txt")
            else:
                self.result["profiles"][tier] = {"error": errors[-500:]}
        shutil.rmtree(out, ignore_errors=True)


def per_request_ms(observed: dict[str, Any], requests_per_s: float) -> dict[str, float]:
    """Milliseconds of CPU per request answered, by tier, from an observed window."""
    served = max(requests_per_s * observed["window_s"], 1.0)
    return {tier: round(1000 * cpu / served, 1) for tier, cpu in observed["cpu_s"].items()}


def report(observed: dict[str, Any], requests_per_s: float) -> None:
    per_request = per_request_ms(observed, requests_per_s)
    system = sum(ms for tier, ms in per_request.items() if tier != "locust")
    print(
        f"CPU over {observed['window_s']} s at {requests_per_s:g} req/s answered: "
        + ", ".join(
            f"{tier} {ms:g} ms/request ({observed['cores'][tier]:.2f} cores)"
            for tier, ms in per_request.items()
        )
        + f"; the system (all but locust) {system:.1f} ms/request"
    )
    for tier, found in observed.get("profiles", {}).items():
        if "error" in found:
            print(f"py-spy {tier}: {found['error']}")
            continue
        print(f"py-spy {tier}: {found['samples']} samples; own share (innermost frame):")
        for name, share in found["own"]:
            print(f"  {share:5.1f} %  {name}")
        for key, title in (
            ("total_project", "total share of the project's functions"),
            ("own_by_library", "own share by library"),
        ):
            print(f"py-spy {tier}: {title}:")
            for name, share in found.get(key, []):
                print(f"  {share:5.1f} %  {name}")
