"""An agent's answer reaches the web widget on its socket (``/ws/chat/``), through the outbox
and the conversation's channel group (chatbot/handoffs.py), while the assistant stays quiet."""

from __future__ import annotations

from datetime import time
from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from backend.catalog.models import Department
from chatbot.handoffs import handoff_answer
from chatbot.models import Handoff, HandoffState
from tests.chatbot.conftest import FakeRasa
from tests.workorders.factories import user_make
from workorders.models import OpeningHours
from workorders.sla import MIDNIGHT

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@database_sync_to_async
def _open_all_day(settings: Any) -> None:
    department = Department.objects.create(code="callcentre-web", name="311 Call Centre")
    for weekday in range(7):
        OpeningHours.objects.create(
            department=department, weekday=weekday, opens=time(0), closes=MIDNIGHT
        )
    settings.CHATBOT_AGENT_DEPARTMENT = department.code


@database_sync_to_async
def _answer(text: str) -> Handoff:
    handoff = Handoff.objects.get()
    handoff_answer(handoff=handoff, agent=user_make("web-agent"), text=text)
    handoff.refresh_from_db()
    return handoff


async def test_an_agents_answer_comes_on_the_widgets_socket(
    settings: Any, fake_rasa: FakeRasa
) -> None:
    from backend.asgi import application

    await _open_all_day(settings)
    fake_rasa.replies(
        {"text": "I've passed this conversation to a person."},
        {"custom": {"city311": {"handoff": True}}},
    )
    ws = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"origin", b"http://testserver")]
    )
    connected, _ = await ws.connect()
    assert connected
    await ws.send_json_to({"type": "message", "message": "talk to a person", "language": "en"})
    first = await ws.receive_json_from(timeout=5)
    assert first["replies"][0]["text"] == "I've passed this conversation to a person."
    conversation_id = first["conversation_id"]
    # Quiet while the person handles it: no reply from the assistant.
    await ws.send_json_to(
        {"type": "message", "conversation_id": conversation_id, "message": "hello?"}
    )
    quiet = await ws.receive_json_from(timeout=5)
    assert quiet == {"type": "replies", "conversation_id": conversation_id, "replies": []}
    assert len(fake_rasa.received) == 1
    handoff = await _answer("Hello, this is Alex from 311. How can I help?")
    assert handoff.state == HandoffState.ANSWERED and handoff.requested_at <= timezone.now()
    pushed = await ws.receive_json_from(timeout=5)
    assert pushed == {
        "type": "replies",
        "agent": True,
        "replies": [{"text": "Hello, this is Alex from 311. How can I help?", "buttons": []}],
    }
    await ws.disconnect()
