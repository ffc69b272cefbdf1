"""The load bench's saturation search, on made-up runs (no stack): where it steps, where it
stops, and which rate it reports as held."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.load_search import held, highest_held, next_rate, search, search_report

STEPS = {"start": 15.0, "step": 10.0, "resolution": 5.0, "ceiling": 120.0}


def a_run(*, rate: float, p99_ms: float = 400.0, errors: int = 0, **counts: Any) -> dict[str, Any]:
    """The shape bench.load.run returns, with only what the search reads."""
    return {
        "total": {"failures": errors, "p50_ms": 100.0, "p99_ms": p99_ms},
        "achieved_rps": rate,
        "achieved_share": counts.pop("achieved_share", 1.0),
        "counts": {
            "lost": 0,
            "doubled": 0,
            "completed_200": 3,
            "completed_in_database": 3,
            "photos_failed": 0,
            "server_tracebacks": 0,
            "filed_201": 100,
            "drained": True,
            "settle_s": 1.0,
            "warmup_errors": 0,
            **counts,
        },
        "config": {"load_average": [1.0, 2.0], "commit": "abc1234"},
    }


def test_a_run_is_held_only_with_no_error_a_short_p99_and_everything_drained() -> None:
    assert held(a_run(rate=20)) == []
    assert held(a_run(rate=20, p99_ms=1000)) == ["p99 1000 ms"]
    assert held(a_run(rate=20, errors=2)) == ["2 errors"]
    assert held(a_run(rate=20, warmup_errors=1)) == ["1 errors"]
    assert held(a_run(rate=20, achieved_share=0.9)) == ["achieved 90% of the offer"]
    assert held(a_run(rate=20, drained=False)) == ["background work not drained within 90 s"]
    assert held(a_run(rate=20, lost=1)) == ["1 lost, 0 doubled"]
    assert held(a_run(rate=20, completed_in_database=2)) == ["completed orders missing"]
    assert held(a_run(rate=20, photos_failed=1)) == ["1 photos failed, 0 server tracebacks"]


def test_the_search_steps_up_then_bisects_down_to_its_resolution() -> None:
    assert next_rate([], **STEPS) == 15
    assert next_rate([(15, True)], **STEPS) == 25
    assert next_rate([(15, True), (25, True)], **STEPS) == 35
    # 35 not held: halfway between 25 and 35.
    assert next_rate([(15, True), (25, True), (35, False)], **STEPS) == 30
    # 30 held: 30 and 35 are within the resolution, the search is over.
    assert next_rate([(15, True), (25, True), (35, False), (30, True)], **STEPS) is None
    assert highest_held([(15, True), (25, True), (35, False), (30, True)]) == 30
    # 30 not held either: 25 is the highest rate held.
    assert next_rate([(15, True), (25, True), (35, False), (30, False)], **STEPS) is None
    assert highest_held([(15, True), (25, True), (35, False), (30, False)]) == 25
    # Nothing held: it halves the rate until it is within the resolution of 0.
    assert next_rate([(15, False)], **STEPS) == 7.5
    assert next_rate([(15, False), (7.5, False)], **STEPS) == 3.75
    assert next_rate([(15, False), (7.5, False), (3.75, False)], **STEPS) is None
    assert highest_held([(15, False), (7.5, False), (3.75, False)]) == 0
    # Held all the way up: it stops at the ceiling.
    ladder = [(15.0 + 10 * n, True) for n in range(11)]  # 15 ... 115
    assert next_rate(ladder, **STEPS) is None
    assert highest_held(ladder) == 115


def test_a_comparison_alternates_the_checkouts_and_judges_the_ratio(capsys: Any) -> None:
    capacity = {Path("/new"): 42.0, Path("/old"): 20.0}
    calls: list[tuple[Path, float]] = []

    def fake_run(*, rate: float, code: Path, **_: Any) -> dict[str, Any]:
        calls.append((code, rate))
        return a_run(rate=rate, p99_ms=300 if rate <= capacity[code] else 1500)

    found = search(
        {"this code": Path("/new"), "compared": Path("/old")},
        seconds=60,
        workers=2,
        lock=None,
        run_one=fake_run,
        **STEPS,
    )

    # One run of each in turn while both search; then the new code goes on alone.
    assert calls[:4] == [
        (Path("/new"), 15),
        (Path("/old"), 15),
        (Path("/new"), 25),
        (Path("/old"), 25),
    ]
    assert [rate for code, rate in calls if code == Path("/old")] == [15, 25, 20]
    assert [rate for code, rate in calls if code == Path("/new")] == [15, 25, 35, 45, 40]
    assert found["this code"]["highest_held"] == 40
    assert found["compared"]["highest_held"] == 20
    assert search_report(found) is True
    assert "ratio 2.00 (goal >= 2): PASS" in capsys.readouterr().out

    found["this code"]["highest_held"] = 35
    assert search_report(found) is False
