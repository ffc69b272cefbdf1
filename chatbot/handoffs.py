"""A person when needed: the call centre's hours, a conversation handed to an agent (the
agent inbox in the staff console, ``chatbot.inbox``), an agent's answer going back on the
resident's channel, and a callback request outside the hours.

The hours are those of the department named by ``CHATBOT_AGENT_DEPARTMENT``: its
``workorders.OpeningHours`` and holidays, the same calendar its SLAs count in
(``workorders.selectors.business_calendar_get``). Unset or unknown: Monday to Friday,
08:00-17:00 in ``TIME_ZONE`` (``workorders.sla.calendar_default``). The assistant reads them
from ``GET /api/v1/chat/hours`` (it speaks to city311 over HTTP only).

While a live handoff is open, the assistant stays quiet: the resident's messages are logged
for the agent and not relayed (``chatbot.services.chat_message_send``), until the agent
closes it. An answer goes out through the outbox: SMS by Twilio's REST API, WhatsApp by the
Graph API, the web widget by its websocket (the conversation's channel group)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.catalog.models import Department
from backend.channel_push import group_send
from backend.errors import City311Error
from backend.outbox.services import outbox_call
from chatbot.models import (
    ChatMessage,
    Conversation,
    Direction,
    GatewayChannel,
    GatewayContact,
    Handoff,
    HandoffKind,
    HandoffState,
)
from workorders.selectors import business_calendar_get
from workorders.sla import MIDNIGHT, BusinessCalendar, calendar_default

logger = logging.getLogger(__name__)

PERMISSION = "chatbot.answer_conversations"
ANSWER_MAX_CHARS = 1600
# How far ahead to look for the next opening (a long closure still finds one).
LOOKAHEAD_DAYS = 60


# --- The call centre's hours


def agent_calendar() -> BusinessCalendar:
    code = settings.CHATBOT_AGENT_DEPARTMENT
    department = Department.objects.filter(code=code).first() if code else None
    if department is None:
        return calendar_default(settings.TIME_ZONE)
    return business_calendar_get(department=department)


def _intervals(calendar: BusinessCalendar, day: date) -> list[tuple[datetime, datetime]]:
    if day in calendar.holidays:
        return []
    zone = ZoneInfo(calendar.time_zone)
    found = []
    for opens, closes in sorted(calendar.hours.get(day.weekday(), ())):
        end_day = day + timedelta(days=1) if closes == MIDNIGHT else day
        found.append(
            (
                datetime.combine(day, opens, tzinfo=zone),
                datetime.combine(end_day, closes, tzinfo=zone),
            )
        )
    return found


@dataclass(frozen=True)
class Hours:
    time_zone: str
    open_now: bool
    closes_at: datetime | None  # while open
    next_open: datetime | None  # while closed (None: no opening in LOOKAHEAD_DAYS)
    weekly: dict[int, list[tuple[time, time]]]

    def data(self) -> dict[str, Any]:
        def clock(value: time) -> str:
            return "24:00" if value == MIDNIGHT else value.strftime("%H:%M")

        return {
            "time_zone": self.time_zone,
            "open_now": self.open_now,
            "closes_at": self.closes_at.isoformat() if self.closes_at else None,
            "next_open": self.next_open.isoformat() if self.next_open else None,
            "hours": [
                {"weekday": weekday, "opens": clock(opens), "closes": clock(closes)}
                for weekday in range(7)
                for opens, closes in self.weekly.get(weekday, [])
            ],
        }


def agent_hours(*, now: datetime | None = None) -> Hours:
    """Whether the call centre is open at ``now``, until when, or when it opens next."""
    calendar = agent_calendar()
    zone = ZoneInfo(calendar.time_zone)
    local = (now or timezone.now()).astimezone(zone)
    weekly = {weekday: sorted(calendar.hours.get(weekday, ())) for weekday in range(7)}
    day = local.date() - timedelta(days=1)  # an interval closing at midnight started the day before
    for _day in range(LOOKAHEAD_DAYS + 1):
        for opens, closes in _intervals(calendar, day):
            if opens <= local < closes:
                return Hours(calendar.time_zone, True, closes, None, weekly)
            if opens > local:
                return Hours(calendar.time_zone, False, None, opens, weekly)
        day += timedelta(days=1)
    return Hours(calendar.time_zone, False, None, None, weekly)


# --- Handing a conversation to a person


def handoff_active(*, conversation: Conversation) -> Handoff | None:
    """The live handoff a person is handling: the assistant stays quiet meanwhile."""
    return (
        Handoff.objects.filter(conversation=conversation, kind=HandoffKind.LIVE)
        .exclude(state=HandoffState.CLOSED)
        .first()
    )


def handoff_request(*, conversation: Conversation, now: datetime | None = None) -> Handoff:
    """The resident asked for a person: a live handoff during the hours, else a callback
    request due when the call centre opens again. Asking again reuses the open one."""
    now = now or timezone.now()
    hours = agent_hours(now=now)
    with transaction.atomic():
        # One open handoff per conversation: the conversation's row is the lock.
        Conversation.objects.select_for_update().filter(pk=conversation.pk).first()
        existing = (
            Handoff.objects.filter(conversation=conversation)
            .exclude(state=HandoffState.CLOSED)
            .first()
        )
        if existing is not None:
            return existing
        handoff = Handoff.objects.create(
            conversation=conversation,
            kind=HandoffKind.LIVE if hours.open_now else HandoffKind.CALLBACK,
            requested_at=now,
            callback_after=None if hours.open_now else hours.next_open,
            channel=conversation.source,
        )
    logger.info("chatbot: handoff %s (%s) requested", handoff.pk, handoff.kind)
    return handoff


def handoff_phone_record(*, conversation: Conversation, phone: str) -> int:
    """A gateway's turn asked for a person: its open handoffs keep the number, to answer
    on the channel (and to call back)."""
    return (
        Handoff.objects.filter(conversation=conversation, phone="")
        .exclude(state=HandoffState.CLOSED)
        .update(phone=phone)
    )


class HandoffError(City311Error):
    """An answer that cannot be sent (empty, too long, or the handoff is closed)."""


def _gateway_contact(handoff: Handoff) -> GatewayContact | None:
    return GatewayContact.objects.filter(
        channel=handoff.channel, conversation_id=handoff.conversation_id
    ).first()


def handoff_answer(
    *, handoff: Handoff, agent: AbstractBaseUser | AnonymousUser, text: str
) -> ChatMessage:
    """An agent's answer: logged in the conversation and sent on the resident's channel
    (through the outbox, so a gateway that is down gets it later)."""
    text = text.strip()
    if not text:
        raise HandoffError({"text": [_("Write an answer.")]}, field="text")
    if len(text) > ANSWER_MAX_CHARS:
        raise HandoffError(
            {"text": [_("At most %(count)s characters.") % {"count": ANSWER_MAX_CHARS}]},
            field="text",
        )
    with transaction.atomic():
        handoff = (
            Handoff.objects.select_for_update().select_related("conversation").get(pk=handoff.pk)
        )
        if handoff.state == HandoffState.CLOSED:
            raise HandoffError({"handoff": [_("This conversation was closed.")]}, field="handoff")
        conversation = handoff.conversation
        message = ChatMessage.objects.create(
            conversation=conversation,
            at=timezone.now(),
            direction=Direction.OUT,
            text=text,
            language=conversation.language,
            meta={"agent": True, "handoff": handoff.pk},
        )
        handoff.state = HandoffState.ANSWERED
        handoff.agent_id = agent.pk
        handoff.save(update_fields=["state", "agent"])
        _deliver(handoff, text)
    return message


def _deliver(handoff: Handoff, text: str) -> None:
    if handoff.channel in (GatewayChannel.SMS, GatewayChannel.WHATSAPP):
        contact = _gateway_contact(handoff)
        if not handoff.phone or contact is None or contact.opted_out_at is not None:
            logger.info("chatbot: handoff %s answer logged, no number to send it to", handoff.pk)
            return
        if handoff.channel == GatewayChannel.SMS:
            outbox_call("chatbot.handoffs.sms_deliver", to=handoff.phone, body=text)
        else:
            outbox_call(
                "chatbot.whatsapp.whatsapp_deliver",
                to=handoff.phone,
                message={"type": "text", "text": {"body": text[:4096]}},
            )
        return
    outbox_call("chatbot.handoffs.web_deliver", public_id=handoff.conversation.public_id, text=text)


def chat_group(public_id: str) -> str:
    """The channel group of a conversation's open widgets (``chatbot.consumers``)."""
    return f"chat_{public_id}"


