"""The busy-day load, for 60 seconds (bench/load.py runs it for 10 minutes): residents
filing with photos, crews completing orders with proof, managers and Open311 clients
reading, against a whole stack of its own, at an explicit offered rate; then the database is
counted."""

from __future__ import annotations

import pytest

from bench.load import report, run

pytestmark = pytest.mark.integration

RATE = 20.0  # requests a second offered: well under what 2 shared cores sustain (~60)


def test_a_minute_of_mixed_load_loses_and_doubles_nothing() -> None:
    result = run(seconds=60, rate=RATE, workers=2)
    report(result)
    counts = result["counts"]

    assert result["total"]["failures"] == 0, result["failures"]
    assert counts["filed_201"] >= 400  # the residents really filed (60 % of 20/s, 60 s)
    assert counts["completed_200"] >= 5  # and the crews really completed
    # Paced users: what is offered goes through (the ramp-up and a busy machine cost a bit).
    assert result["achieved_rps"] >= 0.8 * RATE
    assert counts["in_database"] == counts["filed_201"]
    assert (counts["lost"], counts["doubled"]) == (0, 0)
    assert counts["completed_in_database"] == counts["completed_200"]
    assert (counts["photos_failed"], counts["server_tracebacks"]) == (0, 0)
    assert result["ok"]
