"""Chatbot test data through the real services."""

from __future__ import annotations

from django.utils import timezone

from chatbot.models import ChatMessage, Conversation, Direction
from chatbot.services import conversation_start


def one_of_each_chatbot_model() -> Conversation:
    """A conversation with a message each way (for the admin pages)."""
    conversation = conversation_start(language="en", user=None, source="api")
    for direction, text in ((Direction.IN, "theres a huge hole on elm st"), (Direction.OUT, "Ok")):
        ChatMessage.objects.create(
            conversation=conversation,
            at=timezone.now(),
            direction=direction,
            text=text,
            language="en",
        )
    return conversation
