"""SMS through Twilio: the webhook's signature, its form read as a message, the TwiML answer,
MMS photos, and messages sent with Twilio's REST API (status messages).

The signature (``X-Twilio-Signature``) is Twilio's: HMAC-SHA1, keyed with
``TWILIO_AUTH_TOKEN``, of the full URL Twilio called followed by every POST parameter's name
and value, sorted by name; base64. Behind a proxy the URL Django sees is not the one Twilio
called, so ``TWILIO_WEBHOOK_BASE_URL`` (the public scheme and host) replaces Django's own
(which honours ``SECURE_PROXY_SSL_HEADER`` when unset)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
from xml.sax.saxutils import escape

import httpx
from django.conf import settings
from django.http import HttpRequest, QueryDict

from chatbot.gateway import (
    GatewayUnavailable,
    Inbound,
    Media,
    MediaRejected,
    address_normalize,
    media_get,
    numbered_text,
)
from chatbot.models import GatewayChannel
from chatbot.services import Reply

logger = logging.getLogger(__name__)

# Twilio's longest message body.
BODY_MAX = 1600
# Twilio's error for a number that has opted out (replied STOP).
UNSUBSCRIBED = 21610


def webhook_url(request: HttpRequest) -> str:
    """The URL Twilio called (the signature covers it)."""
    base = settings.TWILIO_WEBHOOK_BASE_URL.rstrip("/")
    return base + request.get_full_path() if base else request.build_absolute_uri()


def signature_compute(*, url: str, params: QueryDict | dict[str, str], token: str) -> str:
    """Twilio's signature of a webhook: the URL, then each parameter's name and value
    (names sorted; several values of a name sorted too), HMAC-SHA1 with the token, base64."""
    data = url
    names = sorted(set(params.keys()))
    for name in names:
        values = params.getlist(name) if isinstance(params, QueryDict) else [params[name]]
        for value in sorted(set(values)):
            data += name + value
    digest = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_valid(*, url: str, params: QueryDict, signature: str) -> bool:
    token = settings.TWILIO_AUTH_TOKEN
    if not token or not signature:
        return False
    expected = signature_compute(url=url, params=params, token=token)
    return hmac.compare_digest(expected.encode(), signature.encode())


def inbound_read(params: QueryDict) -> Inbound | None:
    """The message a webhook's form carries, or None when it is not a message from a
    phone (no MessageSid, no sender)."""
    message_id = (params.get("MessageSid") or params.get("SmsSid") or "").strip()
    address = address_normalize(params.get("From") or "")
    if not message_id or not address:
        return None
    count = int(params.get("NumMedia") or 0) if (params.get("NumMedia") or "").isdigit() else 0
    media = [
        Media(
            ref=params.get(f"MediaUrl{index}") or "",
            content_type=params.get(f"MediaContentType{index}") or "",
        )
        for index in range(min(count, 10))
        if params.get(f"MediaUrl{index}")
    ]
    return Inbound(
        channel=GatewayChannel.SMS,
        message_id=message_id[:128],
        address=address,
        text=params.get("Body") or "",
        media=media,
        keyword=(params.get("OptOutType") or "").strip(),
    )


def media_fetch(media: Media) -> bytes:
    """An MMS photo, fetched with the account's credentials from the allowed hosts only."""
    if not settings.TWILIO_ACCOUNT_SID or not settings.TWILIO_AUTH_TOKEN:
        raise MediaRejected("Twilio is not configured")
    return media_get(
        media.ref,
        allowed=settings.TWILIO_MEDIA_HOSTS,
        auth=(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN),
    )


def twiml(replies: list[Reply], *, language: str) -> str:
    """The TwiML answer: the replies in one message (buttons as numbered choices)."""
    texts = [numbered_text(reply, language=language) for reply in replies]
    body = "\n\n".join(text for text in texts if text)[:BODY_MAX]
    if not body:
        return '<?xml version="1.0" encoding="UTF-8"?><Response/>'
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Message>{escape(body)}</Message></Response>"
    )


def sms_send(*, to: str, body: str) -> bool:
    """Sends an SMS with Twilio's REST API. False when Twilio says the number opted out
    (nothing to retry); raises GatewayUnavailable when Twilio did not take it (no answer,
    429, 5xx). Another refusal is logged and not retried."""
    url = (
        f"{settings.TWILIO_API_BASE_URL.rstrip('/')}/2010-04-01/Accounts/"
        f"{settings.TWILIO_ACCOUNT_SID}/Messages.json"
    )
    try:
        response = httpx.post(
            url,
            data={"To": to, "From": settings.TWILIO_FROM_NUMBER, "Body": body[:BODY_MAX]},
            auth=(settings.TWILIO_ACCOUNT_SID, settings.TWILIO_AUTH_TOKEN),
            timeout=settings.CHATBOT_GATEWAY_TIMEOUT_SECONDS,
        )
    except httpx.HTTPError as exc:
        raise GatewayUnavailable(f"Twilio: {type(exc).__name__}") from exc
    if response.status_code == 429 or response.status_code >= 500:
        raise GatewayUnavailable(f"Twilio: HTTP {response.status_code}")
    if response.status_code >= 400:
        try:
            code = response.json().get("code")
        except ValueError:
            code = None
        if code == UNSUBSCRIBED:
            return False
        logger.warning("sms: Twilio refused a message (HTTP %s, %s)", response.status_code, code)
    return True
