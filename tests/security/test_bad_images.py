"""The bad-image corpus (tests/photos/images.py ``BAD_FILES``: truncated JPEG, PNG and GIF
bombs, TIFF, BMP, PDF, SVG and HTML renamed .jpg, an empty file, huge EXIF blocks, a file over
15 MB) sent to every endpoint that takes photos: refused every time, nothing stored. Bodies
over REQUEST_BODY_MAX_BYTES: 413 on every POST endpoint, before they are read."""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from backend.photos.models import Photo
from backend.service_requests.models import ServiceRequest
from tests.conftest import BOSTON, web_report_form
from tests.photos.images import BAD_FILES
from tests.security.conftest import World, open311_form
from tests.workorders.factories import good_proof, order_in
from workorders.models import WorkOrder, WorkOrderStatus

pytestmark = pytest.mark.django_db

_keys = itertools.count()


def upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")


def mobile_submit(world: World, data: bytes) -> int:
    body = {
        "service_code": "pothole",
        "lat": str(BOSTON[0]),
        "long": str(BOSTON[1]),
        "attributes": json.dumps({"size": "large"}),
        "photos": [upload(data)],
    }
    return world.api("anonymous").post("/mobile/v1/requests", body, format="multipart").status_code


def open311_submit(world: World, data: bytes) -> int:
    body = open311_form(world.open311_key, media=upload(data))
    api = world.api("anonymous")
    return api.post("/open311/v2/requests.json", body, format="multipart").status_code


def web_report(world: World, data: bytes) -> int:
    body = web_report_form(photos=upload(data))
    return world.browser("anonymous").post("/report", body).status_code


def _order(world: World) -> WorkOrder:
    return order_in(WorkOrderStatus.IN_PROGRESS, staff=world.staff)


def crew_complete(world: World, data: bytes) -> int:
    order = _order(world)
    api = world.api("crew")
    response = api.post(
        f"/mobile/v1/crew/workorders/{order.pk}/complete",
        {"client_at": timezone.now().isoformat(), "photos": [upload(data)]},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY=f"bad-image-{next(_keys)}",
    )
    return response.status_code


def staff_proof_photos(world: World, data: bytes) -> int:
    order = _order(world)
    api = world.api("crew")
    url = f"/api/v1/workorders/{order.pk}/proof-photos"
    return api.post(url, {"photos": [upload(data)]}, format="multipart").status_code


def staff_complete(world: World, data: bytes) -> int:
    order = _order(world)
    api = world.api("crew")
    url = f"/api/v1/workorders/{order.pk}/complete"
    return api.post(url, {"photos": [upload(data)]}, format="multipart").status_code


def console_complete(world: World, data: bytes) -> int:
    """The supervisor console posts, redirects and shows the error (its pattern for every
    action): refused means the order is not completed and the error is flashed."""
    order = _order(world)
    browser = world.browser("supervisor")
    response = browser.post(f"/staff/workorders/{order.pk}/complete", {"photos": upload(data)})
    order.refresh_from_db()
    errors = [m for m in get_messages(response.wsgi_request) if m.level_tag == "error"]
    if response.status_code == 302 and order.status != WorkOrderStatus.COMPLETED and errors:
        return 400  # refused, the console's way
    return response.status_code


def chat_photo(world: World, data: bytes) -> int:
    """The chat widget's upload, for the report being made in a conversation."""
    from chatbot.models import ChatPhoto
    from chatbot.services import conversation_start

    conversation = conversation_start(language="en", user=None, source="web")
    before = ChatPhoto.objects.count()
    response = world.api("anonymous").post(
        "/api/v1/chat/photos",
        {"conversation_id": conversation.public_id, "photo": upload(data)},
        format="multipart",
    )
    if response.status_code >= 400:
        assert ChatPhoto.objects.count() == before
    return response.status_code


ENDPOINTS: dict[str, Callable[[World, bytes], int]] = {
    "mobile-submit": mobile_submit,
    "open311-post": open311_submit,
    "web-report": web_report,
    "crew-complete": crew_complete,
    "staff-proof-photos": staff_proof_photos,
    "staff-complete": staff_complete,
    "console-complete": console_complete,
    "chat-photo": chat_photo,
}


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
@pytest.mark.parametrize("bad", sorted(BAD_FILES))
def test_every_bad_image_is_refused_everywhere(world: World, endpoint: str, bad: str) -> None:
    data = BAD_FILES[bad][0]()
    requests_before = ServiceRequest.objects.count()
    photos_before = Photo.objects.count()

    status = ENDPOINTS[endpoint](world, data)

    assert 400 <= status < 500, f"{endpoint} answered {status} to {bad}"
    assert Photo.objects.count() == photos_before
    if endpoint in ("mobile-submit", "open311-post", "web-report", "chat-photo"):
        assert ServiceRequest.objects.count() == requests_before
    else:
        completed = WorkOrder.objects.filter(status=WorkOrderStatus.COMPLETED)
        assert not completed.exists()


def test_the_corpus_is_what_the_issue_names() -> None:
    names = set(BAD_FILES)
    assert {"truncated_jpeg", "png_bomb", "gif_bomb", "tiff", "pdf", "svg_renamed"} <= names
    assert {"html_renamed", "empty", "jpeg_huge_exif", "png_huge_exif", "over_15_mb"} <= names


# --- Oversized bodies

POST_ENDPOINTS = [
    "/mobile/v1/requests",
    "/mobile/v1/accounts/signup",
    "/mobile/v1/accounts/login",
    "/mobile/v1/crew/workorders/1/complete",
    "/open311/v2/requests.json",
    "/open311/v2/requests.xml",
    "/api/v1/workorders/1/proof-photos",
    "/api/v1/workorders/1/complete",
    "/report",
    "/staff/workorders/1/complete",
    "/admin/login/",
    "/api/v1/chat/photos",
    "/api/v1/chat/",
]


@pytest.mark.parametrize("path", POST_ENDPOINTS)
def test_oversized_bodies_get_413_before_they_are_read(
    world: World, settings: Any, path: str
) -> None:
    settings.REQUEST_BODY_MAX_BYTES = 64 * 1024
    body = {"description": "x" * (100 * 1024), "photos": upload(b"\xff\xd8" + b"\0" * 1024)}
    response = world.browser("supervisor").post(path, body)
    assert response.status_code == 413, (path, response.status_code)
    assert ServiceRequest.objects.count() == 1  # the world's own request only


@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_a_good_photo_passes_everywhere(world: World, endpoint: str) -> None:
    """The control: the same call with a good photo succeeds, so the refusals above come
    from the photo and not from the rest of the call."""
    status = ENDPOINTS[endpoint](world, good_proof())
    assert status in (200, 201, 302), f"{endpoint} answered {status} to a good photo"
    if endpoint != "chat-photo":  # kept apart until the assistant files the request
        assert Photo.objects.count() >= 1
