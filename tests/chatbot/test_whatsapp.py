"""WhatsApp through Meta's Cloud API: the verification handshake, signed webhooks in (the
signature over the raw body), replies out through the outbox to the Graph API (text, reply
buttons, lists), button and list replies read back as their payloads, photos by media id,
locations, a replayed webhook processed once, and status messages back on WhatsApp (a
template outside the 24-hour window)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from backend.outbox.models import OutboxMessage
from backend.outbox.services import outbox_dispatch
from backend.service_requests.messaging import status_notify
from backend.service_requests.models import ServiceRequestEvent
from backend.service_requests.services import (
    service_request_start,
)
from chatbot.models import ChatMessage, ChatPhoto, GatewayContact, GatewayInbound, GatewayRequest
from tests.chatbot.conftest import FakeRasa
from tests.chatbot.factories import acknowledged, filed_in_chat
from tests.chatbot.providers import (
    PHONE_NUMBER_ID,
    VERIFY_TOKEN,
    FakeProvider,
    Served,
    meta_signature,
    photo,
)

pytestmark = pytest.mark.django_db

PATH = "/api/v1/chat/whatsapp"
WA_ID = "16175550177"
_ids = iter(range(10**6))


def webhook(*messages: dict[str, Any]) -> bytes:
    """Meta's webhook body for these messages from the resident."""
    value = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "16175550000", "phone_number_id": PHONE_NUMBER_ID},
        "contacts": [{"profile": {"name": "Resident"}, "wa_id": WA_ID}],
        "messages": [
            {"from": WA_ID, "id": f"wamid.{next(_ids)}", "timestamp": "1700000000", **m}
            for m in messages
        ],
    }
    entry = {"id": "WABA", "changes": [{"value": value, "field": "messages"}]}
    return json.dumps({"object": "whatsapp_business_account", "entry": [entry]}).encode()


def post(body: bytes, *, signature: str | None = None, capture: Any = None) -> Any:
    headers: dict[str, str] = {}
    signature = meta_signature(body) if signature is None else signature
    if signature:
        headers["X-Hub-Signature-256"] = signature
    if capture is None:
        return Client().post(PATH, body, content_type="application/json", headers=headers)
    with capture(execute=True):  # the outbox hands the replies on at commit
        return Client().post(PATH, body, content_type="application/json", headers=headers)


def text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body}}


def sent_messages(fake: FakeProvider) -> list[dict[str, Any]]:
    found = fake.sent(f"/v21.0/{PHONE_NUMBER_ID}/messages")
    for r in found:
        assert fake.authorized(r.headers["authorization"])
        assert r.headers["content-type"].startswith("application/json")
    return [r.json() for r in found]


