"""Two retries of one crew action arriving at once (a phone back online resending while the
first try is still running): on separate connections, each commit real."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from tests.workorders.factories import order_in, staff_make, token_client
from workorders.models import WorkOrderEvent, WorkOrderEventKind, WorkOrderStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_retries_act_once_and_both_get_the_first_answer(catalog: None) -> None:
    staff = staff_make()
    order = order_in(WorkOrderStatus.ASSIGNED, staff=staff)
    url = f"/mobile/v1/crew/workorders/{order.pk}/start"
    payload = {"client_at": timezone.now().isoformat()}
    barrier = threading.Barrier(2)
    results: dict[str, Any] = {}

    def send(name: str) -> None:
        try:
            client = token_client(staff.crew)
            barrier.wait()
            results[name] = client.post(url, payload, format="json", HTTP_IDEMPOTENCY_KEY="k")
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [results[name].status_code for name in ("a", "b")] == [200, 200]
    assert results["a"].json() == results["b"].json()
    started = WorkOrderEvent.objects.filter(work_order=order, kind=WorkOrderEventKind.STARTED)
    assert started.count() == 1
