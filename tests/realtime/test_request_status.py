"""/ws/requests/<public_id>/: anyone may follow a request's public status; personal data
never goes out."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer

from backend.service_requests.consumers import CLOSE_NOT_FOUND
from backend.service_requests.models import CloseReason
from backend.service_requests.services import do_service_request_close
from tests.realtime.conftest import communicator
from tests.workorders.factories import Staff, order_of, request_make
from workorders.services import work_order_assign, work_order_start

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]

PUBLIC_FIELDS = {
    "type",
    "public_id",
    "status",
    "open311_status",
    "public_note",
    "updated_at",
    "expected_at",
}
PRIVATE = ("rosa@example.org", "Rosa Diaz", "617-555-0199", "my house", "drunk")


@database_sync_to_async
def _request() -> Any:
    return request_make(
        contact_email="rosa@example.org",
        contact_name="Rosa Diaz",
        contact_phone="617-555-0199",
        description="Hole outside my house",
    )


async def test_a_follower_gets_the_state_then_each_change(
    staff: Staff, layer: BaseChannelLayer
) -> None:
    sr = await _request()
    client = communicator(f"/ws/requests/{sr.public_id}/")
    connected, _ = await client.connect()
    assert connected
    snapshot = await client.receive_json_from()
    assert set(snapshot) == PUBLIC_FIELDS
    assert (snapshot["type"], snapshot["public_id"]) == ("snapshot", sr.public_id)
    assert (snapshot["status"], snapshot["open311_status"]) == ("submitted", "open")

    order = await database_sync_to_async(order_of)(sr)
    await database_sync_to_async(work_order_assign)(
        work_order=order, team=staff.team, actor=staff.supervisor
    )
    acknowledged = await client.receive_json_from(timeout=5)
    await database_sync_to_async(work_order_start)(
        work_order=order, actor=staff.crew, note="Caller sounded drunk"
    )
    started = await client.receive_json_from(timeout=5)

    assert set(acknowledged) == PUBLIC_FIELDS
    assert (acknowledged["type"], acknowledged["public_id"]) == ("status", sr.public_id)
    assert (acknowledged["status"], started["status"]) == ("acknowledged", "in_progress")
    assert acknowledged["expected_at"] == snapshot["expected_at"] is not None
    assert started["public_note"] == "A crew is working on it."
    assert not any(p in repr([snapshot, acknowledged, started]) for p in PRIVATE)
    await client.disconnect()


async def test_closing_shows_as_closed_in_open311_terms_with_its_public_note_only(
    staff: Staff, layer: BaseChannelLayer
) -> None:
    sr = await _request()
    client = communicator(f"/ws/requests/{sr.public_id}/")
    await client.connect()
    await client.receive_json_from()

    await database_sync_to_async(do_service_request_close)(
        service_request=sr,
        reason=CloseReason.CANNOT_LOCATE,
        public_note="Not found.",
        internal_note="Caller sounded drunk",
    )
    closed = await client.receive_json_from(timeout=5)

    assert set(closed) == PUBLIC_FIELDS
    assert (closed["status"], closed["open311_status"]) == ("closed", "closed")
    assert closed["public_note"] == "Not found."
    assert not any(p in repr(closed) for p in PRIVATE)
    await client.disconnect()


async def test_followers_of_another_request_hear_nothing(
    staff: Staff, layer: BaseChannelLayer
) -> None:
    sr, other = await _request(), await _request()
    client = communicator(f"/ws/requests/{other.public_id}/")
    await client.connect()
    await client.receive_json_from()

    order = await database_sync_to_async(order_of)(sr)
    await database_sync_to_async(work_order_assign)(
        work_order=order, team=staff.team, actor=staff.supervisor
    )

    assert await client.receive_nothing(timeout=0.5)
    await client.disconnect()


async def test_an_unknown_request_is_closed_with_4404(layer: BaseChannelLayer, db: None) -> None:
    client = communicator("/ws/requests/SR-1999-404/")
    connected, _ = await client.connect()
    assert connected  # accepted so that the close can carry its code

    closing = await client.receive_output(timeout=2)

    assert closing == {"type": "websocket.close", "code": CLOSE_NOT_FOUND}


async def test_a_push_skips_the_database_hop_that_connecting_makes(
    staff: Staff, layer: BaseChannelLayer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A status push only passes data on: Channels' per-message ``close_old_connections``
    thread hop (most of a 1,000-watcher fan-out's time) is skipped for it, and only for it."""
    import channels.consumer

    hops: list[str] = []
    real = channels.consumer.aclose_old_connections

    async def counted() -> None:
        hops.append("hop")
        await real()

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counted)
    sr = await _request()
    client = communicator(f"/ws/requests/{sr.public_id}/")
    assert (await client.connect())[0]
    await client.receive_json_from()
    assert hops == ["hop"]  # websocket.connect touches the database: it keeps the hop

    await database_sync_to_async(do_service_request_close)(
        service_request=sr, reason=CloseReason.RESOLVED, public_note="Filled."
    )
    pushed = await client.receive_json_from(timeout=5)

    assert (pushed["status"], pushed["public_note"]) == ("closed", "Filled.")
    assert hops == ["hop"]
    await client.disconnect()
