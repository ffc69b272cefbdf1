"""``/ws/chat/``, the widget's socket, through the whole ASGI application (origin check,
session) with Rasa faked at HTTP: replies, errors naming the field, Rasa down and back."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from chatbot.models import ChatMessage
from tests.chatbot.conftest import FakeRasa

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def socket(*, origin: bytes = b"http://testserver") -> WebsocketCommunicator:
    from backend.asgi import application

    return WebsocketCommunicator(application, "/ws/chat/", headers=[(b"origin", origin)])


@database_sync_to_async
def _log(conversation_id: str) -> list[tuple[str, str]]:
    return list(
        ChatMessage.objects.filter(conversation__public_id=conversation_id).values_list(
            "direction", "text"
        )
    )


async def test_a_message_gets_the_replies_with_buttons(fake_rasa: FakeRasa) -> None:
    fake_rasa.replies(
        {"text": "What kind of problem is it?", "buttons": [{"title": "Pothole", "payload": "/p"}]}
    )
    ws = socket()
    connected, _ = await ws.connect()
    assert connected
    await ws.send_json_to({"type": "message", "message": "i want to report", "language": "en"})
    answer = await ws.receive_json_from(timeout=5)
    assert answer["type"] == "replies"
    assert answer["replies"] == [
        {"text": "What kind of problem is it?", "buttons": [{"title": "Pothole", "payload": "/p"}]}
    ]
    conversation_id = answer["conversation_id"]
    await ws.send_json_to({"type": "message", "conversation_id": conversation_id, "message": "/p"})
    again = await ws.receive_json_from(timeout=5)
    assert again["conversation_id"] == conversation_id
    assert [r["sender"] for r in fake_rasa.received] == [conversation_id, conversation_id]
    assert fake_rasa.received[0]["metadata"] == {
        "language": "en",
        "user": None,
        "channel": "websocket",
    }
    assert len(await _log(conversation_id)) == 4
    await ws.disconnect()


BAD = [
    ({"type": "hello"}, "type"),
    ({"type": "message"}, "message"),
    ({"type": "message", "message": "hi", "language": "de"}, "language"),
    ({"type": "message", "message": "hi", "conversation_id": "nope"}, "conversation_id"),
]


async def test_bad_messages_are_answered_with_the_field_and_the_socket_stays(
    fake_rasa: FakeRasa,
) -> None:
    ws = socket()
    await ws.connect()
    for sent, field in BAD:
        await ws.send_json_to(sent)
        answer = await ws.receive_json_from(timeout=5)
        assert answer["type"] == "error", sent
        assert answer["status"] in (400, 404)
        assert field in answer["errors"], answer
    assert fake_rasa.received == []
    await ws.send_json_to({"type": "message", "message": "hi"})
    assert (await ws.receive_json_from(timeout=5))["type"] == "replies"
    await ws.disconnect()


async def test_rasa_down_says_so_politely_and_the_conversation_goes_on(
    rasa_down: None, settings: Any, request: pytest.FixtureRequest
) -> None:
    ws = socket()
    await ws.connect()
    await ws.send_json_to({"type": "message", "message": "hola", "language": "es"})
    answer = await ws.receive_json_from(timeout=10)
    assert answer["type"] == "error"
    assert answer["status"] == 503
    assert "https://311.example.org/report" in answer["detail"]
    conversation_id = answer["conversation_id"]
    fake: FakeRasa = request.getfixturevalue("fake_rasa")  # Rasa is back
    await ws.send_json_to(
        {"type": "message", "conversation_id": conversation_id, "message": "hola otra vez"}
    )
    back = await ws.receive_json_from(timeout=5)
    assert back["type"] == "replies"
    assert fake.received[0]["sender"] == conversation_id
    await ws.disconnect()


async def test_a_foreign_origin_is_refused(fake_rasa: FakeRasa) -> None:
    ws = socket(origin=b"https://evil.example")
    connected, _ = await ws.connect()
    assert not connected
