"""The messaging gateways' webhooks: ``POST /api/v1/chat/twilio`` (SMS, answered with TwiML)
and ``GET``/``POST /api/v1/chat/whatsapp`` (Meta's handshake; messages, answered through the
outbox). A webhook whose signature does not check out is refused (403) before anything is
read or stored. Thin: the work is in ``chatbot.gateway``, ``chatbot.sms`` and
``chatbot.whatsapp``. Not in the OpenAPI document: the providers define these shapes."""

from __future__ import annotations

import json

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.errors import City311Error, ErrorCode
from backend.ratelimit import gateway_throttle
from chatbot import sms, whatsapp
from chatbot.gateway import Inbound, address_key, gateway_turn


class WebhookUnsigned(City311Error):
    """A webhook without a valid signature: 403, nothing read further."""

    code = ErrorCode.FORBIDDEN

    def __init__(self, header: str) -> None:
        super().__init__({header: [_("The signature does not match.")]})


def _throttle(inbound: Inbound) -> None:
    """Per number (the gateways all call from their own few addresses)."""
    gateway_throttle(sender_key=address_key(inbound.address))


class GatewayWebhookView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]


class TwilioWebhookView(GatewayWebhookView):
    parser_classes = [FormParser]

    @extend_schema(exclude=True)
    def post(self, request: Request) -> HttpResponse:
        params = request._request.POST
        signature = request.headers.get("X-Twilio-Signature", "")
        if not sms.signature_valid(
            url=sms.webhook_url(request._request), params=params, signature=signature
        ):
            raise WebhookUnsigned("X-Twilio-Signature")
        inbound = sms.inbound_read(params)
        if inbound is None:
            return HttpResponse(sms.twiml([], language="en"), content_type="text/xml")
        _throttle(inbound)
        turn = gateway_turn(inbound=inbound, media_fetch=sms.media_fetch)
        return HttpResponse(
            sms.twiml(turn.replies, language=turn.language), content_type="text/xml"
        )


class WhatsAppWebhookView(GatewayWebhookView):
    parser_classes = [JSONParser]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> HttpResponse:
        challenge = whatsapp.verification_answer(
            mode=request.query_params.get("hub.mode", ""),
            token=request.query_params.get("hub.verify_token", ""),
            challenge=request.query_params.get("hub.challenge", ""),
        )
        if challenge is None:
            raise WebhookUnsigned("hub.verify_token")
        return HttpResponse(challenge, content_type="text/plain")

    @extend_schema(exclude=True)
    def post(self, request: Request) -> Response:
        body = request._request.body  # the raw bytes: the signature covers them
        if not whatsapp.signature_valid(
            body=body, header=request.headers.get("X-Hub-Signature-256", "")
        ):
            raise WebhookUnsigned("X-Hub-Signature-256")
        try:
            payload = json.loads(body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise City311Error({"body": [_("The body is not JSON.")]}) from exc
        taken = 0
        for inbound in whatsapp.inbound_read(payload):
            _throttle(inbound)
            turn = gateway_turn(inbound=inbound, media_fetch=whatsapp.media_fetch)
            if not turn.replayed:
                whatsapp.replies_enqueue(
                    to=inbound.address, replies=turn.replies, language=turn.language
                )
                taken += 1
        return Response({"received": taken})
