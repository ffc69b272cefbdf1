"""SMS through Twilio: signed webhooks in, TwiML out, numbered choices, MMS photos from the
allowed hosts only, STOP/START/HELP, a replayed webhook processed once, and the status
messages of a request filed by SMS going back by SMS (Twilio's REST API, faked)."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from backend.service_requests import hooks
from backend.service_requests.messaging import status_notify
from backend.service_requests.models import ResidentNotification
from chatbot.gateway import GatewayUnavailable, address_key
from chatbot.models import (
    ChatMessage,
    ChatPhoto,
    Conversation,
    GatewayContact,
    GatewayInbound,
    GatewayRequest,
)
from tests.chatbot.conftest import FakeRasa
from tests.chatbot.factories import acknowledged, filed_in_chat
from tests.chatbot.providers import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    WEBHOOK_BASE,
    FakeProvider,
    Served,
    photo,
    twilio_signature,
)
from tests.factories import submit

pytestmark = pytest.mark.django_db

PATH = "/api/v1/chat/twilio"
RESIDENT = "+16175550123"
BUTTONS = [
    {"title": "Pothole", "payload": '/inform{"service":"pothole"}'},
    {"title": "Streetlight", "payload": '/inform{"service":"streetlight"}'},
    {"title": "My location", "payload": "/share_location"},
    {"title": "Graffiti", "payload": '/inform{"service":"graffiti"}'},
]
_sids = iter(range(10**6))


def sms(
    body: str = "",
    *,
    sender: str = RESIDENT,
    sid: str = "",
    token: str = AUTH_TOKEN,
    url: str = WEBHOOK_BASE + PATH,
    signature: str | None = None,
    **extra: str,
) -> Any:
    """Posts Twilio's webhook for an SMS, signed as Twilio signs it."""
    params = {
        "MessageSid": sid or f"SM{next(_sids):032d}",
        "AccountSid": ACCOUNT_SID,
        "From": sender,
        "To": FROM_NUMBER,
        "Body": body,
        "NumMedia": "0",
        **extra,
    }
    headers: dict[str, str] = {}
    if signature is None:
        signature = twilio_signature(url, params, token)
    if signature:
        headers["X-Twilio-Signature"] = signature
    return Client().post(
        PATH, urlencode(params), content_type="application/x-www-form-urlencoded", headers=headers
    )


def message_of(response: Any) -> str:
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/xml")
    text = response.content.decode()
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?><Response')
    if "<Message>" not in text:
        return ""
    return text.split("<Message>")[1].split("</Message>")[0]


def test_a_message_is_relayed_and_answered_in_twiml_with_numbered_choices(
    fake_rasa: FakeRasa, fake_twilio: FakeProvider
) -> None:
    fake_rasa.replies({"text": "Which problem is it?", "buttons": BUTTONS})
    answer = message_of(sms("there's a problem on my street"))
    # The widget's location button is left out: a phone sends a location or types it.
    assert answer == (
        "Which problem is it?\n\n1. Pothole\n2. Streetlight\n3. Graffiti\n\n"
        "Reply with the number of your choice."
    )
    sent = fake_rasa.received[0]
    assert sent["message"] == "there's a problem on my street"
    conversation = Conversation.objects.get(source="sms")
    assert sent["sender"] == conversation.public_id
    assert "6175550123" not in sent["sender"] and "6175550123" not in str(sent["metadata"])
    # "3" is the third button shown: graffiti.
    fake_rasa.replies({"text": "Where is it?"})
    assert message_of(sms("3")) == "Where is it?"
    assert fake_rasa.received[1]["message"] == '/inform{"service":"graffiti"}'
    assert fake_rasa.received[1]["sender"] == conversation.public_id
    # A number with no choice pending is just text.
    message_of(sms("12"))
    assert fake_rasa.received[2]["message"] == "12"


