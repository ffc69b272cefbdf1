"""The assistant on messaging gateways (SMS through Twilio: ``chatbot/sms.py``; WhatsApp
through Meta's Cloud API: ``chatbot/whatsapp.py``): what a message from a phone does, whatever
the gateway.

A number is known only by its keyed hash (``address_key``: HMAC-SHA256 with
``CHATBOT_GATEWAY_KEY``), in the conversation's contact row, the log and the logs; the number
itself is kept once, in the ``contact_phone`` of a request filed from it (where contact data
lives: private, erased by the retention run), and passes through the outbox row of a WhatsApp
reply on its way out. A message id is taken once (``GatewayInbound``): a replayed webhook is
answered with what the first one was answered, and relays nothing. STOP and its synonyms opt
the number out (nothing more is sent to it, replies nor status messages) until START; HELP is
always answered. Buttons become numbered choices, and a number sent back is the button."""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy

from backend.photos.uploads import photo_limit_mb
from backend.service_requests.models import Channel, ServiceRequest
from backend.service_requests.services import service_request_contact_phone_add
from chatbot.handoffs import handoff_phone_record
from chatbot.models import (
    ChatMessage,
    Conversation,
    Direction,
    GatewayContact,
    GatewayInbound,
    GatewayRequest,
)
from chatbot.services import (
    FILED_RECENTLY,
    MESSAGE_MAX_CHARS,
    ChatPhotoRejected,
    ChatUnavailable,
    Reply,
    chat_message_send,
    chat_photo_store,
    conversation_start,
)

logger = logging.getLogger(__name__)

