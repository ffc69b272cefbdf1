"""Photos through the mobile API: POST /mobile/v1/requests, multipart, repeatable `photos`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from backend.photos.models import Photo, ProcessingState
from backend.service_requests.models import ServiceRequest
from tests.photos.images import BAD_FILES, encode, exif_block, noise, quadrants

pytestmark = pytest.mark.django_db

REQUESTS = "/mobile/v1/requests"
CaptureCallbacks = Callable[..., Any]


def form(*photos: bytes, name: str = "photo.jpg") -> dict[str, Any]:
    return {
        "service_code": "pothole",
        "lat": "42.3601",
        "long": "-71.0589",
        "description": "Deep hole in the right lane",
        "attributes": json.dumps({"size": "large"}),
        "photos": [SimpleUploadedFile(name, data, content_type="image/jpeg") for data in photos],
    }


def private_files() -> list[Path]:
    root = Path(settings.PRIVATE_UPLOAD_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_photos_are_refused_naming_the_field_and_nothing_is_created(
    catalog: None, api: APIClient, name: str
) -> None:
    build, status = BAD_FILES[name]

    response = api.post(REQUESTS, form(build()), format="multipart")

    assert response.status_code == status, response.content
    body = response.json()
    assert body["errors"]["photos"], body
    assert ServiceRequest.objects.count() == 0
    assert Photo.objects.count() == 0
    assert private_files() == []


def test_one_bad_photo_among_good_ones_refuses_the_whole_request(
    catalog: None, api: APIClient
) -> None:
    good = encode(quadrants((320, 240)), "JPEG")
    response = api.post(REQUESTS, form(good, BAD_FILES["tiff"][0]()), format="multipart")
    assert response.status_code == 400
    assert "Photo 2" in " ".join(response.json()["errors"]["photos"])
    assert ServiceRequest.objects.count() == 0
    assert private_files() == []


@pytest.mark.parametrize(
    ("fmt", "name"), [("JPEG", "a.jpg"), ("PNG", "b.png"), ("WEBP", "c.webp"), ("WEBP", "d.jpg")]
)
def test_jpeg_png_and_webp_are_accepted_whatever_their_name(
    catalog: None, api: APIClient, fmt: str, name: str
) -> None:
    response = api.post(REQUESTS, form(encode(quadrants((320, 240)), fmt), name=name))
    assert response.status_code == 201, response.content
    photo = Photo.objects.get()
    assert photo.source_format == fmt


def test_the_request_answers_before_processing_and_the_photo_is_served_after(
    catalog: None, api: APIClient, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    exif = exif_block(orientation=8, gps=(42.3601, -71.0589), taken="2025:03:04 10:11:12")
    data = encode(noise((2000, 1500)), "JPEG", quality=85, exif=exif)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(REQUESTS, form(data, data), format="multipart")
        assert response.status_code == 201, response.content
        created = response.json()
        # The answer was built before the queued processing ran.
        assert [p["state"] for p in created["photos"]] == ["pending"]
        assert created["photos"][0]["url"] is None

    photo = Photo.objects.get()
    assert photo.state == ProcessingState.READY
    public = api.get(f"{REQUESTS}/{created['service_request_id']}").json()
    assert public["photos"][0]["state"] == "ready"
    assert public["photos"][0]["url"].endswith(photo.display.name)
    assert "exif" not in json.dumps(public).lower()
    with Image.open(photo.display.path) as display:
        assert display.size == (1200, 1600)  # orientation 8: upright
        assert not display.getexif()
