"""``POST /api/v1/chat/`` and ``POST /api/v1/chat/photos`` with Rasa faked at HTTP: the
relay, the conversation log, errors naming the field, Rasa down (503, then back), and what
the assistant's actions ask Django to do (attach the photo, follow a request)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from backend.photos.models import Photo
from backend.service_requests.models import RequestFollower
from chatbot.models import ChatMessage, ChatPhoto, Conversation
from tests.chatbot.conftest import FakeRasa
from tests.conftest import jpeg_bytes
from tests.factories import submit
from tests.openapi import assert_matches_schema
from tests.workorders.factories import token_client, user_make

URL = "/api/v1/chat/"
PHOTOS = "/api/v1/chat/photos"
pytestmark = pytest.mark.django_db


def chat(api: APIClient, **body: Any) -> Any:
    return api.post(URL, body, format="json")


def test_a_first_message_starts_a_conversation_and_relays_to_rasa(
    api: APIClient, fake_rasa: FakeRasa
) -> None:
    fake_rasa.replies(
        {"text": "¿Qué tipo de problema es?", "buttons": [{"title": "Bache", "payload": "/x"}]}
    )
    response = chat(api, message="hay un hoyo", language="es")
    assert response.status_code == 200
    body = response.json()
    assert_matches_schema(body, path=URL, method="post", status=200)
    conversation = Conversation.objects.get(public_id=body["conversation_id"])
    assert len(conversation.public_id) >= 32  # unguessable
    assert body["replies"] == [
        {"text": "¿Qué tipo de problema es?", "buttons": [{"title": "Bache", "payload": "/x"}]}
    ]
    assert fake_rasa.received == [
        {
            "path": "/webhooks/rest/webhook",
            "sender": conversation.public_id,
            "message": "hay un hoyo",
            "metadata": {"language": "es", "user": None, "channel": "api"},
        }
    ]
    log = list(conversation.messages.values_list("direction", "text", "language"))
    assert log == [("in", "hay un hoyo", "es"), ("out", "¿Qué tipo de problema es?", "es")]


def test_the_conversation_continues_with_its_id_and_keeps_its_language(
    api: APIClient, fake_rasa: FakeRasa
) -> None:
    first = chat(api, message="hola", language="es").json()
    second = chat(api, conversation_id=first["conversation_id"], message="bache en elm")
    assert second.status_code == 200
    assert second.json()["conversation_id"] == first["conversation_id"]
    assert fake_rasa.received[1]["sender"] == first["conversation_id"]
    assert fake_rasa.received[1]["metadata"]["language"] == "es"
    assert Conversation.objects.count() == 1
    assert ChatMessage.objects.filter(direction="in").count() == 2


def test_a_conversation_in_vietnamese_tells_rasa_and_keeps_its_language(
    api: APIClient, fake_rasa: FakeRasa
) -> None:
    fake_rasa.replies({"text": "Đó là loại sự cố gì?"})
    first = chat(api, message="o ga to lam", language="vi").json()
    chat(api, conversation_id=first["conversation_id"], message="duong Le Loi")
    assert [r["metadata"]["language"] for r in fake_rasa.received] == ["vi", "vi"]
    conversation = Conversation.objects.get(public_id=first["conversation_id"])
    assert conversation.language == "vi"


def test_photo_and_shared_location_go_to_rasa_but_coordinates_stay_out_of_the_log(
    api: APIClient, fake_rasa: FakeRasa
) -> None:
    body = chat(
        api,
        message="📍",
        metadata={"photo": "AbCdEf123456", "location": {"lat": 42.36, "long": -71.06}},
    ).json()
    assert fake_rasa.received[0]["metadata"] == {
        "language": "en",
        "user": None,
        "channel": "api",
        "photo": "AbCdEf123456",
        "location": {"lat": 42.36, "long": -71.06},
    }
    inbound = ChatMessage.objects.get(
        conversation__public_id=body["conversation_id"], direction="in"
    )
    assert inbound.meta == {"photo": "AbCdEf123456", "location_shared": True}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "message"),
        ({"message": ""}, "message"),
        ({"message": "x" * 2001}, "message"),
        ({"message": "hi", "language": "fr"}, "language"),
        ({"message": "hi", "sender": "x"}, "sender"),
        (
            {"message": "hi", "metadata": {"location": {"lat": 200, "long": 0}}},
            "metadata.location.lat",
        ),
        ({"message": "hi", "metadata": {"photo": "../etc/passwd"}}, "metadata.photo"),
        ({"message": "hi", "conversation_id": "x" * 65}, "conversation_id"),
    ],
)
def test_bad_input_is_400_naming_the_field(
    api: APIClient, fake_rasa: FakeRasa, body: dict[str, Any], field: str
) -> None:
    response = chat(api, **body)
    assert response.status_code == 400
    assert field in response.json()["errors"], response.json()
    assert response.json()["detail"]
    assert fake_rasa.received == []


def test_a_body_that_is_not_json_is_400(api: APIClient, fake_rasa: FakeRasa) -> None:
    response = api.post(URL, "{nope", content_type="application/json")
    assert response.status_code == 400
    assert "body" in response.json()["errors"]


def test_an_unknown_conversation_is_404(api: APIClient, fake_rasa: FakeRasa) -> None:
    response = chat(api, conversation_id="not-a-conversation", message="hi")
    assert response.status_code == 404
    assert "conversation_id" in response.json()["errors"]
    assert fake_rasa.received == []


def test_a_residents_conversation_is_theirs_alone(api: APIClient, fake_rasa: FakeRasa) -> None:
    resident = token_client(user_make("rita@example.org"))
    fake_rasa.replies({"text": "Your report: jane@example.com, 12 Elm St"})
    mine = chat(resident, message="hi").json()
    assert fake_rasa.received[0]["metadata"]["user"] is not None
    outsider = token_client(user_make("otto@example.org"))
    for client in (outsider, api):
        response = chat(client, conversation_id=mine["conversation_id"], message="show me")
        assert response.status_code == 404
        assert "jane@example.com" not in response.content.decode()
    assert len(fake_rasa.received) == 1


def test_rasa_down_is_a_polite_503_and_the_conversation_continues_once_back(
    api: APIClient, rasa_down: None, settings: Any, fake_rasa_later: Any
) -> None:
    response = chat(api, message="there's a pothole", language="es")
    assert response.status_code == 503
    body = response.json()
    assert "https://311.example.org/report" in body["detail"]
    assert body["detail"].startswith("Lo siento")
    assert body["errors"] == {"assistant": ["The assistant is not available right now."]}
    assert_matches_schema(body, path=URL, method="post", status=503)
    conversation = Conversation.objects.get(public_id=body["conversation_id"])
    assert list(conversation.messages.values_list("direction", "meta")) == [
        ("in", {}),
        ("out", {"unavailable": True}),
    ]
    fake = fake_rasa_later()  # Rasa is back
    again = chat(api, conversation_id=conversation.public_id, message="still there?")
    assert again.status_code == 200
    assert fake.received[0]["sender"] == conversation.public_id


def test_rasa_answering_an_error_is_a_503_too(api: APIClient, fake_rasa: FakeRasa) -> None:
    fake_rasa.answer = lambda body: (500, {"error": "boom"})
    assert chat(api, message="hi").status_code == 503


@pytest.fixture
def fake_rasa_later(request: pytest.FixtureRequest) -> Any:
    return lambda: request.getfixturevalue("fake_rasa")


# --- Photos, and what the assistant's actions ask for


def upload(api: APIClient, conversation_id: str, data: bytes, name: str = "p.jpg") -> Any:
    photo = SimpleUploadedFile(name, data, content_type="image/jpeg")
    return api.post(PHOTOS, {"conversation_id": conversation_id, "photo": photo})


def test_a_photo_uploaded_in_the_chat_goes_to_the_request_the_assistant_filed(
    api: APIClient, fake_rasa: FakeRasa, catalog: None
) -> None:
    conversation_id = chat(api, message="hi").json()["conversation_id"]
    response = upload(api, conversation_id, jpeg_bytes())
    assert response.status_code == 201
    assert_matches_schema(response.json(), path=PHOTOS, method="post", status=201)
    reference = response.json()["photo"]
    filed = submit("pothole", channel="chat")
    fake_rasa.replies(
        {"text": f"Done! Your request number is {filed.public_id}."},
        {"custom": {"city311": {"filed": filed.public_id, "photo": reference}}},
    )
    answer = chat(api, conversation_id=conversation_id, message="yes").json()
    assert answer["replies"] == [
        {"text": f"Done! Your request number is {filed.public_id}.", "buttons": []}
    ]
    assert Photo.objects.filter(service_request=filed).count() == 1
    assert ChatPhoto.objects.get(reference=reference).service_request == filed
    effect = ChatMessage.objects.filter(meta__has_key="filed").get()
    assert effect.meta == {"filed": filed.public_id, "photo_attached": True}


def test_another_conversations_photo_is_never_attached(
    api: APIClient, fake_rasa: FakeRasa, catalog: None
) -> None:
    other = chat(api, message="hi").json()["conversation_id"]
    reference = upload(api, other, jpeg_bytes()).json()["photo"]
    mine = chat(api, message="hi").json()["conversation_id"]
    filed = submit("pothole", channel="chat")
    fake_rasa.replies({"custom": {"city311": {"filed": filed.public_id, "photo": reference}}})
    chat(api, conversation_id=mine, message="yes")
    assert not Photo.objects.filter(service_request=filed).exists()


def test_only_a_chat_request_gets_the_photo(
    api: APIClient, fake_rasa: FakeRasa, catalog: None
) -> None:
    conversation_id = chat(api, message="hi").json()["conversation_id"]
    reference = upload(api, conversation_id, jpeg_bytes()).json()["photo"]
    someone_elses = submit("pothole", channel="app")
    fake_rasa.replies(
        {"custom": {"city311": {"filed": someone_elses.public_id, "photo": reference}}}
    )
    chat(api, conversation_id=conversation_id, message="yes")
    assert not Photo.objects.filter(service_request=someone_elses).exists()


def test_following_the_duplicate_for_a_signed_in_resident(
    fake_rasa: FakeRasa, catalog: None
) -> None:
    rita = user_make("rita@example.org")
    original = submit("pothole")
    fake_rasa.replies(
        {"text": "Good: no new request."},
        {"custom": {"city311": {"follow": original.public_id}}},
    )
    chat(token_client(rita), message="yes")
    assert RequestFollower.objects.filter(service_request=original, user=rita).exists()


@pytest.mark.parametrize(
    ("make", "field", "status"),
    [
        (lambda cid: {"conversation_id": cid}, "photo", 400),
        (
            lambda cid: {
                "conversation_id": cid,
                "photo": SimpleUploadedFile("a.jpg", b"not an image", "image/jpeg"),
            },
            "photo",
            400,
        ),
        (
            lambda cid: {
                "conversation_id": "nope",
                "photo": SimpleUploadedFile("a.jpg", jpeg_bytes(), "image/jpeg"),
            },
            "conversation_id",
            404,
        ),
    ],
)
def test_photo_upload_errors_name_the_field(
    api: APIClient, fake_rasa: FakeRasa, make: Any, field: str, status: int
) -> None:
    conversation_id = chat(api, message="hi").json()["conversation_id"]
    response = api.post(PHOTOS, make(conversation_id))
    assert response.status_code == status
    assert field in response.json()["errors"]


def test_an_oversized_photo_is_413(api: APIClient, fake_rasa: FakeRasa, settings: Any) -> None:
    settings.PHOTO_MAX_BYTES = 1000
    conversation_id = chat(api, message="hi").json()["conversation_id"]
    response = upload(api, conversation_id, jpeg_bytes())
    assert response.status_code == 413
    assert "photo" in response.json()["errors"]
