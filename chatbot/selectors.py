"""Reads of the chatbot: a conversation for whoever holds its id."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from chatbot.models import Conversation


def conversation_get_for_user(
    *, public_id: str, user: AbstractBaseUser | AnonymousUser | None
) -> Conversation | None:
    """The conversation with this id; a signed-in resident's conversation only for them.
    Ids are random (``secrets.token_urlsafe``), so holding one is the permission."""
    conversation = Conversation.objects.filter(public_id=public_id).first()
    if conversation is None:
        return None
    if conversation.user_id is not None and (user is None or user.pk != conversation.user_id):
        return None
    return conversation