def web_deliver(*, public_id: str, text: str) -> None:
    """The outbox's call for an agent's answer in the web widget: to its open socket."""
    group_send(chat_group(public_id), {"type": "chat.agent", "text": text})


def sms_deliver(*, to: str, body: str) -> None:
    """The outbox's call for an agent's answer by SMS (raises while Twilio is down)."""
    from chatbot.sms import sms_send

    sms_send(to=to, body=body)


def handoff_close(*, handoff: Handoff, agent: AbstractBaseUser | AnonymousUser) -> Handoff:
    """The agent is done: the assistant answers again, and the number is forgotten."""
    with transaction.atomic():
        handoff = Handoff.objects.select_for_update().get(pk=handoff.pk)
        if handoff.state == HandoffState.CLOSED:
            return handoff
        handoff.state = HandoffState.CLOSED
        handoff.closed_at = timezone.now()
        handoff.phone = ""
        if handoff.agent_id is None:
            handoff.agent_id = agent.pk
        handoff.save(update_fields=["state", "closed_at", "phone", "agent"])
    return handoff


def handoff_numbers_erase(*, now: datetime | None = None) -> int:
    """Numbers kept longer than ``CHATBOT_HANDOFF_KEEP_DAYS``, closed or not, are erased
    (the hourly sweep)."""
    since = (now or timezone.now()) - timedelta(days=settings.CHATBOT_HANDOFF_KEEP_DAYS)
    return Handoff.objects.filter(requested_at__lt=since).exclude(phone="").update(phone="")
