"""Writes of the chatbot: conversations, relaying a message to the assistant and logging both
sides, the widget's photo uploads, and what the assistant's actions ask Django to do after
a turn (attach the conversation's photo to the request it filed; follow a request for a
signed-in resident).

The assistant speaks to the city only through Open311 (chatbot/assistant/actions). Its
actions cannot see the photos Django holds, nor who is signed in, so they say what they did
in a custom message, ``{"city311": {"filed": "SR-..", "photo": ref}}`` or ``{"city311":
{"follow": "SR-.."}}`` or ``{"city311": {"handoff": true}}`` (a person: chatbot/handoffs.py);
``chat_message_send`` acts on it and never shows it to the resident. While a person handles
the conversation, its messages are logged and not relayed.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.models import User as UserModel
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from backend.errors import City311Error, ErrorCode
from backend.open311.models import ApiKey
from backend.open311.services import api_key_create, api_key_revoke
from backend.photos.processing import ACCEPTED_FORMATS, PhotoRejected
from backend.photos.services import (
    photo_attach,
    photo_process_enqueue,
    photo_upload_check,
    private_file_write,
    private_files_unclaimed_delete,
    private_path,
)
from backend.service_requests.models import Channel, ServiceRequest
from backend.service_requests.selectors import service_request_get_visible
from backend.service_requests.services import service_request_follower_add
from chatbot.handoffs import handoff_active, handoff_request
from chatbot.models import ChatMessage, ChatPhoto, Conversation, Direction
from chatbot.relay import AssistantUnavailable, rasa_send
from chatbot.selectors import conversation_requests

logger = logging.getLogger(__name__)

LANGUAGES = ("en", "es", "vi")
MESSAGE_MAX_CHARS = 2000
# A request the assistant says it filed must be this recent to get the conversation's photo.
FILED_RECENTLY = timedelta(hours=1)
# What the resident reads when the assistant is down, in the conversation's language
# (backend/locale: es, vi).
UNAVAILABLE = gettext_lazy(
    "Sorry, the assistant is not available right now. Please try again in a few "
    "minutes, or report the problem with the web form: %(url)s"
)


class ChatUnavailable(City311Error):
    """The assistant is down (503); ``message`` says so politely, with the web form's
    address. The JSON answer names the conversation and the web form too."""

    code = ErrorCode.UNAVAILABLE

    def __init__(self, message: str, *, conversation_id: str = "") -> None:
        self.conversation_id = conversation_id
        super().__init__(
            {"assistant": ["The assistant is not available right now."]}, detail=message
        )

    @property
    def message(self) -> str:
        return self.detail

    def __str__(self) -> str:
        return self.detail

    def answer(self, detail: str) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "detail": detail,
            "web_form_url": settings.CHATBOT_WEB_FORM_URL,
            "errors": self.errors,
        }


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


def language_pick(value: Any) -> str:
    code = str(value or "")[:2].lower()
    return code if code in LANGUAGES else settings.LANGUAGE_CODE


def _user(user: AbstractBaseUser | AnonymousUser | None) -> UserModel | None:
    return user if isinstance(user, UserModel) and user.is_authenticated else None


def conversation_start(
    *, language: str, user: AbstractBaseUser | AnonymousUser | None, source: str
) -> Conversation:
    return Conversation.objects.create(
        public_id=secrets.token_urlsafe(24),
        created_at=timezone.now(),
        language=language_pick(language),
        user=_user(user),
        source=source,
    )


def unavailable_message(*, language: str) -> str:
    with translation.override(language_pick(language)):
        return str(UNAVAILABLE) % {"url": settings.CHATBOT_WEB_FORM_URL}


def _log(
    *,
    conversation: Conversation,
    direction: str,
    text: str,
    language: str,
    buttons: list[dict[str, str]] | None = None,
    meta: dict[str, Any] | None = None,
) -> ChatMessage:
    return ChatMessage.objects.create(
        conversation=conversation,
        at=timezone.now(),
        direction=direction,
        text=text,
        language=language,
        buttons=buttons or [],
        meta=meta or {},
    )


def _buttons(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, list):
        return []
    return [
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
        for b in raw
        if isinstance(b, dict)
    ]


def chat_message_send(
    *,
    conversation: Conversation,
    text: str,
    language: str,
    metadata: dict[str, Any],
    user: AbstractBaseUser | AnonymousUser | None,
) -> list[Reply]:
    """Logs the resident's message, relays it to the assistant, carries out what its actions
    asked for, logs and returns its replies. Raises ChatUnavailable when Rasa is down (the
    conversation continues with the next message once it is back)."""
    language = language_pick(language or conversation.language)
    if language != conversation.language:
        conversation.language = language
        conversation.save(update_fields=["language"])
    photo = metadata.get("photo") or None
    location = metadata.get("location") or None
    inbound_meta: dict[str, Any] = {}
    if photo:
        inbound_meta["photo"] = photo
    if location:
        inbound_meta["location_shared"] = True  # never the coordinates in the log
    handoff = handoff_active(conversation=conversation)
    if handoff is not None:
        inbound_meta["handoff"] = handoff.pk
    _log(
        conversation=conversation,
        direction=Direction.IN,
        text=text,
        language=language,
        meta=inbound_meta,
    )
    if handoff is not None:
        # A person handles the conversation: the assistant stays quiet until they close it;
        # the message waits in the agent inbox.
        return []
    account = _user(user)
    rasa_metadata: dict[str, Any] = {
        "language": language,
        "user": account.pk if account else None,
        "channel": conversation.source,
    }
    own = conversation_requests(conversation=conversation)
    if own:
        # "What's the status of my report?": only this resident's requests (public ids).
        rasa_metadata["requests"] = own
    if photo:
        rasa_metadata["photo"] = photo
    if location:
        rasa_metadata["location"] = location
    try:
        messages = rasa_send(sender=conversation.public_id, text=text, metadata=rasa_metadata)
    except AssistantUnavailable as exc:
        logger.warning("chatbot: the assistant is unavailable (%s)", exc)
        apology = unavailable_message(language=language)
        _log(
            conversation=conversation,
            direction=Direction.OUT,
            text=apology,
            language=language,
            meta={"unavailable": True},
        )
        raise ChatUnavailable(apology, conversation_id=conversation.public_id) from exc
    replies: list[Reply] = []
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("city311"), dict):
            meta = _assistant_effect(
                conversation=conversation, effect=custom["city311"], user=account
            )
            _log(
                conversation=conversation,
                direction=Direction.OUT,
                text="",
                language=language,
                meta=meta,
            )
            continue
        body = message.get("text")
        if not isinstance(body, str) or not body:
            continue
        reply = Reply(text=body, buttons=_buttons(message.get("buttons")))
        _log(
            conversation=conversation,
            direction=Direction.OUT,
            text=reply.text,
            language=language,
            buttons=reply.buttons,
        )
        replies.append(reply)
    return replies


def _assistant_effect(
    *, conversation: Conversation, effect: dict[str, Any], user: UserModel | None
) -> dict[str, Any]:
    filed = effect.get("filed")
    if isinstance(filed, str):
        attached = chat_filed_record(
            conversation=conversation, public_id=filed, photo_reference=effect.get("photo")
        )
        return {"filed": filed, "photo_attached": attached}
    follow = effect.get("follow")
    if isinstance(follow, str):
        followed = chat_follow(public_id=follow, user=user)
        return {"followed": follow, "account_follows": followed}
    if effect.get("handoff") is True:
        handoff = handoff_request(conversation=conversation)
        return {"handoff": handoff.pk, "handoff_kind": handoff.kind}
    return {"ignored": sorted(effect)}


def chat_follow(*, public_id: str, user: UserModel | None) -> bool:
    """A signed-in resident follows the likely duplicate the assistant offered instead of
    filing again; an anonymous one is told its number to check on."""
    if user is None:
        return False
    service_request = service_request_get_visible(public_id=public_id)
    if service_request is None:
        return False
    return (
        service_request_follower_add(service_request=service_request, user=user, source="chat")
        is not None
    )


# --- Photos uploaded by the widget


class ChatPhotoRejected(City311Error):
    """A photo the widget sent that cannot be kept, naming ``photo``."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__({"photo": [message]}, field="photo", status_code=status)

    def __str__(self) -> str:
        return self.message


