"""Chatbot test data through the real services."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from chatbot.gateway import address_key
from chatbot.models import ChatMessage, Conversation, Direction, GatewayContact
from chatbot.services import conversation_start


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
