"""Reads of the chatbot: a conversation for whoever holds its id, the requests its resident
filed, the agent inbox."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Case, QuerySet, Value, When

from backend.service_requests.models import ServiceRequest
from chatbot.models import (
    ChatMessage,
    Conversation,
    GatewayContact,
    GatewayRequest,
    Handoff,
    HandoffState,
)


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


# The requests a resident may ask about without a number ("what's the status of my report?").
OWN_REQUESTS_MAX = 3


def conversation_requests(*, conversation: Conversation) -> list[str]:
    """The public ids of the requests this conversation's resident filed, newest first (at
    most three): those filed in this conversation, those of its signed-in account, and those
    filed from its gateway number (by the number's keyed hash) — never anyone else's."""
    filed = ChatMessage.objects.filter(
        conversation=conversation, direction="out", meta__has_key="filed"
    ).values_list("meta__filed", flat=True)
    ids = {value for value in filed if isinstance(value, str)}
    if conversation.user_id is not None:
        ids |= set(
            ServiceRequest.objects.filter(reporter_id=conversation.user_id)
            .order_by("-requested_at")
            .values_list("public_id", flat=True)[:OWN_REQUESTS_MAX]
        )
    if conversation.source in ("sms", "whatsapp"):
        contacts = GatewayContact.objects.filter(conversation=conversation).values("pk")
        ids |= set(
            GatewayRequest.objects.filter(contact__in=contacts)
            .order_by("-created_at")
            .values_list("service_request__public_id", flat=True)[:OWN_REQUESTS_MAX]
        )
    if not ids:
        return []
    return list(
        ServiceRequest.objects.filter(public_id__in=ids)
        .order_by("-requested_at", "-id")
        .values_list("public_id", flat=True)[:OWN_REQUESTS_MAX]
    )


def handoffs_inbox() -> QuerySet[Handoff]:
    """The agent inbox: conversations waiting for a person, newest waiting first, then
    those an agent answered and has not closed (live handoffs and callback requests)."""
    waiting_first = Case(When(state=HandoffState.WAITING, then=Value(0)), default=Value(1))
    return (
        Handoff.objects.exclude(state=HandoffState.CLOSED)
        .select_related("conversation", "agent")
        .annotate(waiting_first=waiting_first)
        .order_by("waiting_first", "-requested_at", "-id")
    )


def handoff_transcript(*, handoff: Handoff) -> QuerySet[ChatMessage]:
    return ChatMessage.objects.filter(conversation_id=handoff.conversation_id).order_by("at", "id")
