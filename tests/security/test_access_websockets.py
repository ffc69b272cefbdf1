"""Access to the websocket routes (backend/routing.py), table-driven like the HTTP routes:
every route has an anonymous, an outsider and an owner case, and a route added without them
fails the test by name. A case expects the socket to stay open (and, for the chat, an answer)
or to be closed with the consumer's code (4401 anonymous, 4403 not allowed)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.urls import URLPattern
from rest_framework.authtoken.models import Token

from backend.routing import websocket_urlpatterns
from tests.realtime.conftest import communicator
from tests.security.conftest import World

OPEN = 0  # the socket stays open


@dataclass(frozen=True)
class WsCase:
    who: str
    path: Callable[[World], str]
    expect: int  # OPEN or a close code
    # For the chat: a message to send and the status its answer must carry.
    message: Callable[[World], dict[str, Any]] | None = None
    answer_status: tuple[int, ...] = ()


def conversation_of_resident(world: World) -> str:
    from chatbot.services import conversation_start

    return conversation_start(language="en", user=world.resident, source="websocket").public_id


def chat_message(world: World) -> dict[str, Any]:
    return {
        "type": "message",
        "message": "hello",
        "conversation_id": conversation_of_resident(world),
    }


WS_ENTRIES: dict[str, tuple[WsCase, WsCase, WsCase]] = {
    # Public: anyone may follow a request's status (no personal data: test_privacy.py).
    "ws/requests/<str:public_id>/": (
        WsCase("anonymous", lambda w: f"/ws/requests/{w.service_request.public_id}/", OPEN),
        WsCase("other_resident", lambda w: f"/ws/requests/{w.service_request.public_id}/", OPEN),
        WsCase("resident", lambda w: f"/ws/requests/{w.service_request.public_id}/", OPEN),
    ),
    "ws/crew/": (
        WsCase("anonymous", lambda w: "/ws/crew/", 4401),
        WsCase("resident", lambda w: "/ws/crew/", 4403),
        WsCase("crew", lambda w: "/ws/crew/", OPEN),
    ),
    "ws/analytics/": (
        WsCase("anonymous", lambda w: "/ws/analytics/", 4401),
        WsCase("resident", lambda w: "/ws/analytics/", 4403),
        WsCase("supervisor", lambda w: "/ws/analytics/", OPEN),
    ),
    # Anyone may chat; a signed-in resident's conversation is theirs alone.
    "ws/chat/": (
        WsCase("anonymous", lambda w: "/ws/chat/", OPEN, chat_message, (404,)),
        WsCase("other_resident", lambda w: "/ws/chat/", OPEN, chat_message, (404,)),
        WsCase("resident", lambda w: "/ws/chat/", OPEN, chat_message, (0, 503)),
    ),
}


def test_every_websocket_route_has_its_three_cases() -> None:
    served = {str(p.pattern) for p in websocket_urlpatterns if isinstance(p, URLPattern)}
    missing = sorted(served - set(WS_ENTRIES))
    assert missing == [], f"websocket routes without access cases: {missing}"
    assert sorted(set(WS_ENTRIES) - served) == []


def _headers(world: World, who: str) -> list[tuple[bytes, bytes]]:
    users = {
        "resident": world.resident,
        "other_resident": world.other_resident,
        "crew": world.staff.crew,
        "other_crew": world.staff.outsider,
        "supervisor": world.staff.supervisor,
    }
    if who == "anonymous":
        return []
    token, _ = Token.objects.get_or_create(user=users[who])
    return [(b"authorization", f"Token {token.key}".encode())]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("route", "role"),
    [(route, role) for route in sorted(WS_ENTRIES) for role in (0, 1, 2)],
    ids=lambda v: {0: "anonymous", 1: "outsider", 2: "owner"}.get(v, v),
)
async def test_websocket_access(world: World, settings: Any, route: str, role: int) -> None:
    default = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {
        "default": {
            **default,
            "CONFIG": {**default["CONFIG"], "prefix": f"w{uuid.uuid4().hex[:8]}_"},
        }
    }
    case = WS_ENTRIES[route][role]
    path = await sync_to_async(case.path)(world)
    headers = await sync_to_async(_headers)(world, case.who)
    client = communicator(path, headers, origin=False)
    connected, _ = await client.connect(timeout=5)
    assert connected, f"{route} refused the handshake for {case.who}"
    if case.expect != OPEN:
        output = await client.receive_output(timeout=5)
        assert output == {"type": "websocket.close", "code": case.expect}, (route, case.who, output)
        return
    if case.message is not None:
        await client.send_json_to(await sync_to_async(case.message)(world))
        answer = await client.receive_json_from(timeout=10)
        assert answer.get("status", 0) in case.answer_status, (route, case.who, answer)
    elif not await client.receive_nothing(timeout=0.5):  # something came: not a close
        output = await client.receive_output(timeout=1)
        assert output["type"] != "websocket.close", (route, case.who, output)
    await client.disconnect()
