"""Access cases of the chat API (/api/v1/chat/): anyone may start a conversation; a signed-in
resident's conversation is theirs alone (another resident: 404). With no assistant running
the answer is a polite 503."""

from __future__ import annotations

import os
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from tests.conftest import jpeg_bytes
from tests.security.access import Case, Endpoint, expect
from tests.security.conftest import World


def conversation_id(world: World) -> str:
    from chatbot.services import conversation_start

    return conversation_start(language="en", user=world.resident, source="api").public_id


def message(world: World) -> dict[str, Any]:
    return {"conversation_id": conversation_id(world), "message": "hello"}


def photo(world: World) -> dict[str, Any]:
    upload = SimpleUploadedFile("p.jpg", jpeg_bytes(), "image/jpeg")
    return {"conversation_id": conversation_id(world), "photo": upload}


ENTRIES: dict[str, Endpoint] = {
    "api/v1/chat/": Endpoint(
        Case("anonymous", "POST", "/api/v1/chat/", expect(200, 503), data={"message": "hi"}),
        Case("other_resident", "POST", "/api/v1/chat/", expect(404), data=message),
        Case("resident", "POST", "/api/v1/chat/", expect(200, 503), data=message),
    ),
    "api/v1/chat/photos": Endpoint(
        Case(
            "anonymous", "POST", "/api/v1/chat/photos", expect(404), data=photo, format="multipart"
        ),
        Case(
            "other_resident",
            "POST",
            "/api/v1/chat/photos",
            expect(404),
            data=photo,
            format="multipart",
        ),
        Case(
            "resident", "POST", "/api/v1/chat/photos", expect(201), data=photo, format="multipart"
        ),
    ),
}


# The messaging gateways' webhooks: whoever holds the provider's secret (pyproject's test
# environment) is the owner; anyone else, signed in or not, is refused (403).
TWILIO = "/api/v1/chat/twilio"
WHATSAPP = "/api/v1/chat/whatsapp"
TWILIO_HELP = {"MessageSid": "SM" + "5" * 32, "From": "+16175550188", "Body": "HELP"}


def twilio_signed(token: str) -> dict[str, str]:
    from chatbot.sms import signature_compute

    signature = signature_compute(url="http://testserver" + TWILIO, params=TWILIO_HELP, token=token)
    return {"HTTP_X_TWILIO_SIGNATURE": signature}


def handshake(token: str) -> dict[str, str]:
    return {"hub.mode": "subscribe", "hub.verify_token": token, "hub.challenge": "42"}


ENTRIES |= {
    "api/v1/chat/twilio": Endpoint(
        Case("anonymous", "POST", TWILIO, expect(403), data=TWILIO_HELP, format="multipart"),
        Case(
            "other_resident",
            "POST",
            TWILIO,
            expect(403),
            data=TWILIO_HELP,
            format="multipart",
            headers=twilio_signed("another-accounts-token"),
        ),
        Case(
            "resident",
            "POST",
            TWILIO,
            expect(200),
            data=TWILIO_HELP,
            format="multipart",
            headers=twilio_signed(os.environ.get("TWILIO_AUTH_TOKEN", "")),
        ),
    ),
    "api/v1/chat/whatsapp": Endpoint(
        Case("anonymous", "POST", WHATSAPP, expect(403), data={"object": "x", "entry": []}),
        Case("other_resident", "GET", WHATSAPP, expect(403), data=handshake("a guess")),
        Case(
            "resident",
            "GET",
            WHATSAPP,
            expect(200),
            data=handshake(os.environ.get("WHATSAPP_VERIFY_TOKEN", "")),
        ),
    ),
}


# The call centre's hours are public; the agent inbox (/staff/chat/) is for agents (the
# permission chatbot.answer_conversations; the admin has every permission): a supervisor
# who is not an agent gets 403, the anonymous the sign-in page.
def handoff_pk(world: World) -> int:
    from django.utils import timezone

    from chatbot.models import Handoff, HandoffKind

    conversation = conversation_start_anonymous()
    return Handoff.objects.create(
        conversation=conversation,
        kind=HandoffKind.LIVE,
        requested_at=timezone.now(),
        channel="websocket",
    ).pk


def conversation_start_anonymous() -> Any:
    from chatbot.services import conversation_start

    return conversation_start(language="en", user=None, source="websocket")


def inbox(suffix: str = "") -> Any:
    return lambda world: f"/staff/chat/{handoff_pk(world)}{suffix}"


def inbox_cases(method: str, path: Any, owner: int, data: Any = None) -> Endpoint:
    page = {"browser": True, "format": None, "data": data}
    return Endpoint(
        Case("anonymous", method, path, expect(302), **page),
        Case("supervisor", method, path, expect(403), **page),
        Case("admin", method, path, expect(owner), **page),
    )


ENTRIES |= {
    "api/v1/chat/hours": Endpoint(
        Case("anonymous", "GET", "/api/v1/chat/hours", expect(200)),
        Case("other_resident", "GET", "/api/v1/chat/hours", expect(200)),
        Case("resident", "GET", "/api/v1/chat/hours", expect(200)),
    ),
    "staff/chat/": inbox_cases("GET", "/staff/chat/", 200),
    "staff/chat/<int:pk>": inbox_cases("GET", inbox(), 200),
    "staff/chat/<int:pk>/answer": inbox_cases(
        "POST", inbox("/answer"), 302, data={"text": "Hello from 311."}
    ),
    "staff/chat/<int:pk>/close": inbox_cases("POST", inbox("/close"), 302, data={}),
}
