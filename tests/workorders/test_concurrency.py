"""Concurrent writers on real, separate database connections (threads, each with its own
connection; transactional tests, so each commit is real)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.utils import timezone

from backend.photos.models import Photo
from tests.workorders.factories import (
    Staff,
    good_proof,
    order_in,
    order_of,
    request_make,
    staff_make,
    token_client,
)
from workorders.errors import IllegalTransition
from workorders.escalation import work_orders_escalate
from workorders.models import ProofPhoto, WorkOrder, WorkOrderEvent, WorkOrderStatus
from workorders.services import work_order_complete

pytestmark = pytest.mark.django_db(transaction=True)

HOLD_LOCK_S = 0.6


def _thread(target: Callable[[], Any], results: dict[str, Any], name: str) -> threading.Thread:
    def run() -> None:
        try:
            results[name] = target()
        except BaseException as exc:
            results[name] = exc
        finally:
            connection.close()

    return threading.Thread(target=run, name=name)


@pytest.fixture
def staff_tx(catalog: None) -> Staff:
    return staff_make()


def test_two_crew_members_completing_at_once_one_wins_the_other_gets_409(
    staff_tx: Staff,
) -> None:
    staff = staff_tx
    order = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff)
    locked = threading.Event()
    results: dict[str, Any] = {}
    timing: dict[str, float] = {}

    def first() -> Any:
        with transaction.atomic():
            done = work_order_complete(
                work_order=order, actor=staff.crew, proof_photos=[good_proof(seed=1)]
            )
            locked.set()  # the row locks are held until this transaction commits
            time.sleep(HOLD_LOCK_S)
        return done

    def second() -> Any:
        assert locked.wait(10)
        started = time.monotonic()
        try:
            return work_order_complete(
                work_order=order, actor=staff.supervisor, proof_photos=[good_proof(seed=2)]
            )
        finally:
            timing["waited"] = time.monotonic() - started

    threads = [_thread(first, results, "first"), _thread(second, results, "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert not isinstance(results["first"], BaseException), results["first"]
    assert isinstance(results["second"], IllegalTransition), results["second"]
    assert results["second"].current_status == WorkOrderStatus.COMPLETED
    assert results["second"].status_code == 409
    assert timing["waited"] >= HOLD_LOCK_S / 2  # it really waited for the first one's lock
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.COMPLETED
    assert WorkOrderEvent.objects.filter(work_order=order, kind="completed").count() == 1
    assert ProofPhoto.objects.filter(work_order=order).count() == 1
    assert Photo.objects.filter(service_request=order.service_request).count() == 1


def test_two_completions_over_http_answer_200_and_409(staff_tx: Staff) -> None:
    staff = staff_tx
    order = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff)
    clients = {"crew": token_client(staff.crew), "supervisor": token_client(staff.supervisor)}
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def post(name: str, seed: int) -> Callable[[], Any]:
        def go() -> Any:
            barrier.wait(10)
            return clients[name].post(
                f"/api/v1/workorders/{order.pk}/complete",
                {"photos": [_upload(good_proof(seed=seed), f"{name}.jpg")], "note": name},
                format="multipart",
            )

        return go

    threads = [
        _thread(post("crew", 1), results, "crew"),
        _thread(post("supervisor", 2), results, "supervisor"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    codes = sorted(response.status_code for response in results.values())
    assert codes == [200, 409], [r.content for r in results.values()]
    loser = next(r for r in results.values() if r.status_code == 409).json()
    assert loser["current_status"] == "completed" and "status" in loser["errors"]
    assert ProofPhoto.objects.filter(work_order=order).count() == 1


def test_the_escalation_scan_skips_a_row_a_transition_holds(staff_tx: Staff) -> None:
    order = order_of(request_make("pothole", requested_at=timezone.now() - timedelta(hours=100)))
    locked, release = threading.Event(), threading.Event()
    results: dict[str, Any] = {}

    def holder() -> None:
        with transaction.atomic():
            WorkOrder.objects.select_for_update().get(pk=order.pk)
            locked.set()
            release.wait(10)

    def scan() -> Any:
        assert locked.wait(10)
        try:
            return work_orders_escalate()
        finally:
            release.set()

    threads = [_thread(holder, results, "holder"), _thread(scan, results, "scan")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert results["scan"].overdue == 0  # skipped, not waited for
    assert work_orders_escalate().overdue == 1  # the next scan takes it


def _upload(data: bytes, name: str) -> Any:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")
