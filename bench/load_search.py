"""The saturation search of the busy-day load (bench/load.py ``--search``, ``--compare``):
which offered rates to run, whether a run held its rate, and the report.

A run *holds* its offered rate when it has 0 errors (warm-up included), answers at least
``HELD_ACHIEVED_SHARE`` of the offer, a p99 under ``HELD_P99_MS``, its background work (photos,
outbox) drained within ``DRAIN_TIMEOUT_S`` of the load's end, nothing lost or doubled, every
completed order completed, no photo failed and no server traceback. The search steps the
rate up until a run does not hold, then bisects between the highest rate held and the lowest
not held down to a resolution. Comparing two checkouts, it runs one of each in turn, so both
see the same machine, and judges the ratio of their highest rates against ``COMPARE_GOAL``.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HELD_P99_MS = 1000.0
HELD_ACHIEVED_SHARE = 0.95
DRAIN_TIMEOUT_S = 90.0  # the photos and the outbox drained within this after the load
# The goal: this code holds at least twice the rate of the code it is compared with.
COMPARE_GOAL = 2.0


@contextlib.contextmanager
def held_lock(path: Path | None) -> Iterator[None]:
    """An exclusive ``flock`` on ``path`` (none when ``path`` is None) for the block."""
    if path is None:
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def held(result: dict[str, Any]) -> list[str]:
    """Why a run at its offered rate was not held; empty when it was."""
    total, counts = result["total"], result["counts"]
    reasons = []
    if total["failures"] or counts["warmup_errors"]:
        reasons.append(f"{total['failures'] + counts['warmup_errors']} errors")
    if result["achieved_share"] < HELD_ACHIEVED_SHARE:
        reasons.append(f"achieved {result['achieved_share']:.0%} of the offer")
    if total["p99_ms"] >= HELD_P99_MS:
        reasons.append(f"p99 {total['p99_ms']:.0f} ms")
    if not counts["drained"]:
        reasons.append(f"background work not drained within {DRAIN_TIMEOUT_S:g} s")
    if counts["lost"] or counts["doubled"]:
        reasons.append(f"{counts['lost']} lost, {counts['doubled']} doubled")
    if counts["completed_in_database"] != counts["completed_200"]:
        reasons.append("completed orders missing")
    if counts["photos_failed"] or counts["server_tracebacks"]:
        reasons.append(
            f"{counts['photos_failed']} photos failed, "
            f"{counts['server_tracebacks']} server tracebacks"
        )
    if counts["filed_201"] == 0:
        reasons.append("nothing filed")
    return reasons


def next_rate(
    history: list[tuple[float, bool]],
    *,
    start: float,
    step: float,
    resolution: float,
    ceiling: float,
) -> float | None:
    """The next offered rate to try after ``history`` (rate, held) runs, or None when the
    search is over: up by ``step`` from ``start`` while every run is held (up to
    ``ceiling``), then halfway between the highest rate held below the lowest rate not held
    and that rate, until the two are within ``resolution``."""
    if not history:
        return start
    failed = [rate for rate, ok in history if not ok]
    if not failed:
        following = max(rate for rate, _ in history) + step
        return following if following <= ceiling else None
    lowest_failed = min(failed)
    below = [rate for rate, ok in history if ok and rate < lowest_failed]
    highest_held = max(below, default=0.0)
    if lowest_failed - highest_held <= resolution:
        return None
    middle = (highest_held + lowest_failed) / 2
    return float(round(middle / resolution) * resolution) if highest_held else middle


def highest_held(history: list[tuple[float, bool]]) -> float:
    """The highest rate held below the lowest rate not held (0 when none was held)."""
    lowest_failed = min((rate for rate, ok in history if not ok), default=math.inf)
    return max((rate for rate, ok in history if ok and rate < lowest_failed), default=0.0)


def search(
    codes: dict[str, Path],
    *,
    seconds: int,
    start: float,
    step: float,
    resolution: float,
    ceiling: float,
    workers: int,
    lock: Path | None,
    warmup_s: float = 0.0,
    drain_timeout: float = DRAIN_TIMEOUT_S,
    run_one: Callable[..., dict[str, Any]],
) -> dict[str, Any]:
    """The saturation search for each checkout in ``codes`` ({label: checkout}), one run of
    each in turn (so that both see the same machine); every run holds ``lock``."""
    histories: dict[str, list[tuple[float, bool]]] = {label: [] for label in codes}
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label in codes}
    pending = dict.fromkeys(codes, True)
    arguments = {
        "seconds": seconds,
        "workers": workers,
        "drain_timeout": drain_timeout,
        "warmup_s": warmup_s,
    }
    while any(pending.values()):
        for label, code in codes.items():
            if not pending[label]:
                continue
            rate = next_rate(
                histories[label], start=start, step=step, resolution=resolution, ceiling=ceiling
            )
            if rate is None:
                pending[label] = False
                continue
            print(f"--- {label}: {rate:g} req/s offered for {seconds} s", flush=True)
            with held_lock(lock):
                result = run_one(rate=rate, code=code, **arguments)
            reasons = held(result)
            histories[label].append((rate, not reasons))
            runs[label].append(
                {
                    "rate": rate,
                    "held": not reasons,
                    "why_not": reasons,
                    "achieved_rps": result["achieved_rps"],
                    "p50_ms": result["total"]["p50_ms"],
                    "p99_ms": result["total"]["p99_ms"],
                    "errors": result["total"]["failures"],
                    "lost": result["counts"]["lost"],
                    "doubled": result["counts"]["doubled"],
                    "settle_s": result["counts"]["settle_s"],
                    "load_average": result["config"]["load_average"],
                    "commit": result["config"]["commit"],
                }
            )
            print(search_line(runs[label][-1], label), flush=True)
    return {
        label: {"highest_held": highest_held(histories[label]), "runs": runs[label]}
        for label in codes
    }


def search_line(step: dict[str, Any], label: str) -> str:
    return (
        f"{label} {step['commit']}: {step['rate']:g} offered, {step['achieved_rps']:g} achieved, "
        f"p50 {step['p50_ms']:.0f} / p99 {step['p99_ms']:.0f} ms, errors {step['errors']}, "
        f"lost {step['lost']} / doubled {step['doubled']}, settled {step['settle_s']:g} s, "
        f"load average {step['load_average'][0]:g} -> {step['load_average'][1]:g}: "
        + ("held" if step["held"] else "not held (" + "; ".join(step["why_not"]) + ")")
    )


def search_report(found: dict[str, Any]) -> bool:
    """Prints each checkout's runs and highest rate held, and for two the ratio against
    ``COMPARE_GOAL``; whether the goal is met (or, for one, whether any rate was held)."""
    for label, searched in found.items():
        print(f"{label}:")
        for step in searched["runs"]:
            print("  " + search_line(step, label))
        print(f"  highest rate held: {searched['highest_held']:g} req/s")
    if len(found) != 2:
        return all(searched["highest_held"] > 0 for searched in found.values())
    new, old = (found[label]["highest_held"] for label in found)
    ratio = new / old if old else math.inf
    ok = ratio >= COMPARE_GOAL
    print(
        f"highest rate held: {new:g} req/s against {old:g} req/s, ratio {ratio:.2f} "
        f"(goal >= {COMPARE_GOAL:g}): {'PASS' if ok else 'FAIL'}"
    )
    return ok