@pytest.mark.parametrize(
    ("first", "language"),
    [
        ("có ổ gà lớn trên đường Lê Lợi", "vi"),
        ("co o ga lon tren duong Le Loi", "vi"),  # typed without diacritics
        ("hay un bache enorme en la calle", "es"),
        ("theres a huge hole on elm st", "en"),
    ],
)
def test_a_first_message_sets_the_conversations_language(
    fake_rasa: FakeRasa, fake_twilio: FakeProvider, first: str, language: str
) -> None:
    message_of(sms(first))
    assert Conversation.objects.get(source="sms").language == language
    assert fake_rasa.received[0]["metadata"]["language"] == language
    # Later messages keep it, whatever they look like.
    message_of(sms("3"))
    assert fake_rasa.received[1]["metadata"]["language"] == language


def test_a_language_word_switches_the_answers_language(
    fake_rasa: FakeRasa, fake_twilio: FakeProvider
) -> None:
    message_of(sms("theres a huge hole on elm st"))
    answer = message_of(sms("Tiếng Việt"))
    assert "ESPAÑOL" in answer and "From now on" not in answer  # said in Vietnamese
    assert len(fake_rasa.received) == 1  # the word is not relayed to the assistant
    message_of(sms("the hole is still there"))
    assert fake_rasa.received[1]["metadata"]["language"] == "vi"
    message_of(sms("english"))
    assert Conversation.objects.get(source="sms").language == "en"


def test_unsigned_or_wrongly_signed_webhooks_are_refused_and_nothing_is_stored(
    fake_rasa: FakeRasa, fake_twilio: FakeProvider
) -> None:
    refused = [
        sms("hello", signature=""),
        sms("hello", signature="bm90IGEgc2lnbmF0dXJl"),
        sms("hello", token="another-accounts-token"),
        sms("hello", url="https://elsewhere.example.org" + PATH),  # signed for another URL
    ]
    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    assert refused[0].json()["errors"] == {"X-Twilio-Signature": ["The signature does not match."]}
    assert fake_rasa.received == []
    assert not GatewayContact.objects.exists()
    assert not GatewayInbound.objects.exists()
    assert not ChatMessage.objects.exists()


def test_without_a_public_base_url_the_signature_covers_the_url_django_sees(
    fake_rasa: FakeRasa, fake_twilio: FakeProvider, settings: Any
) -> None:
    settings.TWILIO_WEBHOOK_BASE_URL = ""
    assert sms("hi", url="http://testserver" + PATH).status_code == 200
    assert sms("hi", url=WEBHOOK_BASE + PATH).status_code == 403
    settings.TWILIO_AUTH_TOKEN = ""  # not configured: nothing is accepted
    assert sms("hi", url="http://testserver" + PATH, token="").status_code == 403


def test_a_replayed_webhook_is_processed_once_and_answered_the_same(
    fake_rasa: FakeRasa, fake_twilio: FakeProvider
) -> None:
    fake_rasa.replies({"text": "Thanks! Which street?"})
    first = message_of(sms("pothole", sid="SM" + "9" * 32))
    again = message_of(sms("pothole", sid="SM" + "9" * 32))
    assert first == again == "Thanks! Which street?"
    assert len(fake_rasa.received) == 1
    assert ChatMessage.objects.filter(direction="in").count() == 1


def test_stop_start_and_help(fake_rasa: FakeRasa, fake_twilio: FakeProvider) -> None:
    message_of(sms("hello"))
    # Twilio confirms an opt-out itself: the answer is empty, and so is every later one.
    assert message_of(sms("Stop")) == ""
    contact = GatewayContact.objects.get()
    assert contact.opted_out_at is not None
    assert message_of(sms("there is a pothole")) == ""
    assert "STOP" in message_of(sms("HELP"))  # help is always answered
    assert len(fake_rasa.received) == 1
    assert "again" in message_of(sms("START"))
    contact.refresh_from_db()
    assert contact.opted_out_at is None
    fake_rasa.replies({"text": "Welcome back."})
    assert message_of(sms("pothole")) == "Welcome back."
    # Twilio's OptOutType says so even for a word of another language.
    assert message_of(sms("ALTO", OptOutType="STOP")) == ""
    contact.refresh_from_db()
    assert contact.opted_out_at is not None


