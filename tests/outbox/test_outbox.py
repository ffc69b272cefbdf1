"""The transactional outbox: side effects are rows of the change's own transaction, handed on
after commit, kept and retried while the broker is away, never run for a rolled-back change."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.celery import app as celery_app
from backend.outbox.models import OutboxMessage
from backend.outbox.services import (
    outbox_call,
    outbox_dispatch,
    outbox_hand_on,
    outbox_purge,
    outbox_task,
)
from backend.photos.models import Photo, ProcessingState
from tests.conftest import jpeg_bytes
from tests.factories import submit
from tests.outbox import outbox_written

pytestmark = pytest.mark.django_db

PHOTO_TASK = "backend.photos.tasks.photo_process"


@pytest.fixture
def broker_away() -> Iterator[None]:
    """The real Celery publish path, to a Redis port nobody listens on."""
    conf = celery_app.conf
    saved = {"task_always_eager": conf.task_always_eager, "broker_url": conf.broker_url}
    conf.update(task_always_eager=False, broker_url="redis://127.0.0.1:9/0")
    _pools_reset()
    try:
        yield
    finally:
        conf.update(saved)
        _pools_reset()


def _pools_reset() -> None:
    """Celery keeps its broker connections and producers in pools made at first use."""
    vars(celery_app)["_pool"] = None
    vars(celery_app.amqp)["_producer_pool"] = None


def _submit_with_photo(**kwargs: Any) -> Any:
    from backend.intake.services import PhotoUpload

    return submit(photos=[PhotoUpload(data=jpeg_bytes())], **kwargs)


def _submitted_with_its_photo_task(capture: Any) -> tuple[Any, OutboxMessage]:
    """A request with a photo, filed with its commit callbacks run (``capture``: the
    ``django_capture_on_commit_callbacks`` fixture), and the one photo task it wrote."""
    with capture(execute=True) as callbacks:
        sr = _submit_with_photo()
    (task,) = outbox_written(callbacks, PHOTO_TASK)
    return sr, task


def test_a_rolled_back_change_leaves_no_side_effect(catalog: None) -> None:
    before = OutboxMessage.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        submit(contact_email="resident@example.org")
        assert OutboxMessage.objects.count() > before  # written with the change...
        raise RuntimeError("the change fails after its side effects were written")
    assert OutboxMessage.objects.count() == before  # ...and gone with it


def test_side_effects_are_handed_on_after_commit(
    catalog: None, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        sr = submit(contact_email="resident@example.org")
    (receipt,) = outbox_written(
        callbacks, "backend.service_requests.tasks.service_request_send_receipt"
    )
    receipt.refresh_from_db()
    assert receipt.dispatched_at is not None and receipt.attempts == 0
    assert [m.to for m in mailoutbox] == [["resident@example.org"]]
    assert sr.public_id in mailoutbox[0].body


def test_a_transaction_hands_all_its_rows_on_at_once(
    catalog: None, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    """A submission writes several rows (photo, receipt, pushes, counters): one hand-on after
    its commit, not one per row: one claim and one stamp, no transaction or savepoint of
    its own (bench/load.py and bench/open311.py measured this)."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _submit_with_photo(contact_email="resident@example.org")
    rows = outbox_written(callbacks)
    assert len(rows) >= 4
    with CaptureQueriesContext(connection) as queries:
        for callback in callbacks:
            callback()
    outbox_sql = [q["sql"] for q in queries if "outbox_outboxmessage" in q["sql"]]
    claim, stamp = outbox_sql  # one claim (renewing the lease), one plain stamp
    assert claim.lstrip().startswith("UPDATE") and "RETURNING" in claim
    assert stamp.startswith("UPDATE") and "dispatched_at" in stamp and "CASE" not in stamp
    assert (
        OutboxMessage.objects.filter(
            pk__in=[row.pk for row in rows], dispatched_at__isnull=True
        ).count()
        == 0
    )
    assert [m.to for m in mailoutbox] == [["resident@example.org"]]


def test_the_dispatcher_leaves_a_new_row_to_its_writer_until_the_lease_ends(
    catalog: None, mailoutbox: list[Any]
) -> None:
    """The process that committed hands its rows on itself; the dispatcher's poll does not
    race it for them, and takes them only if the writer died before (the lease ran out)."""
    sr = submit(contact_email="resident@example.org")  # no commit here: no fast path ran
    rows = list(OutboxMessage.objects.filter(dispatched_at__isnull=True))
    assert rows and all(row.available_at > timezone.now() for row in rows)
    assert outbox_dispatch() == 0  # within the lease
    OutboxMessage.objects.update(available_at=timezone.now() - timedelta(seconds=1))
    assert outbox_dispatch() == len(rows)  # the writer is gone: the dispatcher takes over
    assert [m.to for m in mailoutbox] == [["resident@example.org"]]
    assert sr.public_id in mailoutbox[0].body
    assert outbox_hand_on(ids=[row.pk for row in rows]) == 0  # never handed on twice


