"""Writing side effects to the outbox, and handing them on.

``outbox_task`` / ``outbox_call`` insert a row in the current transaction. Once it commits,
the same process hands the row on at once (the fast path: a Celery ``apply_async`` without
retries, or the call itself), so nothing waits for a poll; a row it could not hand on (the
broker or Redis away, the process killed after the commit) stays pending and the dispatcher
(``manage.py outbox_dispatch``, one process next to the Celery worker) retries it with
backoff until it goes. Rows are claimed with ``FOR UPDATE SKIP LOCKED``, so the fast path
and any number of dispatchers never hand on the same row at the same time."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from backend.outbox.models import OutboxKind, OutboxMessage
from backend.outbox.registry import TARGETS

logger = logging.getLogger(__name__)

BACKOFF_MAX_S = 30
PURGE_AFTER = timedelta(days=7)


def _enqueue(*, kind: str, target: str, args: list[Any], kwargs: dict[str, Any]) -> OutboxMessage:
    if TARGETS.get(target) != kind:
        raise ValueError(f"{target!r} is not a registered outbox {kind}")
    message = OutboxMessage.objects.create(kind=kind, target=target, args=args, kwargs=kwargs)
    hand_on = partial(outbox_dispatch, ids=[message.pk])
    # Django names a failing robust callback by its __qualname__, which a partial lacks.
    setattr(hand_on, "__qualname__", "outbox_dispatch")  # noqa: B010
    transaction.on_commit(hand_on, robust=True)
    return message


def outbox_task(target: str, *args: Any, **kwargs: Any) -> OutboxMessage:
    """The Celery task ``target`` with these (JSON) arguments, queued once this commits."""
    return _enqueue(kind=OutboxKind.TASK, target=target, args=list(args), kwargs=kwargs)


def outbox_call(target: str, **kwargs: Any) -> OutboxMessage:
    """``target(**kwargs)``, run once this commits (by this process, or the dispatcher)."""
    return _enqueue(kind=OutboxKind.CALL, target=target, args=[], kwargs=kwargs)


def _hand_on(message: OutboxMessage) -> None:
    if TARGETS.get(message.target) != message.kind:
        raise ValueError(f"{message.target!r} is not a registered outbox {message.kind}")
    target = import_string(message.target)
    if message.kind == OutboxKind.TASK:
        # No publish retries: a broker that is away fails fast, and the row waits.
        target.apply_async(args=message.args, kwargs=message.kwargs, retry=False)
    else:
        target(*message.args, **message.kwargs)


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(2 ** max(attempts - 1, 0), BACKOFF_MAX_S))


def outbox_dispatch(*, ids: list[int] | None = None, limit: int = 200) -> int:
    """Hands on pending rows (these ``ids`` whatever their backoff, or those whose time
    has come), oldest first; the number handed on. A failure is logged on its row."""
    now = timezone.now()
    with transaction.atomic():
        pending = OutboxMessage.objects.select_for_update(skip_locked=True).filter(
            dispatched_at__isnull=True
        )
        if ids is not None:
            pending = pending.filter(pk__in=ids)
        else:
            pending = pending.filter(available_at__lte=now)
        rows = list(pending.order_by("pk")[:limit])
        done = 0
        for row in rows:
            try:
                with transaction.atomic():
                    _hand_on(row)
            except Exception as exc:
                row.attempts += 1
                row.available_at = timezone.now() + _backoff(row.attempts)
                row.last_error = f"{type(exc).__name__}: {exc}"[:300]
                logger.warning("outbox %s failed (attempt %d): %s", row, row.attempts, exc)
            else:
                row.dispatched_at = timezone.now()
                done += 1
        if rows:
            OutboxMessage.objects.bulk_update(
                rows, ["attempts", "available_at", "last_error", "dispatched_at"]
            )
    return done


def outbox_purge(*, older_than: timedelta = PURGE_AFTER) -> int:
    """Deletes rows handed on long ago."""
    deleted, _ = OutboxMessage.objects.filter(
        dispatched_at__lt=timezone.now() - older_than
    ).delete()
    return deleted


def outbox_oldest_wait() -> float:
    """Seconds the oldest side effect not yet handed on has waited (0 if none)."""
    oldest = (
        OutboxMessage.objects.filter(dispatched_at__isnull=True)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    return (timezone.now() - oldest).total_seconds() if oldest else 0.0