# Twilio's opt-out keywords and their synonyms (matched on the whole message, any case).
STOP_WORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_WORDS = frozenset({"START", "YES", "UNSTOP"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# A conversation quiet this long starts afresh (the assistant's tracker has forgotten it).
CONVERSATION_QUIET = timedelta(days=1)
# Buttons a phone cannot use: the widget's "share my location" (a resident sends a location
# or types the address instead).
PHONE_UNUSABLE_PAYLOADS = frozenset({"/share_location"})

CHOOSE = gettext_lazy("Reply with the number of your choice.")
# The label of the button that opens a WhatsApp list (20 characters at most).
CHOOSE_BUTTON = gettext_lazy("Choose")
TOO_LONG = gettext_lazy(
    "Sorry, that message is too long for the assistant. Please describe the problem in "
    "fewer than %(count)s characters."
)
PHOTO_NOT_USED = gettext_lazy(
    "Sorry, we could not use that photo. Please send a JPEG, PNG or WebP photo under %(mb)s MB."
)
NOT_READABLE = gettext_lazy(
    "Sorry, the assistant can read text, photos and locations only. Please describe the "
    "problem in words."
)
HELP = gettext_lazy(
    "This is the city's 311 assistant: describe a problem in the street to report it, or "
    "send a request number to follow it. Reply STOP to get no more messages."
)
OPTED_OUT = gettext_lazy(
    "You will get no more messages from the city's 311 assistant. Reply START to get them again."
)
OPTED_IN = gettext_lazy(
    "Welcome back: you will get messages from the city's 311 assistant again. Reply STOP to "
    "stop them."
)
LANGUAGE_SET = gettext_lazy(
    "From now on the assistant answers you in English. Reply ESPAÑOL or TIẾNG VIỆT to change."
)
MY_LOCATION = gettext_lazy("📍 My location")
PHOTO_ONLY = gettext_lazy("📷 Photo")


# A phone sends no language: a new conversation's is guessed from its first message
# (``language_guess``), and these words (any case, accents optional) set it at any time.
LANGUAGE_WORDS = {
    "ENGLISH": "en",
    "INGLES": "en",
    "ESPANOL": "es",
    "SPANISH": "es",
    "TIENG VIET": "vi",
    "VIETNAMESE": "vi",
}
# Marks only Vietnamese writes: the horn, the breve, the d with a stroke, the hook above, the
# dot below, the grave accent, the circumflex and the tilde on a vowel (Spanish writes the
# acute only, and the tilde on n alone).
_VI_MARKS = {"\u031b", "\u0306", "\u0309", "\u0323", "\u0300", "\u0302"}
_VI_LETTERS = set("đĐãẽĩõũỹÃẼĨÕŨỸ")
_ES_SIGNS = set("¿¡ñÑ")
# Words of the other two languages residents use in reports, typed without accents.
_VI_WORDS = frozenset(
    [
        "khong",
        "duong",
        "nuoc",
        "truoc",
        "nguoi",
        "cua",
        "tren",
        "hong",
        "rac",
        "nha",
        "chung",
        "toi",
        "xin",
        "chao",
        "ga",
        "giup",
        "phuong",
        "quan",
        "duoc",
        "nhieu",
        "lon",
        "bi",
        "vao",
        "den",
        "giao",
        "thong",
        "cay",
        "chet",
        "o",
        "mot",
        "bao",
    ]
)
_ES_WORDS = frozenset(
    [
        "hay",
        "calle",
        "bache",
        "basura",
        "esta",
        "una",
        "que",
        "por",
        "favor",
        "hola",
        "luz",
        "agua",
        "arbol",
        "semaforo",
        "del",
        "muy",
        "grande",
        "frente",
        "acera",
        "para",
        "roto",
        "rota",
        "hoyo",
        "tirada",
        "el",
        "la",
        "los",
        "las",
    ]
)


def _folded(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def language_guess(text: str) -> str:
    """The language a first message is most likely in: ``vi`` or ``es`` when it shows it
    (Vietnamese's own marks, Spanish's signs, or at least two words of one and fewer of the
    other), else empty (the site's default)."""
    marks = set(unicodedata.normalize("NFD", text))
    if marks & _VI_MARKS or set(text) & _VI_LETTERS:
        return "vi"
    if marks & _ES_SIGNS or "\u0301" in marks:
        return "es"
    words = re.findall(r"[a-z]+", _folded(text).lower())
    vi = sum(word in _VI_WORDS for word in words)
    es = sum(word in _ES_WORDS for word in words)
    if vi >= 2 and vi > es:
        return "vi"
    if es >= 2 and es > vi:
        return "es"
    return ""


def language_word(text: str) -> str:
    """The language a message asks for ("ESPAÑOL", "tieng viet"), or empty."""
    return LANGUAGE_WORDS.get(" ".join(_folded(text).upper().strip(" .!").split()), "")


class MediaRejected(Exception):
    """A photo that was not fetched or not kept: host not allowed, too large, not an image,
    or the gateway did not give it. The resident is told politely; ``reason`` is logged."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GatewayUnavailable(OSError):
    """A gateway's API did not take a message (no answer, 429 or 5xx): sent again later (the
    outbox's backoff for a reply, the status message task's retry for a status message)."""


@dataclass(frozen=True)
class Media:
    """A photo a message carries: Twilio's MediaUrlN, or WhatsApp's media id."""

    ref: str
    content_type: str = ""


@dataclass(frozen=True)
class Inbound:
    """One message from a phone, as a gateway's webhook gave it."""

    channel: str
    message_id: str
    address: str  # the number, E.164 ("+16175550100")
    text: str = ""
    payload: str = ""  # a WhatsApp button or list reply: the button's payload
    media: list[Media] = field(default_factory=list)
    location: dict[str, float] | None = None
    keyword: str = ""  # what the gateway says the message was (Twilio's OptOutType)
    unreadable: bool = False  # a kind of message the assistant cannot read (audio, sticker...)


@dataclass(frozen=True)
class Turn:
    replies: list[Reply]
    language: str
    replayed: bool = False


MediaFetch = Callable[[Media], bytes]


# --- Identity


def address_normalize(raw: str) -> str:
    """A phone number as "+digits" (WhatsApp sends digits alone, Twilio "+digits"); "" if
    it is not one."""
    digits = re.sub(r"[^\d]", "", raw or "")
    return f"+{digits}" if 6 <= len(digits) <= 15 else ""


def _gateway_key() -> bytes:
    if settings.CHATBOT_GATEWAY_KEY:
        return settings.CHATBOT_GATEWAY_KEY.encode()
    return hmac.new(
        settings.SECRET_KEY.encode(), b"city311 chatbot gateway key", hashlib.sha256
    ).digest()


def address_key(address: str) -> str:
    """The keyed hash a number is known by (the same on every gateway)."""
    return hmac.new(_gateway_key(), address_normalize(address).encode(), hashlib.sha256).hexdigest()


def gateway_contact_get(*, channel: str, address: str) -> GatewayContact | None:
    return GatewayContact.objects.filter(channel=channel, address_key=address_key(address)).first()


# --- Buttons on a phone


def phone_buttons(buttons: list[dict[str, str]]) -> list[dict[str, str]]:
    """The buttons a phone shows (numbered on SMS; reply buttons or a list on WhatsApp)."""
    return [b for b in buttons if b.get("payload") not in PHONE_UNUSABLE_PAYLOADS]


def numbered_text(reply: Reply, *, language: str) -> str:
    """A reply with its buttons as numbered choices, for a phone that has no buttons."""
    buttons = phone_buttons(reply.buttons)
    if not buttons:
        return reply.text
    lines = [reply.text, ""]
    lines += [f"{number}. {button['title']}" for number, button in enumerate(buttons, start=1)]
    with translation.override(language):
        lines += ["", str(CHOOSE)]
    return "\n".join(lines)


def _choice(conversation: Conversation, text: str) -> str:
    """The payload of the button numbered ``text`` in the assistant's last message with
    buttons (since the resident last wrote), or ``text`` itself."""
    number = text.strip().rstrip(".")
    if not number.isdigit():
        return text
    last = (
        ChatMessage.objects.filter(conversation=conversation)
        .exclude(direction=Direction.OUT, buttons=[])
        .order_by("-at", "-id")
        .first()
    )
    if last is None or last.direction != Direction.OUT:
        return text
    buttons = phone_buttons(last.buttons)
    index = int(number) - 1
    return buttons[index]["payload"] if 0 <= index < len(buttons) else text


# --- Photos fetched from a gateway


def _host_entry(entry: str) -> tuple[str, str, int]:
    """An allowed-hosts entry as (scheme, host, port): "host", "*.domain", "host:port",
    "http://host:port"."""
    entry = entry.strip().lower()
    scheme = "https"
    if "://" in entry:
        scheme, _, entry = entry.partition("://")
    host, _, port = entry.partition(":")
    default = 443 if scheme == "https" else 80
    return scheme, host, int(port) if port.isdigit() else default


def url_allowed(url: str, *, allowed: list[str]) -> bool:
    """True if an entry of ``allowed`` names the URL's scheme, host and port ("*." matches
    subdomains)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password:
        return False
    for entry in allowed:
        scheme, name, entry_port = _host_entry(entry)
        if scheme != parts.scheme or port != entry_port:
            continue
        if name == host or (name.startswith("*.") and host.endswith(name[1:])):
            return True
    return False


MAX_REDIRECTS = 3


def media_get(
    url: str,
    *,
    allowed: list[str],
    auth: tuple[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """The bytes of a photo at ``url``, following redirects only to ``allowed`` hosts,
    and only up to ``PHOTO_MAX_BYTES`` (told by Content-Length or counted while reading).
    ``auth`` (basic) goes to the first host only, ``headers`` to every allowed one. Raises
    MediaRejected."""
    limit = settings.PHOTO_MAX_BYTES
    timeout = httpx.Timeout(settings.CHATBOT_GATEWAY_TIMEOUT_SECONDS, connect=3.0)
    first_host = urlsplit(url).netloc
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for _hop in range(MAX_REDIRECTS + 1):
            if not url_allowed(url, allowed=allowed):
                raise MediaRejected(f"host not allowed: {urlsplit(url).netloc}")
            same_host = urlsplit(url).netloc == first_host
            try:
                with client.stream(
                    "GET", url, auth=auth if same_host else None, headers=headers or {}
                ) as response:
                    if response.is_redirect:
                        location = response.headers.get("location", "")
                        url = str(response.url.join(location))
                        continue
                    if response.status_code != 200:
                        raise MediaRejected(f"HTTP {response.status_code}")
                    kind = response.headers.get("content-type", "").split(";")[0].strip()
                    if not kind.lower().startswith("image/"):
                        raise MediaRejected(f"not an image: {kind or 'no type'}")
                    length = response.headers.get("content-length", "")
                    if length.isdigit() and int(length) > limit:
                        raise MediaRejected("over the size limit")
                    data = bytearray()
                    for chunk in response.iter_bytes():
                        data += chunk
                        if len(data) > limit:
                            raise MediaRejected("over the size limit")
                    return bytes(data)
            except httpx.HTTPError as exc:
                raise MediaRejected(f"{type(exc).__name__}: {exc}") from exc
    raise MediaRejected("too many redirects")


# --- A message in


def _polite(message: Any, language: str, **values: Any) -> Reply:
    with translation.override(language):
        text = str(message)
    return Reply(text=text % values if values else text)


def _take(inbound: Inbound, now: datetime) -> tuple[GatewayContact, GatewayInbound, bool]:
    key = address_key(inbound.address)
    with transaction.atomic():
        contact, _ = GatewayContact.objects.get_or_create(channel=inbound.channel, address_key=key)
        taken, created = GatewayInbound.objects.get_or_create(
            channel=inbound.channel,
            message_id=inbound.message_id,
            defaults={"received_at": now, "contact": contact},
        )
    return contact, taken, created


def _replayed(taken: GatewayInbound) -> list[Reply]:
    """What the first delivery of a message was answered (the replies logged after it)."""
    first = taken.chat_message
    if first is None:
        return []
    later = ChatMessage.objects.filter(conversation_id=first.conversation_id).filter(
        at__gte=first.at
    )
    replies: list[Reply] = []
    for message in later.exclude(pk=first.pk).order_by("at", "id"):
        if message.direction == Direction.IN:
            break
        if message.text:
            replies.append(Reply(text=message.text, buttons=list(message.buttons)))
    return replies


def _conversation(contact: GatewayContact, now: datetime, *, text: str) -> Conversation:
    """The number's conversation, a new one after a quiet day: in the last one's language,
    or for a first conversation the one its first message is in (``language_guess``)."""
    conversation = contact.conversation
    quiet = contact.last_inbound_at is None or contact.last_inbound_at < now - CONVERSATION_QUIET
    if conversation is None or quiet:
        language = conversation.language if conversation is not None else language_guess(text)
        conversation = conversation_start(language=language, user=None, source=contact.channel)
    contact.conversation = conversation
    contact.last_inbound_at = now
    contact.save(update_fields=["conversation", "last_inbound_at"])
    return conversation


def _keyword(inbound: Inbound) -> str:
    word = (inbound.keyword or inbound.text).strip().upper().rstrip(".!")
    if word in STOP_WORDS:
        return "STOP"
    if word in START_WORDS:
        return "START"
    if word in HELP_WORDS:
        return "HELP"
    return ""


def _opt(contact: GatewayContact, *, out: bool, now: datetime) -> None:
    contact.opted_out_at = now if out else None
    contact.save(update_fields=["opted_out_at"])
    logger.info("gateway: %s opted %s", contact, "out" if out else "in")


def gateway_turn(*, inbound: Inbound, media_fetch: MediaFetch) -> Turn:
    """Takes one message from a phone (once per message id) and returns what to answer.
    Keywords first (STOP, START, HELP); an opted-out number gets nothing; then the
    message, its photo (the first image, fetched with ``media_fetch``) and its location go
    to the assistant like the widget's, and a request it files keeps the number."""
    now = timezone.now()
    contact, taken, created = _take(inbound, now)
    language = contact.conversation.language if contact.conversation else settings.LANGUAGE_CODE
    if not created:
        return Turn(replies=_replayed(taken), language=language, replayed=True)
    keyword = _keyword(inbound)
    if keyword == "STOP":
        _opt(contact, out=True, now=now)
        # Twilio confirms an SMS opt-out itself (and sends nothing more to the number).
        return Turn(
            replies=[] if inbound.channel == "sms" else [_polite(OPTED_OUT, language)],
            language=language,
        )
    if keyword == "HELP":
        return Turn(replies=[_polite(HELP, language)], language=language)
    if contact.opted_out_at is not None:
        if keyword == "START":
            _opt(contact, out=False, now=now)
            return Turn(replies=[_polite(OPTED_IN, language)], language=language)
        return Turn(replies=[], language=language)
    conversation = _conversation(contact, now, text=inbound.text)
    chosen = language_word(inbound.text)
    if chosen:
        conversation.language = chosen
        conversation.save(update_fields=["language"])
        return Turn(replies=[_polite(LANGUAGE_SET, chosen)], language=chosen)
    language = conversation.language
    if len(inbound.text) > MESSAGE_MAX_CHARS:
        return Turn(
            replies=[_polite(TOO_LONG, language, count=MESSAGE_MAX_CHARS)], language=language
        )
    notes: list[Reply] = []
    metadata: dict[str, Any] = {}
    images = [m for m in inbound.media if not m.content_type or m.content_type.startswith("image/")]
    if inbound.media:
        try:
            if not images:
                raise MediaRejected("not an image")
            data = media_fetch(images[0])
            metadata["photo"] = chat_photo_store(conversation=conversation, data=data).reference
        except (MediaRejected, ChatPhotoRejected) as exc:
            logger.info("gateway: %s photo not used (%s)", contact, exc)
            notes.append(_polite(PHOTO_NOT_USED, language, mb=photo_limit_mb()))
    if inbound.location is not None:
        metadata["location"] = inbound.location
    text = inbound.payload or _choice(conversation, inbound.text.strip())
    if not text:
        if "location" in metadata:
            text = _polite(MY_LOCATION, language).text
        elif "photo" in metadata:
            text = _polite(PHOTO_ONLY, language).text
        else:
            return Turn(replies=notes or [_polite(NOT_READABLE, language)], language=language)
    try:
        replies = chat_message_send(
            conversation=conversation, text=text, language="", metadata=metadata, user=None
        )
    except ChatUnavailable as exc:
        replies = [Reply(text=exc.message)]
    logged = (
        ChatMessage.objects.filter(conversation=conversation, direction=Direction.IN)
        .order_by("-at", "-id")
        .first()
    )
    taken.chat_message = logged
    taken.save(update_fields=["chat_message"])
    if logged is not None:
        _filed_record(contact=contact, since=logged, address=inbound.address)
    # Asked for a person in this turn (or earlier in it): the agent's answer and a callback
    # need the number, kept on the handoff until it is closed (chatbot/handoffs.py).
    handoff_phone_record(conversation=conversation, phone=address_normalize(inbound.address))
    return Turn(replies=notes + replies, language=language)


def _filed_record(*, contact: GatewayContact, since: ChatMessage, address: str) -> None:
    """The requests the assistant filed in this turn keep the number (their contact phone)
    and which gateway they came by (their status messages go back on it)."""
    filed = ChatMessage.objects.filter(
        conversation_id=since.conversation_id, direction=Direction.OUT, at__gte=since.at
    ).values_list("meta__filed", flat=True)
    public_ids = [public_id for public_id in filed if isinstance(public_id, str)]
    if not public_ids:
        return
    recent = ServiceRequest.objects.filter(
        public_id__in=public_ids,
        channel=Channel.CHAT,
        requested_at__gte=timezone.now() - FILED_RECENTLY,
    )
    for service_request in recent:
        stored = service_request_contact_phone_add(
            service_request_id=service_request.pk, phone=address_normalize(address)
        )
        if not stored and address_key(service_request.contact_phone) != contact.address_key:
            continue  # the request has another number: its messages go there as before
        GatewayRequest.objects.get_or_create(
            service_request=service_request,
            defaults={"contact": contact, "created_at": timezone.now()},
        )
