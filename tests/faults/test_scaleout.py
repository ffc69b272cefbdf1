"""The scale-out rehearsal, short (bench/scaleout.py runs it for minutes, with every fault):
seven hosts of their own on network namespaces (tests/netstack.py), two web hosts behind
HAProxy, PgBouncer in transaction mode in front of PostgreSQL, under the busy-day mix for
30 s. One web host is killed (SIGKILL) mid-run: nothing lost, nothing filed twice, errors
only while HAProxy's checks have not seen it down. PgBouncer is restarted: a 503 with
Retry-After while it is away, then answers with nothing else restarted. No namespace is left
behind, whatever happened."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from bench.scaleout import run_faults
from tests.netstack import _alive, _owner, namespaces, remove_namespace

pytestmark = pytest.mark.integration

PLAN = [("web_kill", 6.0), ("pgbouncer_restart", 16.0)]
SECONDS = 30
RATE = 8.0  # requests a second offered: the rehearsal's hosts share 2 cores with the load


def _left_over() -> list[str]:
    """This process's namespaces, and any whose run is gone."""
    return [n for n in namespaces() if _owner(n) == os.getpid() or not _alive(_owner(n))]


@pytest.fixture(scope="module")
def rehearsal() -> Iterator[dict[str, Any]]:
    try:
        yield run_faults(seconds=SECONDS, rate=RATE, plan=PLAN, drain_timeout=90, web_down_s=5)
    finally:
        for name in _left_over():  # only if the stack's own clean-up did not run
            remove_namespace(name)


def _check(result: dict[str, Any], starts: str) -> tuple[bool, str]:
    (found,) = [(ok, figures) for name, ok, figures in result["checks"] if name.startswith(starts)]
    return found


def test_a_web_host_killed_mid_run_loses_and_doubles_nothing(rehearsal: dict[str, Any]) -> None:
    counts = rehearsal["counts"]
    assert counts["filed_201"] >= SECONDS * RATE * 0.6 * 0.5  # the residents really filed
    assert counts["in_database"] == counts["filed_201"]
    assert (counts["lost"], counts["doubled"]) == (0, 0)
    assert [e["fault"] for e in rehearsal["observed"]["events"]] == [name for name, _ in PLAN]
    ok, figures = _check(rehearsal, "web host killed")
    assert ok, figures
    assert _check(rehearsal, "no error before the first fault")[0]


def test_a_pgbouncer_restart_answers_503_with_retry_after_then_recovers(
    rehearsal: dict[str, Any],
) -> None:
    window = rehearsal["windows"]["pgbouncer_restart"]
    assert window["errors"] > 0, "PgBouncer's restart went unnoticed"
    assert set(window["statuses"]) == {503}, window
    assert window["without_retry_after_503"] == 0
    ok, figures = _check(rehearsal, "PgBouncer restarted")
    assert ok, figures
    assert rehearsal["observed"]["web_pids_kept"]  # nothing else restarted


def test_every_check_of_the_rehearsal_passes(rehearsal: dict[str, Any]) -> None:
    failed = [(name, figures) for name, ok, figures in rehearsal["checks"] if not ok]
    assert failed == []


def test_no_namespace_is_left_behind(rehearsal: dict[str, Any]) -> None:
    assert rehearsal["observed"]["events"]  # the rehearsal ran (and stopped) before this
    assert _left_over() == []
