"""WhatsApp through Meta's Cloud API: the webhook's verification handshake and signature, its
JSON read as messages, replies and status messages sent with the Graph API's messages
endpoint (text, reply buttons, lists, templates), and photos fetched by media id.

The signature (``X-Hub-Signature-256``) is Meta's: "sha256=" and the hex HMAC-SHA256 of the
request's raw body, keyed with ``WHATSAPP_APP_SECRET``. Replies are written to the outbox
(``whatsapp_deliver``): the Graph API down, they wait and go out later."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from typing import Any

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import translation

from backend.outbox.services import outbox_call
from chatbot.gateway import (
    CHOOSE_BUTTON,
    GatewayUnavailable,
    Inbound,
    Media,
    MediaRejected,
    address_normalize,
    media_get,
    numbered_text,
    phone_buttons,
)
from chatbot.models import GatewayChannel
from chatbot.services import Reply

logger = logging.getLogger(__name__)

# The Cloud API's limits: reply buttons (3, titles of 20 characters, ids of 256), list rows
# (10, titles of 24, ids of 200), interactive body text (1024), text messages (4096).
BUTTONS_MAX = 3
ROWS_MAX = 10
BUTTON_TITLE_MAX = 20
ROW_TITLE_MAX = 24
ID_MAX = 200
INTERACTIVE_BODY_MAX = 1024
TEXT_MAX = 4096
MEDIA_ID = re.compile(r"[A-Za-z0-9_.-]{1,128}")
# A button whose payload is too long for an id is sent as its number ("#2"), read back as
# the resident typing "2".
NUMBERED_ID = re.compile(r"#(\d{1,2})")


def signature_valid(*, body: bytes, header: str) -> bool:
    secret = settings.WHATSAPP_APP_SECRET
    if not secret or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), header[len("sha256=") :].strip().encode())


def verification_answer(*, mode: str, token: str, challenge: str) -> str | None:
    """The challenge to echo when Meta verifies the webhook with our verify token; else None."""
    expected = settings.WHATSAPP_VERIFY_TOKEN
    if mode != "subscribe" or not expected or not challenge:
        return None
    if not hmac.compare_digest(expected.encode(), token.encode()):
        return None
    return challenge


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _location(raw: dict[str, Any]) -> dict[str, float] | None:
    try:
        lat, long = float(raw["latitude"]), float(raw["longitude"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= long <= 180):
        return None
    return {"lat": lat, "long": long}


def _message(raw: dict[str, Any]) -> Inbound | None:
    message_id = str(raw.get("id") or "")[:128]
    address = address_normalize(str(raw.get("from") or ""))
    if not message_id or not address:
        return None
    kind = raw.get("type")
    base: dict[str, Any] = {
        "channel": GatewayChannel.WHATSAPP,
        "message_id": message_id,
        "address": address,
    }
    if kind == "text":
        return Inbound(**base, text=str(_dict(raw.get("text")).get("body") or ""))
    if kind == "image":
        image = _dict(raw.get("image"))
        media = [
            Media(ref=str(image.get("id") or ""), content_type=str(image.get("mime_type") or ""))
        ]
        return Inbound(**base, text=str(image.get("caption") or ""), media=media)
    if kind == "location":
        location = _location(_dict(raw.get("location")))
        return Inbound(**base, location=location, unreadable=location is None)
    if kind == "interactive":
        interactive = _dict(raw.get("interactive"))
        chosen = _dict(interactive.get("button_reply") or interactive.get("list_reply"))
        choice = str(chosen.get("id") or "")
        numbered = NUMBERED_ID.fullmatch(choice)
        if numbered:
            return Inbound(**base, text=numbered.group(1))
        return Inbound(**base, payload=choice, unreadable=not choice)
    if kind == "button":  # a template's quick reply
        button = _dict(raw.get("button"))
        return Inbound(**base, payload=str(button.get("payload") or button.get("text") or ""))
    return Inbound(**base, unreadable=True)


def inbound_read(payload: Any) -> list[Inbound]:
    """The messages of a webhook's JSON (statuses and other changes are not messages)."""
    found = []
    for entry in _list(_dict(payload).get("entry")):
        for change in _list(_dict(entry).get("changes")):
            value = _dict(_dict(change).get("value"))
            for raw in _list(value.get("messages")):
                message = _message(_dict(raw))
                if message is not None:
                    found.append(message)
    return found


# --- The Graph API


def _headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {settings.WHATSAPP_ACCESS_TOKEN}"}


def _base() -> str:
    return settings.WHATSAPP_API_BASE_URL.rstrip("/")