def test_a_row_after_a_rolled_back_savepoint_is_still_handed_on(
    catalog: None, django_capture_on_commit_callbacks: Any
) -> None:
    target = "workorders.live.work_order_push"
    kwargs: dict[str, Any] = {"groups": [], "message": {}}
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            outbox_call(target, **kwargs)  # its hand-on goes with the savepoint
            raise RuntimeError
        kept = outbox_call(target, **kwargs)
        also = outbox_call(target, **kwargs)
    assert OutboxMessage.objects.filter(target=target).count() == 2
    for row in (kept, also):
        row.refresh_from_db()
        assert row.dispatched_at is not None


def test_with_the_broker_away_the_request_stands_and_its_work_waits(
    catalog: None, django_capture_on_commit_callbacks: Any, broker_away: None
) -> None:
    sr, task = _submitted_with_its_photo_task(django_capture_on_commit_callbacks)
    task.refresh_from_db()
    assert sr.pk is not None
    assert (task.dispatched_at, task.attempts) == (None, 1)
    assert "Error" in task.last_error
    assert task.available_at > timezone.now()  # backoff: not retried in a tight loop
    assert Photo.objects.get(service_request=sr).state == ProcessingState.PENDING


def test_the_dispatcher_hands_the_waiting_work_on_once_the_broker_is_back(
    catalog: None, django_capture_on_commit_callbacks: Any, broker_away: None
) -> None:
    sr, task = _submitted_with_its_photo_task(django_capture_on_commit_callbacks)
    assert outbox_dispatch() == 0  # its backoff has not run out yet
    OutboxMessage.objects.filter(pk=task.pk).update(available_at=timezone.now())
    celery_app.conf.task_always_eager = True  # the broker is back (tasks run in-process)

    call_command("outbox_dispatch", "--once")

    task.refresh_from_db()
    assert task.dispatched_at is not None and task.attempts == 1
    assert Photo.objects.get(service_request=sr).state == ProcessingState.READY
    assert outbox_dispatch() == 0  # handed on once


def test_only_registered_targets_are_written_or_run(catalog: None) -> None:
    with pytest.raises(ValueError, match="not a registered outbox"):
        outbox_task("os.system", "rm -rf /")
    with pytest.raises(ValueError, match="not a registered outbox"):
        outbox_call("backend.photos.tasks.photo_process", photo_id=1)  # a task, not a call
    forged = OutboxMessage.objects.create(kind="call", target="os.system", args=["true"])
    assert outbox_dispatch(ids=[forged.pk]) == 0
    forged.refresh_from_db()
    assert forged.dispatched_at is None and "not a registered" in forged.last_error


@pytest.mark.django_db(transaction=True)
def test_a_row_being_handed_on_elsewhere_is_skipped_not_repeated(catalog: None) -> None:
    message = OutboxMessage.objects.create(
        kind="call",
        target="workorders.live.work_order_push",
        kwargs={"groups": [], "message": {}},
    )
    locked = threading.Event()
    release = threading.Event()

    def other_dispatcher() -> None:
        try:
            with transaction.atomic():
                OutboxMessage.objects.select_for_update().get(pk=message.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_dispatcher)
    thread.start()
    assert locked.wait(10)
    try:
        assert outbox_dispatch(ids=[message.pk]) == 0  # no waiting on the lock either
    finally:
        release.set()
        thread.join()
    assert outbox_dispatch(ids=[message.pk]) == 1


def test_rows_handed_on_long_ago_are_purged(catalog: None) -> None:
    old = OutboxMessage.objects.create(
        kind="call",
        target="workorders.live.work_order_push",
        dispatched_at=timezone.now() - timedelta(days=8),
    )
    pending = OutboxMessage.objects.create(
        kind="call",
        target="workorders.live.work_order_push",
        created_at=timezone.now() - timedelta(days=30),
    )
    assert outbox_purge() == 1
    assert list(OutboxMessage.objects.filter(pk__in=[old.pk, pending.pk])) == [pending]


def test_the_health_check_fails_once_a_side_effect_has_waited_too_long(catalog: None) -> None:
    call_command("outbox_dispatch", "--check", "60")  # nothing waiting: healthy
    OutboxMessage.objects.create(
        kind="call",
        target="workorders.live.work_order_push",
        created_at=timezone.now() - timedelta(minutes=10),
    )
    call_command("outbox_dispatch", "--check", "900")  # waited 10 min, allowed 15: healthy
    with pytest.raises(SystemExit) as stuck:
        call_command("outbox_dispatch", "--check", "300")
    assert stuck.value.code == 1


def test_the_admin_hands_a_waiting_row_on_at_once(
    catalog: None, admin_client: Any, mailoutbox: list[Any]
) -> None:
    sr = submit(contact_email="resident@example.org")  # no commit here: the rows wait
    (receipt,) = OutboxMessage.objects.filter(
        target="backend.service_requests.tasks.service_request_send_receipt", args=[sr.pk]
    )
    answer = admin_client.post(
        "/admin/outbox/outboxmessage/",
        {"action": "hand_on_now", "_selected_action": [receipt.pk]},
        follow=True,
    )
    assert answer.status_code == 200
    assert "1 of 1 handed on." in answer.content.decode()
    receipt.refresh_from_db()
    assert receipt.dispatched_at is not None
    assert [m.to for m in mailoutbox] == [["resident@example.org"]]
    assert admin_client.post(f"/admin/outbox/outboxmessage/{receipt.pk}/delete/").status_code == 403
