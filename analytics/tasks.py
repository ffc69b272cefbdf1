"""Celery entry points of analytics."""

from __future__ import annotations

from celery import shared_task

from analytics.rollups import rollups_refresh


@shared_task(name="analytics.tasks.analytics_rollups_refresh")
def analytics_rollups_refresh() -> dict[str, int]:
    """Beat, every ``ANALYTICS_ROLLUP_INTERVAL_S``: folds new events into the daily rollups."""
    report = rollups_refresh()
    return {"days": len(report.days), "events": report.events}