def media_fetch(media: Media) -> bytes:
    """A photo by its media id: its URL from the Graph API, then the file (allowed hosts
    only), both with the access token."""
    if not MEDIA_ID.fullmatch(media.ref) or not settings.WHATSAPP_ACCESS_TOKEN:
        raise MediaRejected("no usable media id")
    try:
        response = httpx.get(
            f"{_base()}/{media.ref}",
            headers=_headers(),
            timeout=settings.CHATBOT_GATEWAY_TIMEOUT_SECONDS,
        )
        found = _dict(response.json()) if response.status_code == 200 else {}
    except (httpx.HTTPError, ValueError) as exc:
        raise MediaRejected(f"media URL: {type(exc).__name__}") from exc
    url, kind, size = found.get("url"), str(found.get("mime_type") or ""), found.get("file_size")
    if not isinstance(url, str) or not url:
        raise MediaRejected(f"media URL: HTTP {response.status_code}")
    if kind and not kind.startswith("image/"):
        raise MediaRejected(f"not an image: {kind}")
    if isinstance(size, int) and size > settings.PHOTO_MAX_BYTES:
        raise MediaRejected("over the size limit")
    return media_get(url, allowed=settings.WHATSAPP_MEDIA_HOSTS, headers=_headers())


def reply_message(reply: Reply, *, language: str) -> dict[str, Any]:
    """A reply as the Cloud API's message: text, reply buttons (up to 3) or a list (up to
    10); more choices than that as numbered text."""
    buttons = phone_buttons(reply.buttons)
    if not buttons or len(buttons) > ROWS_MAX:
        return {
            "type": "text",
            "text": {"body": numbered_text(reply, language=language)[:TEXT_MAX]},
        }

    def choice_id(number: int, payload: str) -> str:
        return payload if 0 < len(payload) <= ID_MAX else f"#{number}"

    body = {"text": reply.text[:INTERACTIVE_BODY_MAX]}
    if len(buttons) <= BUTTONS_MAX:
        action: dict[str, Any] = {
            "buttons": [
                {
                    "type": "reply",
                    "reply": {
                        "id": choice_id(n, b["payload"]),
                        "title": b["title"][:BUTTON_TITLE_MAX],
                    },
                }
                for n, b in enumerate(buttons, start=1)
            ]
        }
        return {
            "type": "interactive",
            "interactive": {"type": "button", "body": body, "action": action},
        }
    rows = [
        {"id": choice_id(n, b["payload"]), "title": b["title"][:ROW_TITLE_MAX]}
        for n, b in enumerate(buttons, start=1)
    ]
    with translation.override(language):
        label = str(CHOOSE_BUTTON)[:BUTTON_TITLE_MAX]
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": body,
            "action": {"button": label, "sections": [{"title": label, "rows": rows}]},
        },
    }


def template_message(*, language: str, parameters: list[str]) -> dict[str, Any]:
    """The status template (``WHATSAPP_STATUS_TEMPLATE``), for outside the 24-hour window."""
    return {
        "type": "template",
        "template": {
            "name": settings.WHATSAPP_STATUS_TEMPLATE,
            "language": {"code": language},
            "components": [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": text} for text in parameters],
                }
            ],
        },
    }


def whatsapp_send(*, to: str, message: dict[str, Any]) -> bool:
    """Sends one message with the Graph API's messages endpoint. Raises GatewayUnavailable
    when the API did not take it (no answer, 429, 5xx); another refusal is logged, not
    retried (False)."""
    url = f"{_base()}/{settings.WHATSAPP_PHONE_NUMBER_ID}/messages"
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to.lstrip("+"),
        **message,
    }
    try:
        response = httpx.post(
            url, json=body, headers=_headers(), timeout=settings.CHATBOT_GATEWAY_TIMEOUT_SECONDS
        )
    except httpx.HTTPError as exc:
        raise GatewayUnavailable(f"WhatsApp: {type(exc).__name__}") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise GatewayUnavailable(f"WhatsApp: HTTP {response.status_code}")
    if response.status_code >= 400:
        logger.warning("whatsapp: the Graph API refused a message (HTTP %s)", response.status_code)
        return False
    return True


def whatsapp_deliver(*, to: str, message: dict[str, Any]) -> None:
    """The outbox's call for a reply: sent, or raising so the row waits and is retried."""
    whatsapp_send(to=to, message=message)


def replies_enqueue(*, to: str, replies: list[Reply], language: str) -> None:
    """The replies to a message, each its own outbox row (sent in order after commit)."""
    with transaction.atomic():
        for reply in replies:
            outbox_call(
                "chatbot.whatsapp.whatsapp_deliver",
                to=to,
                message=reply_message(reply, language=language),
            )