def test_a_very_long_message_gets_a_polite_answer_and_is_not_relayed(
    fake_rasa: FakeRasa, fake_twilio: FakeProvider
) -> None:
    answer = message_of(sms("x" * 10_000))
    assert "too long" in answer and "2000" in answer
    assert fake_rasa.received == []


def mms(fake: FakeProvider, *, content_type: str = "image/jpeg", url: str = "") -> Any:
    media = url or f"{fake.url}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1"
    return sms("pothole here", NumMedia="1", MediaUrl0=media, MediaContentType0=content_type)


def test_an_mms_photo_is_fetched_with_the_accounts_credentials_and_kept_for_the_report(
    fake_rasa: FakeRasa, fake_twilio: FakeProvider
) -> None:
    media_path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1"
    fake_twilio.routes[f"GET {media_path}"] = Served(302, location="/cdn/ME1.jpg")
    fake_twilio.routes["GET /cdn/ME1.jpg"] = Served(200, photo(), "image/jpeg")
    message_of(mms(fake_twilio))
    reference = fake_rasa.received[0]["metadata"]["photo"]
    assert ChatPhoto.objects.filter(reference=reference).exists()
    first = fake_twilio.received[0]
    assert first.path == media_path and fake_twilio.authorized(first.headers["authorization"])


def test_photos_from_elsewhere_too_large_or_not_images_get_a_polite_answer(
    fake_rasa: FakeRasa, fake_twilio: FakeProvider, fake_meta: FakeProvider, settings: Any
) -> None:
    fake_rasa.replies({"text": "Where is it?"})
    media_path = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1"
    # A redirect to a host not allowed: never followed.
    fake_twilio.routes[f"GET {media_path}"] = Served(302, location=f"{fake_meta.url}/cdn/x.jpg")
    answer = message_of(mms(fake_twilio))
    assert answer.startswith("Sorry, we could not use that photo.")
    assert answer.endswith("Where is it?")  # the words still reach the assistant
    assert fake_meta.received == []
    # A media URL on a host not allowed: not fetched at all.
    fake_twilio.received.clear()
    message_of(mms(fake_twilio, url=f"{fake_meta.url}/2010-04-01/x"))
    assert fake_meta.received == [] and fake_twilio.received == []
    # Not an image, by Twilio's word or by the file's.
    assert "could not use" in message_of(mms(fake_twilio, content_type="video/mp4"))
    assert fake_twilio.received == []
    fake_twilio.routes[f"GET {media_path}"] = Served(200, b"<html></html>", "text/html")
    assert "could not use" in message_of(mms(fake_twilio))
    fake_twilio.routes[f"GET {media_path}"] = Served(200, b"not a jpeg at all", "image/jpeg")
    assert "could not use" in message_of(mms(fake_twilio))
    # Over the size limit.
    settings.PHOTO_MAX_BYTES = 1000
    fake_twilio.routes[f"GET {media_path}"] = Served(200, photo(), "image/jpeg")
    assert "under 0.001 MB" in message_of(mms(fake_twilio))
    assert not ChatPhoto.objects.exists()
    assert all("photo" not in r["metadata"] for r in fake_rasa.received)


def file_by_sms(fake_rasa: FakeRasa) -> Any:
    return filed_in_chat(
        fake_rasa, "Done! Your request number is {id}.", lambda: message_of(sms("yes, file it"))
    )


