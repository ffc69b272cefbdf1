"""The first HTTP surface: /mobile/v1/services and /mobile/v1/requests."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from backend.photos.models import Photo
from backend.service_requests.models import ServiceRequest, Status
from backend.service_requests.services import service_request_acknowledge
from tests.conftest import jpeg_bytes, png_bytes, pothole_payload
from tests.openapi import assert_matches_schema

pytestmark = pytest.mark.django_db

SERVICES = "/mobile/v1/services"
REQUESTS = "/mobile/v1/requests"


def test_catalog_lists_the_twelve_services_with_attributes(catalog: None, api: APIClient) -> None:
    response = api.get(SERVICES)
    assert response.status_code == 200
    body = response.json()
    assert len(body) == 12
    pothole = next(s for s in body if s["service_code"] == "pothole")
    assert pothole["department"] == "Public Works"
    assert pothole["expected_turnaround_hours"] == 72
    size = next(a for a in pothole["attributes"] if a["code"] == "size")
    assert size["required"] is True and size["datatype"] == "singlevaluelist"
    assert {v["key"] for v in size["values"]} == {"small", "medium", "large"}
    assert_matches_schema(body, path="/mobile/v1/services", method="get", status=200)


@pytest.mark.parametrize(("language", "name"), [("es", "Bache"), ("vi", "Ổ gà"), ("en", "Pothole")])
def test_catalog_is_localized_by_accept_language(
    catalog: None, api: APIClient, language: str, name: str
) -> None:
    body = api.get(SERVICES, HTTP_ACCEPT_LANGUAGE=language).json()
    assert next(s for s in body if s["service_code"] == "pothole")["name"] == name


def test_create_answers_201_with_id_status_and_turnaround(catalog: None, api: APIClient) -> None:
    response = api.post(REQUESTS, pothole_payload(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["service_request_id"].startswith("SR-")
    assert body["status"] == "submitted"
    assert body["expected_turnaround_hours"] == 72
    assert body["possible_duplicate"] is None
    assert_matches_schema(body, path="/mobile/v1/requests", method="post", status=201)
    sr = ServiceRequest.objects.get(public_id=body["service_request_id"])
    assert sr.channel == "app"
    assert sr.expected_at is not None
    assert body["expected_at"] == timezone.localtime(sr.expected_at).isoformat()


def test_a_nearby_duplicate_is_offered(catalog: None, api: APIClient) -> None:
    first = api.post(REQUESTS, pothole_payload(), format="json").json()
    second = api.post(REQUESTS, pothole_payload(lat=42.36012), format="json").json()
    assert second["possible_duplicate"]["service_request_id"] == first["service_request_id"]
    assert second["possible_duplicate"]["distance_m"] < 50


def test_status_and_other_server_fields_in_the_body_are_ignored(
    catalog: None, api: APIClient
) -> None:
    payload = pothole_payload(
        status="closed", public_id="SR-1999-000001", channel="phone", expected_at="2000-01-01"
    )
    body = api.post(REQUESTS, payload, format="json").json()
    sr = ServiceRequest.objects.get(public_id=body["service_request_id"])
    assert (sr.status, sr.channel) == (Status.SUBMITTED, "app")
    assert sr.public_id != "SR-1999-000001"
    assert sr.expected_at is not None and sr.expected_at.year != 2000


@pytest.mark.parametrize(
    ("payload", "field", "status"),
    [
        (pothole_payload(lat=95), "lat", 400),
        (pothole_payload(long="west"), "long", 400),
        (pothole_payload(description="x" * 4001), "description", 400),
        (pothole_payload(attributes={"size": "huge"}), "attribute[size]", 400),
        (pothole_payload(attributes={}), "attribute[size]", 400),
        (pothole_payload(attributes=["size"]), "attributes", 400),
        (pothole_payload(service_code="unicorn"), "service_code", 404),
        ({"lat": 1, "long": 1}, "service_code", 400),
        (pothole_payload(lat=None, long=None), "lat", 400),
        (pothole_payload(contact={"email": "nope"}), "contact.email", 400),
        (pothole_payload(language="fr"), "language", 400),
    ],
)
def test_bad_input_answers_4xx_naming_the_field(
    catalog: None, api: APIClient, payload: dict[str, Any], field: str, status: int
) -> None:
    response = api.post(REQUESTS, payload, format="json")
    assert response.status_code == status, response.content
    body = response.json()
    assert field in body["errors"], body
    assert field in body["detail"] or status == 404
    assert ServiceRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('"text"', "application/json", 400),
        ("<xml/>", "application/xml", 415),
    ],
)
def test_malformed_bodies(
    catalog: None, api: APIClient, body: str, content_type: str, status: int
) -> None:
    response = api.generic("POST", REQUESTS, body, content_type=content_type)
    assert response.status_code == status
    assert response.json()["errors"]


def test_paths_are_exact_without_trailing_slash(catalog: None, api: APIClient) -> None:
    assert api.get(SERVICES + "/").status_code == 404
    assert api.post(REQUESTS + "/", pothole_payload(), format="json").status_code == 404


def test_idempotency_key_replays_and_conflicts(catalog: None, api: APIClient) -> None:
    first = api.post(REQUESTS, pothole_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    again = api.post(REQUESTS, pothole_payload(), format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"
    assert again.json()["service_request_id"] == first.json()["service_request_id"]
    assert ServiceRequest.objects.count() == 1
    other = api.post(
        REQUESTS, pothole_payload(description="other"), format="json", HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["errors"]
    assert ServiceRequest.objects.count() == 1


def test_multipart_with_photos(catalog: None, api: APIClient) -> None:
    form = {
        "service_code": "pothole",
        "lat": "42.3601",
        "long": "-71.0589",
        "description": "With photos",
        "attribute[size]": "medium",
        "contact[email]": "r@example.org",
        "photos": [
            _file(jpeg_bytes(), "a.jpg"),
            _file(png_bytes(), "b.png"),
            _file(jpeg_bytes(), "a-again.jpg"),  # the same bytes: one photo
        ],
    }
    response = api.post(REQUESTS, form, format="multipart")
    assert response.status_code == 201, response.content
    body = response.json()
    assert [p["state"] for p in body["photos"]] == ["pending", "pending"]
    sr = ServiceRequest.objects.get(public_id=body["service_request_id"])
    assert sr.attributes == {"size": "medium"} and sr.contact_email == "r@example.org"
    assert Photo.objects.filter(service_request=sr).count() == 2


def test_more_than_five_photos_is_refused(catalog: None, api: APIClient) -> None:
    photos = [_file(jpeg_bytes(color=(i * 40, 0, 0)), f"{i}.jpg") for i in range(6)]
    response = api.post(REQUESTS, {**_form(), "photos": photos}, format="multipart")
    assert response.status_code == 400
    assert "photos" in response.json()["errors"]
    assert ServiceRequest.objects.count() == 0


def test_a_text_file_named_jpg_is_refused(catalog: None, api: APIClient) -> None:
    photos = [_file(b"<html><script>alert(1)</script></html>", "cat.jpg")]
    response = api.post(REQUESTS, {**_form(), "photos": photos}, format="multipart")
    assert response.status_code == 400
    assert "photos" in response.json()["errors"]


@override_settings(REQUEST_BODY_MAX_BYTES=10_000)
def test_oversized_body_is_413(catalog: None, api: APIClient) -> None:
    photos = [_file(noise_jpeg(), "big.jpg")]
    response = api.post(REQUESTS, {**_form(), "photos": photos}, format="multipart")
    assert response.status_code == 413
    assert response.json()["errors"]["body"]
    assert ServiceRequest.objects.count() == 0


@override_settings(PHOTO_MAX_BYTES=2_000)
def test_oversized_photo_is_413_naming_photos(catalog: None, api: APIClient) -> None:
    photos = [_file(noise_jpeg(), "big.jpg")]
    response = api.post(REQUESTS, {**_form(), "photos": photos}, format="multipart")
    assert response.status_code == 413
    assert "photos" in response.json()["errors"]


def test_public_view_hides_contact_data_and_internal_notes(catalog: None, api: APIClient) -> None:
    payload = pothole_payload(
        contact={"name": "Zelda Marker", "email": "zelda@example.org", "phone": "+1 617 555 0199"}
    )
    created = api.post(REQUESTS, payload, format="json").json()
    sr = ServiceRequest.objects.get(public_id=created["service_request_id"])
    service_request_acknowledge(
        service_request=sr, public_note="A crew is on the way.", internal_note="Gate code 4411"
    )
    response = api.get(f"{REQUESTS}/{sr.public_id}")
    assert response.status_code == 200
    body = response.json()
    assert_matches_schema(body, path="/mobile/v1/requests/{public_id}", method="get", status=200)
    text = json.dumps(body)
    for secret in ("Zelda", "zelda@example.org", "555 0199", "Gate code"):
        assert secret not in text
    assert body["status"] == "acknowledged" and body["open311_status"] == "open"
    assert [e["to_status"] for e in body["events"]] == ["submitted", "acknowledged"]
    assert body["events"][-1]["note"] == "A crew is on the way."
    assert body["agency_responsible"] == "Public Works"


def test_sensitive_services_show_a_rounded_location(catalog: None, api: APIClient) -> None:
    payload = {
        "service_code": "rodents",
        "lat": 42.361234,
        "long": -71.058765,
        "attributes": {"location_type": "residence"},
    }
    created = api.post(REQUESTS, payload, format="json").json()
    body = api.get(f"{REQUESTS}/{created['service_request_id']}").json()
    assert (body["lat"], body["long"]) == (42.361, -71.059)


def test_unknown_request_is_404(catalog: None, api: APIClient) -> None:
    response = api.get(f"{REQUESTS}/SR-2026-999999")
    assert response.status_code == 404
    assert "public_id" in response.json()["errors"]


def noise_jpeg() -> bytes:
    """A JPEG that does not compress: about 100 kB."""
    import io
    import os

    from PIL import Image

    out = io.BytesIO()
    Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3)).save(out, "JPEG", quality=95)
    assert len(out.getvalue()) > 20_000
    return out.getvalue()


def _file(data: bytes, name: str) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def _form() -> dict[str, Any]:
    return {
        "service_code": "pothole",
        "lat": "42.3601",
        "long": "-71.0589",
        "attribute[size]": "small",
    }
