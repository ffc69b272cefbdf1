"""Looking at what a change wrote to the outbox (backend/outbox)."""

from __future__ import annotations

from typing import Any

from backend.outbox.models import OutboxMessage
from backend.outbox.services import OutboxHandOn


def outbox_written(callbacks: list[Any], target: str | None = None) -> list[OutboxMessage]:
    """The outbox rows whose hand-on the captured on-commit ``callbacks`` would run, oldest
    first; only those for ``target`` if given."""
    ids = [
        pk for callback in callbacks if isinstance(callback, OutboxHandOn) for pk in callback.ids
    ]
    rows = OutboxMessage.objects.filter(pk__in=ids).order_by("pk")
    return [row for row in rows if target is None or row.target == target]