def chat_photo_store(*, conversation: Conversation, data: bytes) -> ChatPhoto:
    """Checks the upload like every photo (format, size, pixels) and keeps it privately until
    the request is filed. Raises ChatPhotoRejected."""
    try:
        checked = photo_upload_check(data=data)
    except PhotoRejected as exc:
        raise ChatPhotoRejected(exc.message, status=exc.status) from exc
    reference = secrets.token_urlsafe(18)
    relative = f"chat/{reference}.{ACCEPTED_FORMATS[checked.info.format]}"
    private_file_write(private_path(relative), data)
    return ChatPhoto.objects.create(
        conversation=conversation,
        reference=reference,
        created_at=timezone.now(),
        content_hash=checked.content_hash,
        raw_path=relative,
    )


def chat_filed_record(*, conversation: Conversation, public_id: str, photo_reference: Any) -> bool:
    """The assistant filed ``public_id`` in this conversation: attach the conversation's
    photo to it. Only a photo of this conversation not attached yet, and only to a request
    of the chat channel filed within the hour. True when a photo was attached."""
    if not isinstance(photo_reference, str) or not photo_reference:
        return False
    since = timezone.now() - FILED_RECENTLY
    service_request = ServiceRequest.objects.filter(
        public_id=public_id, channel=Channel.CHAT, requested_at__gte=since
    ).first()
    if service_request is None:
        logger.warning("chatbot: no recent chat request %s to attach a photo to", public_id)
        return False
    with transaction.atomic():
        chat_photo = (
            ChatPhoto.objects.select_for_update()
            .filter(conversation=conversation, reference=photo_reference)
            .first()
        )
        if chat_photo is None or chat_photo.service_request_id is not None:
            return False
        raw = private_path(chat_photo.raw_path)
        try:
            upload = photo_upload_check(data=raw.read_bytes())
        except (OSError, PhotoRejected):  # a vanished or changed file: attach nothing
            logger.exception("chatbot: photo %s could not be read", chat_photo.reference)
            return False
        photo, created = photo_attach(service_request=service_request, upload=upload)
        if created:
            photo_process_enqueue(photo_ids=[photo.pk])
        chat_photo.service_request = service_request
        chat_photo.save(update_fields=["service_request"])
    raw.unlink(missing_ok=True)
    return True


