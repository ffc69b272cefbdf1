"""The chatbot's part of the retention run (``backend/service_requests/retention.py``),
registered with the request domain's hooks in ``ChatbotConfig.ready()``: the log of a
conversation that filed or followed a request whose contact data is erased, and of an
anonymised account's conversations, loses its words (what the resident typed may name them);
the rows stay (when, which direction, what was filed), and photo files still kept are
deleted. The assistant's own tracker store forgets a conversation a day after it goes quiet
(``CHATBOT_TRACKER_EXPIRY_SECONDS``)."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Q

from backend.photos.services import private_files_delete_on_commit, private_path
from chatbot.models import ChatMessage, ChatPhoto, Conversation, GatewayRequest


def _conversations_erase(conversation_ids: list[int]) -> dict[str, int]:
    words = (
        ChatMessage.objects.filter(conversation_id__in=conversation_ids)
        .exclude(text="", buttons=[])
        .update(text="", buttons=[])
    )
    photos = ChatPhoto.objects.filter(conversation_id__in=conversation_ids).exclude(raw_path="")
    raw_paths = list(photos.values_list("raw_path", flat=True))
    files = sum(1 for relative in raw_paths if private_path(relative).is_file())
    photos.update(raw_path="")
    private_files_delete_on_commit(paths=raw_paths)
    return {"chat_messages": words, "raw_uploads": files}


def retention_contact_erase(
    *, service_request_ids: list[int], public_ids: list[str], contacts: list[str]
) -> dict[str, int]:
    """The conversations in which these requests were filed or followed, and which
    gateway number (by its keyed hash) filed them."""
    conversation_ids = set(
        ChatMessage.objects.filter(
            Q(meta__filed__in=public_ids) | Q(meta__followed__in=public_ids)
        ).values_list("conversation_id", flat=True)
    ) | set(
        ChatPhoto.objects.filter(service_request_id__in=service_request_ids).values_list(
            "conversation_id", flat=True
        )
    )
    counts = _conversations_erase(sorted(conversation_ids))
    counts["gateway_requests"], _ = GatewayRequest.objects.filter(
        service_request_id__in=service_request_ids
    ).delete()
    return counts


def retention_accounts_active(*, user_ids: list[int], since: datetime) -> set[int]:
    """Accounts that chatted with the assistant since ``since``."""
    chatted = Conversation.objects.filter(user_id__in=user_ids, messages__at__gte=since)
    return {pk for pk in chatted.values_list("user_id", flat=True).distinct() if pk is not None}


def retention_account_erase(*, user_ids: list[int]) -> dict[str, int]:
    """The anonymised accounts' conversations: their words erased, no longer theirs."""
    conversations = Conversation.objects.filter(user_id__in=user_ids)
    counts = _conversations_erase(list(conversations.values_list("pk", flat=True)))
    conversations.update(user=None)
    return counts
