"""``outbox_batch``: the rows a block queues are written with one insert at its end, in the
same transaction, and handed on after commit like any other; rows of a rolled-back savepoint
or of a failed block are never written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.outbox.models import OutboxMessage
from backend.outbox.services import outbox_batch, outbox_call, outbox_task
from tests.outbox import outbox_written

pytestmark = pytest.mark.django_db

CALL = "analytics.live.live_push"
TASK = "backend.photos.tasks.photo_process"
PUSH = "workorders.live.work_order_push"  # a call that runs with any groups


def _outbox_inserts(ctx: CaptureQueriesContext) -> int:
    table = OutboxMessage._meta.db_table
    return sum(1 for q in ctx.captured_queries if q["sql"].startswith(f'INSERT INTO "{table}"'))


def test_a_batch_writes_its_rows_with_one_insert_and_hands_them_all_on(
    django_capture_on_commit_callbacks,
) -> None:
    before = OutboxMessage.objects.count()
    with (
        django_capture_on_commit_callbacks() as callbacks,
        CaptureQueriesContext(connection) as ctx,
        transaction.atomic(),
        outbox_batch(),
    ):
        outbox_call(CALL)
        outbox_task(TASK, photo_id=1)
        outbox_call(CALL, department_id=2)
        assert OutboxMessage.objects.count() == before  # not yet written
    assert _outbox_inserts(ctx) == 1
    rows = outbox_written(callbacks)
    assert [(r.kind, r.target, r.kwargs) for r in rows] == [
        ("call", CALL, {}),
        ("task", TASK, {"photo_id": 1}),
        ("call", CALL, {"department_id": 2}),
    ]
    assert OutboxMessage.objects.count() == before + 3


def test_a_row_queued_in_a_rolled_back_savepoint_is_not_written(
    django_capture_on_commit_callbacks,
) -> None:
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic(), outbox_batch():
        outbox_call(CALL, department_id=1)
        try:
            with transaction.atomic():
                outbox_call(CALL, department_id=2)
                raise ValueError("the inner step fails")
        except ValueError:
            pass
        outbox_call(CALL, department_id=3)
    assert [r.kwargs for r in outbox_written(callbacks)] == [
        {"department_id": 1},
        {"department_id": 3},
    ]
    assert not OutboxMessage.objects.filter(kwargs={"department_id": 2}).exists()


def test_a_failed_block_writes_nothing() -> None:
    before = OutboxMessage.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic(), outbox_batch():
        outbox_call(CALL, department_id=1)
        raise RuntimeError("the change fails")
    assert OutboxMessage.objects.count() == before


def test_a_nested_batch_joins_the_outer_one() -> None:
    with CaptureQueriesContext(connection) as ctx, transaction.atomic(), outbox_batch():
        outbox_call(CALL, department_id=1)
        with outbox_batch():
            outbox_call(CALL, department_id=2)
        assert not OutboxMessage.objects.filter(kwargs__department_id__in=[1, 2]).exists()
    assert _outbox_inserts(ctx) == 1
    assert OutboxMessage.objects.filter(kwargs__department_id__in=[1, 2]).count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_batch_needs_a_transaction() -> None:
    with pytest.raises(RuntimeError, match=r"inside transaction\.atomic"), outbox_batch():
        pass


@pytest.mark.django_db(transaction=True)
def test_rows_written_at_the_top_level_are_handed_on_without_a_claim(catalog: None) -> None:
    """A filing's hand-on (issue 18): its batch was written outside any savepoint, so the
    rows committed with the transaction; with their lease fresh, the hand-on runs them and
    stamps them in one statement, without reading them back."""
    with CaptureQueriesContext(connection) as ctx, transaction.atomic(), outbox_batch():
        first = outbox_call(PUSH, groups=[], message={"n": 1})
        second = outbox_call(PUSH, groups=[], message={"n": 2})
    table = OutboxMessage._meta.db_table
    after_commit = [q["sql"] for q in ctx.captured_queries if table in q["sql"]][1:]
    assert len(after_commit) == 1, after_commit  # the stamp alone: no claim
    assert after_commit[0].startswith(f'UPDATE "{table}" SET "dispatched_at"')
    for row in (first, second):
        row.refresh_from_db()
        assert row.dispatched_at is not None


@pytest.mark.django_db(transaction=True)
def test_rows_whose_lease_ran_low_are_claimed_first(catalog: None) -> None:
    """A transaction that took most of the lease to commit: a dispatcher may already have
    the rows, so the hand-on claims them (and finds none already handed on)."""
    with CaptureQueriesContext(connection) as ctx, transaction.atomic(), outbox_batch():
        row = outbox_call(PUSH, groups=[], message={"n": 1})
        row.available_at = timezone.now() + timedelta(seconds=1)
    table = OutboxMessage._meta.db_table
    after_commit = [q["sql"] for q in ctx.captured_queries if table in q["sql"]][1:]
    assert len(after_commit) == 2, after_commit
    assert after_commit[0].lstrip().startswith(f"UPDATE {table} SET available_at"), after_commit
    row.refresh_from_db()
    assert row.dispatched_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_batch_inside_a_savepoint_is_claimed_not_assumed(catalog: None) -> None:
    """Rows written inside a savepoint that then rolls back are gone although the
    transaction commits: the hand-on must read its rows back (and hand on only those that
    exist), not take the batch as written."""
    with CaptureQueriesContext(connection) as ctx, transaction.atomic():
        with outbox_batch():
            kept = outbox_call(PUSH, groups=[], message={"n": 0})
        try:
            with transaction.atomic():
                with outbox_batch():
                    outbox_call(PUSH, groups=[], message={"n": 1})
                raise ValueError("the step fails after its batch was written")
        except ValueError:
            pass
    table = OutboxMessage._meta.db_table
    claims = [
        q["sql"]
        for q in ctx.captured_queries
        if q["sql"].lstrip().startswith(f"UPDATE {table} SET available_at")
    ]
    assert len(claims) == 1, ctx.captured_queries
    assert list(OutboxMessage.objects.values_list("kwargs", flat=True)) == [
        {"groups": [], "message": {"n": 0}}
    ]
    kept.refresh_from_db()
    assert kept.dispatched_at is not None
