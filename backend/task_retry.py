"""How a Celery task rides out a moment's outage: acknowledged only once it has run (a
worker lost halfway leaves it queued), and tried again on the errors named, later each time.
And the sweep that queues again what stayed pending."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from django.db import InterfaceError, OperationalError

# The database or the broker away for a moment.
DATABASE_OR_BROKER_AWAY: tuple[type[Exception], ...] = (
    OperationalError,
    InterfaceError,
    ConnectionError,
)


def retried(
    *, on: tuple[type[Exception], ...] = DATABASE_OR_BROKER_AWAY, max_retries: int = 5
) -> dict[str, Any]:
    """The ``shared_task`` options of a task tried again on ``on``."""
    return {
        "acks_late": True,
        "autoretry_for": on,
        "max_retries": max_retries,
        "retry_backoff": True,
    }


class _Queueable(Protocol):
    def delay(self, *args: Any) -> Any: ...


def requeue(task: _Queueable, ids: Iterable[int]) -> int:
    """Queues ``task`` again for each id; returns how many. Running one twice must be
    harmless: the second run finds it no longer pending."""
    count = 0
    for pk in ids:
        task.delay(pk)
        count += 1
    return count