def test_the_verification_handshake() -> None:
    def handshake(mode: str, token: str) -> Any:
        return Client().get(
            PATH, {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": "1158201444"}
        )

    assert handshake("subscribe", "wrong").status_code == 403
    assert handshake("unsubscribe", VERIFY_TOKEN).status_code == 403


def test_the_verification_handshake_with_the_token(fake_meta: FakeProvider) -> None:
    answer = Client().get(
        PATH,
        {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1158201444"},
    )
    assert answer.status_code == 200 and answer.content == b"1158201444"
    wrong = Client().get(
        PATH, {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}
    )
    assert wrong.status_code == 403


def test_a_text_is_relayed_and_the_reply_goes_out_through_the_graph_api(
    fake_rasa: FakeRasa,
    fake_meta: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    fake_rasa.replies({"text": "What is the problem?"})
    answer = post(webhook(text("hello")), capture=django_capture_on_commit_callbacks)
    assert answer.status_code == 200 and answer.json() == {"received": 1}
    assert fake_rasa.received[0]["message"] == "hello"
    assert WA_ID not in json.dumps(fake_rasa.received)
    assert sent_messages(fake_meta) == [
        {
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": WA_ID,
            "type": "text",
            "text": {"body": "What is the problem?"},
        }
    ]


def test_buttons_become_reply_buttons_or_a_list_and_come_back_as_payloads(
    fake_rasa: FakeRasa,
    fake_meta: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    three = [
        {"title": "Pothole", "payload": '/inform{"service":"pothole"}'},
        {"title": "Streetlight out at night", "payload": '/inform{"service":"streetlight"}'},
        {"title": "Graffiti", "payload": "/graffiti" + "x" * 300},
    ]
    fake_rasa.replies({"text": "Which one?", "buttons": three})
    post(webhook(text("a problem")), capture=django_capture_on_commit_callbacks)
    (message,) = sent_messages(fake_meta)
    assert message["type"] == "interactive"
    interactive = message["interactive"]
    assert interactive["type"] == "button"
    assert interactive["body"] == {"text": "Which one?"}
    assert [b["reply"] for b in interactive["action"]["buttons"]] == [
        {"id": '/inform{"service":"pothole"}', "title": "Pothole"},
        {"id": '/inform{"service":"streetlight"}', "title": "Streetlight out at n"},
        {"id": "#3", "title": "Graffiti"},  # a payload too long for an id: its number
    ]
    fake_rasa.replies({"text": "Where?"})
    reply = {"type": "button_reply", "button_reply": {"id": '/inform{"service":"pothole"}'}}
    post(webhook({"type": "interactive", "interactive": reply}))
    assert fake_rasa.received[1]["message"] == '/inform{"service":"pothole"}'
    # The long one, by its number, against the buttons last shown.
    fake_rasa.replies({"text": "Which one?", "buttons": three})
    post(webhook(text("another")))
    reply = {"type": "button_reply", "button_reply": {"id": "#3", "title": "Graffiti"}}
    post(webhook({"type": "interactive", "interactive": reply}))
    assert fake_rasa.received[3]["message"] == "/graffiti" + "x" * 300
    # More than three: a list.
    fake_meta.received.clear()
    many = [{"title": f"Service {n}", "payload": f"/s{n}"} for n in range(5)]
    fake_rasa.replies({"text": "Which service?", "buttons": many})
    post(webhook(text("list please")), capture=django_capture_on_commit_callbacks)
    (message,) = sent_messages(fake_meta)
    listed = message["interactive"]
    assert listed["type"] == "list" and listed["action"]["button"] == "Choose"
    assert [r["id"] for r in listed["action"]["sections"][0]["rows"]] == [
        f"/s{n}" for n in range(5)
    ]
    fake_rasa.replies({"text": "OK"})
    reply = {"type": "list_reply", "list_reply": {"id": "/s4", "title": "Service 4"}}
    post(webhook({"type": "interactive", "interactive": reply}))
    assert fake_rasa.received[-1]["message"] == "/s4"


def test_a_photo_by_media_id_and_a_location_reach_the_assistant(
    fake_rasa: FakeRasa, fake_meta: FakeProvider, settings: Any
) -> None:
    fake_meta.routes["GET /v21.0/4455"] = Served(
        200,
        json.dumps(
            {"url": f"{fake_meta.url}/media/4455", "mime_type": "image/jpeg", "id": "4455"}
        ).encode(),
    )
    fake_meta.routes["GET /media/4455"] = Served(200, photo(), "image/jpeg")
    post(webhook({"type": "image", "image": {"id": "4455", "mime_type": "image/jpeg"}}))
    sent = fake_rasa.received[0]
    assert sent["message"] == "📷 Photo"
    assert ChatPhoto.objects.filter(reference=sent["metadata"]["photo"]).exists()
    # Both fetches carried the access token (the fake refuses them otherwise).
    assert [r.path for r in fake_meta.received] == ["/v21.0/4455", "/media/4455"]
    location = {"latitude": 42.3601, "longitude": -71.0589, "name": "City Hall"}
    post(webhook({"type": "location", "location": location}))
    assert fake_rasa.received[1]["metadata"]["location"] == {"lat": 42.3601, "long": -71.0589}
    assert fake_rasa.received[1]["message"] == "📍 My location"
    assert ChatMessage.objects.filter(meta__location_shared=True).count() == 1


def test_media_elsewhere_or_not_an_image_or_unreadable_gets_a_polite_answer(
    fake_rasa: FakeRasa,
    fake_meta: FakeProvider,
    fake_twilio: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # The Graph API names a host not allowed: never fetched.
    fake_meta.routes["GET /v21.0/77"] = Served(
        200, json.dumps({"url": f"{fake_twilio.url}/cdn/x.jpg", "mime_type": "image/jpeg"}).encode()
    )
    post(
        webhook({"type": "image", "image": {"id": "77"}}),
        capture=django_capture_on_commit_callbacks,
    )
    assert fake_twilio.received == []
    (message,) = sent_messages(fake_meta)
    assert message["text"]["body"].startswith("Sorry, we could not use that photo.")
    assert fake_rasa.received == []  # a photo alone, not used: nothing to relay
    fake_meta.received.clear()
    post(
        webhook({"type": "audio", "audio": {"id": "88"}}),
        capture=django_capture_on_commit_callbacks,
    )
    (message,) = sent_messages(fake_meta)
    assert "text, photos and locations" in message["text"]["body"]
    fake_meta.received.clear()
    post(webhook(text("x" * 10_000)), capture=django_capture_on_commit_callbacks)
    (message,) = sent_messages(fake_meta)
    assert "too long" in message["text"]["body"]
    assert fake_rasa.received == []


def test_unsigned_or_wrongly_signed_webhooks_are_refused_and_nothing_is_stored(
    fake_rasa: FakeRasa, fake_meta: FakeProvider
) -> None:
    body = webhook(text("hello"))
    refused = [
        post(body, signature=""),
        post(body, signature="sha256=" + "0" * 64),
        post(body, signature=meta_signature(body, secret="another-apps-secret")),
        post(body, signature=meta_signature(body + b" ")),  # not over these bytes
        post(body, signature=meta_signature(body).replace("sha256=", "sha1=")),
    ]
    assert [r.status_code for r in refused] == [403] * 5
    assert fake_rasa.received == []
    assert not GatewayContact.objects.exists() and not GatewayInbound.objects.exists()
    assert not ChatMessage.objects.exists() and not OutboxMessage.objects.exists()
    # Signed but not JSON: a 400 naming the body.
    assert post(b"not json").status_code == 400


def test_a_replayed_webhook_is_processed_once(
    fake_rasa: FakeRasa,
    fake_meta: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    body = webhook(text("pothole"))
    post(body, capture=django_capture_on_commit_callbacks)
    again = post(body, capture=django_capture_on_commit_callbacks)
    assert again.status_code == 200 and again.json() == {"received": 0}
    assert len(fake_rasa.received) == 1
    assert len(sent_messages(fake_meta)) == 1


def test_the_graph_api_down_the_reply_waits_in_the_outbox(
    fake_rasa: FakeRasa,
    fake_meta: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    fake_meta.down = True
    post(webhook(text("hello")), capture=django_capture_on_commit_callbacks)
    waiting = OutboxMessage.objects.get(target="chatbot.whatsapp.whatsapp_deliver")
    assert waiting.dispatched_at is None and waiting.attempts == 1
    fake_meta.down = False
    assert outbox_dispatch(ids=[waiting.pk]) == 1
    assert [m["text"]["body"] for m in sent_messages(fake_meta)] == ["Hi!", "Hi!"]
    assert fake_meta.received[0].json() == fake_meta.received[1].json()


def test_stop_then_nothing_more(
    fake_rasa: FakeRasa,
    fake_meta: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    post(webhook(text("STOP")), capture=django_capture_on_commit_callbacks)
    (message,) = sent_messages(fake_meta)
    assert "no more messages" in message["text"]["body"]
    fake_meta.received.clear()
    post(webhook(text("pothole")), capture=django_capture_on_commit_callbacks)
    assert fake_meta.received == [] and fake_rasa.received == []


def filed_on_whatsapp(fake_rasa: FakeRasa, capture: Any) -> Any:
    return filed_in_chat(
        fake_rasa, "Done: {id}.", lambda: post(webhook(text("file it")), capture=capture)
    )


def test_status_messages_go_back_on_whatsapp_as_text_or_as_the_template(
    fake_rasa: FakeRasa,
    fake_meta: FakeProvider,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.WHATSAPP_STATUS_TEMPLATE = "city311_status_update"
    filed = filed_on_whatsapp(fake_rasa, django_capture_on_commit_callbacks)
    assert filed.contact_phone == "+" + WA_ID
    assert GatewayRequest.objects.filter(service_request=filed).exists()
    fake_meta.received.clear()
    # Within 24 hours of the resident's last message: free text.
    assert status_notify(event_id=acknowledged(filed).pk).phones_sent == 1
    (message,) = sent_messages(fake_meta)
    assert message["to"] == WA_ID and message["type"] == "text"
    assert filed.public_id in message["text"]["body"]
    # Later: the approved template, with the request's number and the status.
    GatewayContact.objects.update(last_inbound_at=timezone.now() - timedelta(hours=25))
    fake_meta.received.clear()
    service_request_start(service_request=filed)
    event = ServiceRequestEvent.objects.get(service_request=filed, to_status="in_progress")
    assert status_notify(event_id=event.pk).phones_sent == 1
    (message,) = sent_messages(fake_meta)
    template = message["template"]
    assert message["type"] == "template" and template["name"] == "city311_status_update"
    assert template["language"] == {"code": "en"}
    parameters = [p["text"] for p in template["components"][0]["parameters"]]
    assert parameters[0] == filed.public_id and "\n" not in parameters[1]