def test_a_request_filed_by_sms_keeps_the_number_once_and_hears_back_by_sms(
    fake_rasa: FakeRasa, fake_twilio: FakeProvider, caplog: Any
) -> None:
    caplog.set_level(logging.DEBUG)
    filed = file_by_sms(fake_rasa)
    assert filed.contact_phone == RESIDENT
    link = GatewayRequest.objects.get(service_request=filed)
    assert link.contact.address_key == address_key(RESIDENT)
    # The number in clear is nowhere else: not in the log, the conversation or the logs.
    stored = [
        *ChatMessage.objects.values_list("text", "meta"),
        *Conversation.objects.values_list("public_id", "source"),
        *GatewayContact.objects.values_list("address_key", "channel"),
        *GatewayInbound.objects.values_list("message_id", "channel"),
    ]
    assert "6175550123" not in str(stored) + caplog.text
    # Nor in a public answer about the request.
    public = Client().get(f"/open311/v2/requests/{filed.public_id}.json")
    assert public.status_code == 200 and "6175550123" not in public.content.decode()

    event = acknowledged(filed)
    assert status_notify(event_id=event.pk).phones_sent == 1
    (sent,) = fake_twilio.sent(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
    assert fake_twilio.authorized(sent.headers["authorization"])
    form = sent.form()
    assert form["To"] == RESIDENT and form["From"] == FROM_NUMBER
    assert filed.public_id in form["Body"] and "On our list." in form["Body"]
    # A retried task sends nothing again (the sent marker).
    assert status_notify(event_id=event.pk).phones_sent == 0
    assert len(fake_twilio.sent("Messages.json")) == 1
    assert (
        ResidentNotification.objects.filter(
            service_request=filed, medium="push", recipient__startswith="sms:"
        )
        .exclude(sent_at=None)
        .count()
        == 1
    )


def test_twilio_down_the_status_message_waits_and_goes_out_later(
    fake_rasa: FakeRasa, fake_twilio: FakeProvider
) -> None:
    filed = file_by_sms(fake_rasa)
    event = acknowledged(filed)
    fake_twilio.down = True
    with pytest.raises(GatewayUnavailable):  # the task retries (RETRY_ON: OSError)
        status_notify(event_id=event.pk)
    assert not ResidentNotification.objects.filter(
        recipient__startswith="sms:", sent_at__isnull=False
    ).exists()
    fake_twilio.down = False
    assert status_notify(event_id=event.pk).phones_sent == 1
    assert len([r for r in fake_twilio.sent("Messages.json")]) == 2  # one refused, one taken


def test_an_opted_out_number_gets_no_status_message(
    fake_rasa: FakeRasa, fake_twilio: FakeProvider
) -> None:
    filed = file_by_sms(fake_rasa)
    message_of(sms("STOP"))
    event = acknowledged(filed)
    assert status_notify(event_id=event.pk).phones_sent == 0
    assert fake_twilio.sent("Messages.json") == []


def test_a_number_twilio_says_opted_out_is_marked_so(
    fake_rasa: FakeRasa, fake_twilio: FakeProvider
) -> None:
    filed = file_by_sms(fake_rasa)
    fake_twilio.routes[f"POST /2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"] = Served(
        400, b'{"code": 21610, "message": "Attempt to send to unsubscribed recipient"}'
    )
    status_notify(event_id=acknowledged(filed).pk)
    assert GatewayContact.objects.get().opted_out_at is not None


def test_another_number_or_a_request_filed_elsewhere_hears_nothing_by_sms(
    fake_rasa: FakeRasa, fake_twilio: FakeProvider
) -> None:
    elsewhere = submit("pothole", channel="chat")  # filed on the widget
    status_notify(event_id=acknowledged(elsewhere).pk)
    assert fake_twilio.sent("Messages.json") == []
    # Filed from another number: the request's phone is not that number's.
    filed = submit("pothole", channel="chat", contact_phone="+16175559999")
    fake_rasa.replies({"custom": {"city311": {"filed": filed.public_id}}})
    message_of(sms("file it"))
    filed.refresh_from_db()
    assert filed.contact_phone == "+16175559999"
    assert not GatewayRequest.objects.filter(service_request=filed).exists()
    status_notify(event_id=acknowledged(filed).pk)
    assert fake_twilio.sent("Messages.json") == []


def test_retention_forgets_which_number_filed_a_request(
    fake_rasa: FakeRasa, fake_twilio: FakeProvider
) -> None:
    filed = file_by_sms(fake_rasa)
    counts = hooks.contact_erase(
        service_request_ids=[filed.pk], public_ids=[filed.public_id], contacts=[RESIDENT]
    )
    assert counts["gateway_requests"] == 1
    assert not GatewayRequest.objects.exists()