# The assistant forgets a conversation a day after its last message (the tracker store's
# expiry, CHATBOT_TRACKER_EXPIRY_SECONDS), and with it the reference of a photo not used yet.
CHAT_PHOTO_UNUSED_KEEP = timedelta(days=1)
# A raw file is written just before its row; older files no row names are orphans.
CHAT_RAW_ORPHAN_AFTER = timedelta(hours=1)


def chat_photos_sweep(*, now: datetime | None = None) -> int:
    """Deletes photos uploaded in a chat that were never attached to a request, once their
    conversation has been quiet for a day (the assistant can no longer use them), with their
    raw files (which carry EXIF, GPS included); and raw files in ``chat/`` that no photo row
    names (a write cut off, a row never created). Attached photos' rows stay: they say which
    request got the photo. Returns how many files were deleted."""
    now = now or timezone.now()
    quiet_since = now - CHAT_PHOTO_UNUSED_KEEP
    unused = (
        ChatPhoto.objects.filter(service_request__isnull=True, created_at__lt=quiet_since)
        .exclude(conversation__messages__at__gte=quiet_since)
        .order_by("pk")
    )
    deleted = 0
    for chat_photo in unused[:1000]:
        # Not if the assistant attached it meanwhile.
        gone, _ = ChatPhoto.objects.filter(pk=chat_photo.pk, service_request__isnull=True).delete()
        if gone:
            private_path(chat_photo.raw_path).unlink(missing_ok=True)
            deleted += 1
    deleted += private_files_unclaimed_delete(
        folders=["chat"],
        before=now - CHAT_RAW_ORPHAN_AFTER,
        claimed=lambda paths: set(
            ChatPhoto.objects.filter(raw_path__in=paths).values_list("raw_path", flat=True)
        ),
    )
    if deleted:
        logger.info("chat photos sweep: %s raw file(s) deleted", deleted)
    return deleted


# --- The assistant's own Open311 API key


def chatbot_api_key_ensure() -> str:
    """The assistant's Open311 key (channel ``chat``), issued if missing; idempotent.

    Only digests of keys are stored, so the key is derived from ``SECRET_KEY`` (HMAC) and
    every run finds the same one. A new ``SECRET_KEY`` gives a new key; the assistant's
    earlier keys are revoked then."""
    raw = (
        "c311chat_"
        + hmac.new(
            settings.SECRET_KEY.encode(), b"city311 chatbot open311 key", hashlib.sha256
        ).hexdigest()[:40]
    )
    name = f"chatbot {hashlib.sha256(raw.encode()).hexdigest()[:8]}"
    issued = api_key_create(name=name, channel=Channel.CHAT, raw=raw)
    if not issued.api_key.active:
        raise ValueError(f"The assistant's key {name!r} was revoked; issue a new SECRET_KEY.")
    for old in ApiKey.objects.filter(
        name__startswith="chatbot ", channel=Channel.CHAT, active=True
    ).exclude(pk=issued.api_key.pk):
        api_key_revoke(api_key=old)
    return raw
