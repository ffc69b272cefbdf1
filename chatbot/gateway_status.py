"""Status messages on the channel a request was filed on: a request the assistant filed by SMS
hears back by SMS, one filed on WhatsApp on WhatsApp (as the approved template outside the
24-hour window since the resident last wrote). Registered with the request domain's
``status_pushes`` hook (``ChatbotConfig.ready()``), so each goes out through the status
message task with its own sent marker (medium ``push``, recipient ``sms:`` or ``whatsapp:``
and the number's keyed hash), and a gateway that is down makes the task retry. A number that
opted out gets nothing; the number is the request's ``contact_phone``."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial

from django.utils import timezone

from backend.service_requests.hooks import Delivery
from backend.service_requests.messaging import status_message_build
from backend.service_requests.models import ServiceRequestEvent
from backend.service_requests.notifications import status_message_kind
from chatbot.gateway import address_key
from chatbot.models import GatewayChannel, GatewayContact, GatewayRequest
from chatbot.sms import sms_send
from chatbot.whatsapp import template_message, whatsapp_send

logger = logging.getLogger(__name__)

# WhatsApp's customer service window: free-form messages only this long after the
# resident's last message; a template after.
WHATSAPP_WINDOW = timedelta(hours=24)


def _contact(contact_id: int) -> GatewayContact | None:
    """The contact as it is now, unless it opted out meanwhile."""
    return GatewayContact.objects.filter(pk=contact_id, opted_out_at__isnull=True).first()


def _sms_status(*, contact_id: int, to: str, body: str) -> None:
    contact = _contact(contact_id)
    if contact is None:
        return
    if not sms_send(to=to, body=body):  # Twilio says the number opted out
        contact.opted_out_at = timezone.now()
        contact.save(update_fields=["opted_out_at"])


def _whatsapp_status(
    *, contact_id: int, to: str, body: str, public_id: str, summary: str, language: str
) -> None:
    contact = _contact(contact_id)
    if contact is None:
        return
    since = timezone.now() - WHATSAPP_WINDOW
    if contact.last_inbound_at is not None and contact.last_inbound_at >= since:
        whatsapp_send(to=to, message={"type": "text", "text": {"body": body[:4096]}})
    else:
        whatsapp_send(
            to=to, message=template_message(language=language, parameters=[public_id, summary])
        )


def gateway_status_deliveries(*, event: ServiceRequestEvent, subject: str) -> list[Delivery]:
    """The status message of ``event`` on the gateway its request was filed by, if any."""
    service_request = event.service_request
    filed = (
        GatewayRequest.objects.select_related("contact")
        .filter(service_request_id=service_request.pk)
        .first()
    )
    if filed is None or filed.contact.opted_out_at is not None:
        return []
    contact = filed.contact
    phone = service_request.contact_phone
    if not phone or address_key(phone) != contact.address_key:
        return []  # erased by the retention run, or not the number that filed it
    kind = status_message_kind(from_status=event.from_status, to_status=event.to_status)
    if kind is None:
        return []
    message = status_message_build(event=event, kind=kind)
    recipient = f"{contact.channel}:{contact.address_key[:16]}"
    if contact.channel == GatewayChannel.SMS:
        send = partial(_sms_status, contact_id=contact.pk, to=phone, body=message.body)
    else:
        summary = " ".join(message.body.split("\n\n")[0].split())
        send = partial(
            _whatsapp_status,
            contact_id=contact.pk,
            to=phone,
            body=message.body,
            public_id=service_request.public_id,
            summary=summary,
            language=service_request.language or "en",
        )
    return [Delivery(recipient=recipient, send=send)]
