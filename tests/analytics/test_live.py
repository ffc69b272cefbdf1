"""Live counters: a request's arrival and close reach /ws/analytics/ after commit; the socket
is for staff only."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from rest_framework.authtoken.models import Token

from analytics.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from backend.service_requests.services import do_service_request_close
from tests.factories import submit
from tests.realtime.conftest import (  # noqa: F401 - fixtures used here
    _thread_connection_closed,
    anyio_backend,
    communicator,
    layer,
)
from tests.workorders.factories import user_make

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]


@database_sync_to_async
def _token(user: Any) -> bytes:
    return Token.objects.get_or_create(user=user)[0].key.encode()


@pytest.mark.usefixtures("layer")
async def test_staff_hear_arrivals_and_closes(catalog: None) -> None:
    leader = await database_sync_to_async(user_make)("lee", is_staff=True)
    client = communicator("/ws/analytics/", [(b"authorization", b"Token " + await _token(leader))])
    connected, _ = await client.connect()
    assert connected
    assert (await client.receive_json_from())["type"] == "subscribed"

    request = await database_sync_to_async(submit)("pothole")
    created = await client.receive_json_from(timeout=3)
    assert created["event"] == "created"
    assert created["channel"] == "app"
    await database_sync_to_async(do_service_request_close)(
        service_request=request, reason="resolved"
    )
    # Closing straight from "submitted" is also the first response: one push, "closed".
    assert (await client.receive_json_from(timeout=3))["event"] == "closed"
    assert await client.receive_nothing(timeout=0.3)
    await client.disconnect()


@pytest.mark.parametrize("username", [None, "rita"])
@pytest.mark.usefixtures("layer")
async def test_others_are_closed(db: None, username: str | None) -> None:
    headers = []
    if username:
        resident = await database_sync_to_async(user_make)(username)
        headers = [(b"authorization", b"Token " + await _token(resident))]
    client = communicator("/ws/analytics/", headers)
    await client.connect()
    closed = await client.receive_output(timeout=2)
    assert closed == {
        "type": "websocket.close",
        "code": CLOSE_FORBIDDEN if username else CLOSE_UNAUTHENTICATED,
    }
