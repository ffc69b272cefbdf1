"""Chatbot test data through the real services."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from backend.service_requests.models import ServiceRequest, ServiceRequestEvent
from backend.service_requests.services import service_request_acknowledge
from chatbot.gateway import address_key
from chatbot.models import ChatMessage, Conversation, Direction, GatewayContact
from chatbot.services import conversation_start
from tests.factories import submit

if TYPE_CHECKING:
    from tests.chatbot.conftest import FakeRasa


def chat_messages_add(
    conversation: Conversation, messages: Sequence[tuple[str, str, dict[str, Any]]]
) -> None:
    """The conversation's log gets these messages (direction, text, meta), in English, now."""
    for direction, text, meta in messages:
        ChatMessage.objects.create(
            conversation=conversation,
            at=timezone.now(),
            direction=direction,
            text=text,
            language="en",
            meta=meta,
        )


def one_of_each_chatbot_model() -> Conversation:
    """A conversation with a message each way, and a gateway's contact (for the admin
    pages)."""
    conversation = conversation_start(language="en", user=None, source="api")
    said: list[tuple[str, str, dict[str, Any]]] = [
        (Direction.IN, "theres a huge hole on elm st", {}),
        (Direction.OUT, "Ok", {}),
    ]
    chat_messages_add(conversation, said)
    GatewayContact.objects.create(
        channel="sms", address_key=address_key("+16175550100"), conversation=conversation
    )
    return conversation


def filed_in_chat(fake_rasa: FakeRasa, reply: str, send: Callable[[], object]) -> ServiceRequest:
    """A pothole request the assistant files when ``send()`` passes the resident's "yes" on:
    Rasa answers ``reply`` (``{id}``: the request's number) and the "filed" marker."""
    filed = submit("pothole", channel="chat")
    fake_rasa.replies(
        {"text": reply.format(id=filed.public_id)},
        {"custom": {"city311": {"filed": filed.public_id}}},
    )
    send()
    filed.refresh_from_db()
    return filed


def acknowledged(service_request: ServiceRequest) -> ServiceRequestEvent:
    """The request acknowledged with a public note; the event that says so."""
    service_request_acknowledge(service_request=service_request, public_note="On our list.")
    return ServiceRequestEvent.objects.get(
        service_request=service_request, to_status="acknowledged"
    )
