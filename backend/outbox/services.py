"""Writing side effects to the outbox, and handing them on.

``outbox_task`` / ``outbox_call`` insert a row in the current transaction. Once it commits,
the same process hands the row on at once (the fast path: a Celery ``apply_async`` without
retries, or the call itself), so nothing waits for a poll; one hand-on per transaction takes
all the rows it wrote (a submission writes about seven).

A row is written with a lease (``available_at`` = now + ``HAND_ON_LEASE``): the dispatcher
(``manage.py outbox_dispatch``, one process next to the Celery worker) leaves it to the
process that wrote it until then. The fast path takes its rows with one ``UPDATE ...
RETURNING`` that renews the lease (a dispatcher holding a row locked makes it wait, and the
row it handed on is then skipped), hands them on, and stamps them with one more ``UPDATE``:
two statements, no transaction of their own. Rows that ``outbox_batch`` wrote at the top
level of their transaction are known to have committed with it, and while most of their
lease is left no dispatcher can have taken them: the claim is skipped and the stamp is the
only statement (a filing's hand-on). A row it could not hand on (the broker or
Redis away) gets a backoff; a row whose process died after the commit waits out the lease.
Either way the dispatcher retries it until it goes, claiming with ``FOR UPDATE SKIP LOCKED``
so that any number of dispatchers never hand on the same row at the same time. Handing on
is at least once (a process stalled past its lease may race the dispatcher); the targets
are idempotent."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from backend.outbox.models import OutboxKind, OutboxMessage
from backend.outbox.registry import TARGETS

logger = logging.getLogger(__name__)

BACKOFF_MAX_S = 30
PURGE_AFTER = timedelta(days=7)
# How long the dispatcher leaves a new row to the process that wrote it (its fast path).
HAND_ON_LEASE = timedelta(seconds=10)


def _enqueue(*, kind: str, target: str, args: list[Any], kwargs: dict[str, Any]) -> OutboxMessage:
    if TARGETS.get(target) != kind:
        raise ValueError(f"{target!r} is not a registered outbox {kind}")
    message = OutboxMessage(
        kind=kind,
        target=target,
        args=args,
        kwargs=kwargs,
        available_at=timezone.now() + HAND_ON_LEASE,
    )
    connection = transaction.get_connection()
    pending: list[tuple[OutboxMessage, OutboxHandOn]] | None = getattr(
        connection, "_outbox_pending", None
    )
    if pending is not None and connection.in_atomic_block:
        pending.append((message, _hand_on_after_commit(None)))
        return message
    message.save(force_insert=True)
    _hand_on_after_commit(message.pk)
    return message


@contextmanager
def outbox_batch() -> Iterator[None]:
    """Inside an atomic block: the rows queued in the block are written with ONE insert when
    it ends, still in the transaction (a submission queues three; each would be a round
    trip of its own). Until then they have no primary key. A row queued inside a savepoint
    that was rolled back is not written: its on-commit hand-on was dropped with the
    savepoint, and only rows whose hand-on is still registered are inserted. Nested batches
    join the outermost; an exception leaving the block discards the rows with the
    transaction it is rolling back."""
    connection = transaction.get_connection()
    if getattr(connection, "_outbox_pending", None) is not None:
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("outbox_batch() must run inside transaction.atomic()")
    pending: list[tuple[OutboxMessage, OutboxHandOn]] = []
    connection._outbox_pending = pending
    try:
        yield
    finally:
        connection._outbox_pending = None
    registered = {id(entry[1]) for entry in connection.run_on_commit}
    alive = [(message, hand_on) for message, hand_on in pending if id(hand_on) in registered]
    # No savepoint is open around this block: its rows commit exactly when the transaction
    # does, so at commit the hand-on may take them as written, without reading them back.
    certain = not any(connection.savepoint_ids)
    if alive:
        OutboxMessage.objects.bulk_create([message for message, _ in alive])
        for message, hand_on in alive:
            hand_on.ids = [message.pk]
            hand_on.row = message if certain else None


class OutboxHandOn:
    """The on-commit callback of one outbox row. The first of a transaction's callbacks to
    run hands on its own row and those of every callback registered after it on the
    connection (``outbox_hand_on``: one claim, one stamp; a submission writes about seven
    rows); those then have nothing left to do. Rows rolled back with a savepoint are simply
    not found."""

    def __init__(self, pk: int | None, registered: list[OutboxHandOn]) -> None:
        self.ids = [] if pk is None else [pk]
        # The row as written, when it is certain to have committed with the transaction
        # (``outbox_batch`` at the top level): the hand-on can skip the claim.
        self.row: OutboxMessage | None = None
        self.done = False
        self._registered = registered
        # Django names a failing robust callback by its __qualname__.
        self.__qualname__ = "outbox_dispatch"

    def __call__(self) -> None:
        if self.done:
            return
        registered = self._registered
        batch = registered[registered.index(self) :] if self in registered else [self]
        registered.clear()
        ids: list[int] = []
        rows: list[OutboxMessage] = []
        for hand_on in batch:
            if not hand_on.done:
                hand_on.done = True
                ids += hand_on.ids
                if hand_on.row is not None:
                    rows.append(hand_on.row)
        if len(rows) == len(ids) and _leases_fresh(rows):
            _hand_on_each(rows)  # one statement: the stamp
        else:
            outbox_hand_on(ids=ids)


def _leases_fresh(rows: list[OutboxMessage]) -> bool:
    """Every row still has most of its lease: no dispatcher can have taken it (it waits for
    the lease to end), so the writer may hand it on without claiming it first."""
    left = HAND_ON_LEASE / 2
    now = timezone.now()
    return all(row.available_at - now > left for row in rows)


def _hand_on_after_commit(pk: int | None) -> OutboxHandOn:
    connection = transaction.get_connection()
    registered: list[OutboxHandOn] | None = getattr(connection, "_outbox_hand_ons", None)
    if registered is None:
        registered = []
        connection._outbox_hand_ons = registered
    hand_on = OutboxHandOn(pk, registered)
    registered.append(hand_on)
    transaction.on_commit(hand_on, robust=True)  # outside a transaction: runs at once
    return hand_on


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


def _failed(row: OutboxMessage, exc: Exception) -> None:
    row.attempts += 1
    logger.warning("outbox %s failed (attempt %d): %s", row, row.attempts, exc)
    OutboxMessage.objects.filter(pk=row.pk).update(
        attempts=row.attempts,
        available_at=timezone.now() + _backoff(row.attempts),
        last_error=f"{type(exc).__name__}: {exc}"[:300],
    )


def _hand_on_each(rows: list[OutboxMessage]) -> int:
    """Hands on each row, logs a failure on its row, and stamps the rows handed on; the
    number handed on. A call runs in its own transaction, so a failing one rolls back only
    its own writes; inside the dispatcher's transaction every hand-on gets a savepoint, so a
    failure never aborts the claim. One plain UPDATE for the stamp: bulk_update's CASE per
    row costs more Python than the hand-on itself (the load test's profile)."""
    in_transaction = transaction.get_connection().in_atomic_block
    done: list[int] = []
    for row in rows:
        try:
            if row.kind == OutboxKind.CALL or in_transaction:
                with transaction.atomic():
                    _hand_on(row)
            else:
                _hand_on(row)
        except Exception as exc:
            _failed(row, exc)
        else:
            done.append(row.pk)
    if done:
        OutboxMessage.objects.filter(pk__in=done).update(dispatched_at=timezone.now())
    return len(done)


_CLAIM_SQL = f"""
UPDATE {OutboxMessage._meta.db_table} SET available_at = %s
WHERE id = ANY(%s) AND dispatched_at IS NULL
RETURNING *
"""  # noqa: S608 - only the table name is interpolated


def outbox_hand_on(*, ids: list[int]) -> int:
    """The fast path: hands on the rows ``ids`` that the calling process has just committed
    and that are still pending; the number handed on. Two statements in autocommit (the
    claim renews their lease, then the stamp), no transaction around the hand-ons: the
    tasks are published and the calls run each in its own transaction, as the dispatcher
    would. A failure is logged on its row, which the dispatcher retries after a backoff."""
    if not ids:
        return 0
    rows = sorted(
        OutboxMessage.objects.raw(_CLAIM_SQL, [timezone.now() + HAND_ON_LEASE, ids]),
        key=lambda row: row.pk,
    )
    return _hand_on_each(rows)


def outbox_dispatch(*, ids: list[int] | None = None, limit: int = 200) -> int:
    """Hands on pending rows (these ``ids`` whatever their backoff, or those whose time
    has come), oldest first; the number handed on. A failure is logged on its row."""
    if ids is not None and len(ids) > limit:
        return sum(
            outbox_dispatch(ids=ids[start : start + limit], limit=limit)
            for start in range(0, len(ids), limit)
        )
    now = timezone.now()
    with transaction.atomic():
        pending = OutboxMessage.objects.select_for_update(skip_locked=True).filter(
            dispatched_at__isnull=True
        )
        if ids is not None:
            pending = pending.filter(pk__in=ids)
        else:
            pending = pending.filter(available_at__lte=now)
        return _hand_on_each(list(pending.order_by("pk")[:limit]))


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


_ERASE_SQL = f"""
DELETE FROM {OutboxMessage._meta.db_table}
WHERE (args::text || ' ' || kwargs::text) ILIKE ANY(%s)
"""  # noqa: S608 - only the table name is interpolated


def _like_pattern(needle: str) -> str:
    escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def outbox_payloads_erase(*, needles: list[str]) -> int:
    """Deletes the rows, handed on or not, whose payload carries any of these values (a
    reporter's e-mail or phone, a push subscription's endpoint): personal data erased
    elsewhere leaves no copy here (the retention run). The number deleted; one statement.
    Values shorter than 6 characters are ignored (they would match unrelated rows)."""
    patterns = sorted({_like_pattern(needle) for needle in needles if len(needle) >= 6})
    if not patterns:
        return 0
    with transaction.get_connection().cursor() as cursor:
        cursor.execute(_ERASE_SQL, [patterns])
        return int(cursor.rowcount)
