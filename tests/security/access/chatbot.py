"""Access cases of the chat API (/api/v1/chat/): anyone may start a conversation; a signed-in
resident's conversation is theirs alone (another resident: 404). With no assistant running
the answer is a polite 503."""

from __future__ import annotations

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
