"""The edit window: the reporter corrects the description and adds photos for
``EDIT_WINDOW_MINUTES`` after filing, through the app (PATCH /mobile/v1/requests/{id}, POST
.../photos: the signed-in reporter, or the app that filed without an account with its
``Edit-Token``) and the web (the track page's "Edit", the browser that filed known by the
token in its session). Each change is an ``edited`` event; public views show the new text."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from backend.intake.edit import edit_token_make
from backend.photos.models import Photo
from backend.service_requests.models import EventKind, ServiceRequest, ServiceRequestEvent
from backend.service_requests.moderation import service_request_hide, service_request_redact
from backend.service_requests.services import service_request_start
from tests.conftest import jpeg_bytes, pothole_payload, web_report_form
from tests.openapi import assert_matches_schema
from tests.photos.images import noise

pytestmark = pytest.mark.django_db

REQUESTS = "/mobile/v1/requests"
DETAIL = "/mobile/v1/requests/{public_id}"
PHOTOS = "/mobile/v1/requests/{public_id}/photos"
OLD_TEXT = "Deep hole in the right lane, call me on 617 555 0100"


def _file(data: bytes, name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def _file_as(api: APIClient) -> dict[str, Any]:
    response = api.post(REQUESTS, pothole_payload(description=OLD_TEXT), format="json")
    assert response.status_code == 201, response.content
    return dict(response.json())


def _edited_events(public_id: str) -> list[ServiceRequestEvent]:
    return list(
        ServiceRequestEvent.objects.filter(
            service_request__public_id=public_id, kind=EventKind.EDITED
        )
    )


def _later(minutes: int) -> Any:
    return time_machine.travel(timezone.now() + timedelta(minutes=minutes), tick=False)


def test_the_signed_in_reporter_corrects_the_description_within_the_window(
    resident_api: APIClient, api: APIClient
) -> None:
    # Given a request the resident filed from the app, signed in (no token needed)
    created = _file_as(resident_api)
    public_id = created["service_request_id"]
    assert "edit_token" not in created
    assert created["edit_until"]
    assert_matches_schema(created, path=REQUESTS, method="post", status=201)
    before = ServiceRequest.objects.get(public_id=public_id).updated_at

    # When they correct the description ten minutes later
    with _later(10):
        response = resident_api.patch(
            DETAIL.format(public_id=public_id), {"description": "Deep hole, left lane"}
        )

    # Then it is changed, with one "edited" event that says what changed, not the old text
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["description"] == "Deep hole, left lane"
    assert body["changed"] == ["description"]
    assert_matches_schema(body, path="/mobile/v1/requests/{public_id}", method="patch", status=200)
    sr = ServiceRequest.objects.get(public_id=public_id)
    assert sr.description == "Deep hole, left lane"
    assert sr.updated_at > before
    (event,) = _edited_events(public_id)
    assert event.public_note == "The reporter corrected the description."
    assert OLD_TEXT in event.internal_note  # kept for staff only
    assert event.actor is not None and event.channel == "app"

    # And the public views show the new text, and the event without the old one
    public = api.get(DETAIL.format(public_id=public_id)).json()
    assert public["description"] == "Deep hole, left lane"
    assert OLD_TEXT not in str(public)
    assert "edited" in [e["kind"] for e in public["events"]]
    open311 = api.get(f"/open311/v2/requests/{public_id}.json").json()
    assert open311[0]["description"] == "Deep hole, left lane"
    assert OLD_TEXT not in str(open311)


def test_the_same_text_again_changes_nothing_and_writes_no_event(
    resident_api: APIClient,
) -> None:
    public_id = _file_as(resident_api)["service_request_id"]
    response = resident_api.patch(DETAIL.format(public_id=public_id), {"description": OLD_TEXT})
    assert response.status_code == 200
    assert response.json()["changed"] == []
    assert _edited_events(public_id) == []


def test_after_the_window_an_edit_is_refused_naming_the_field(resident_api: APIClient) -> None:
    public_id = _file_as(resident_api)["service_request_id"]

    with _later(16):
        text = resident_api.patch(DETAIL.format(public_id=public_id), {"description": "Later"})
        photo = resident_api.post(
            PHOTOS.format(public_id=public_id),
            {"photos": [_file(jpeg_bytes())]},
            format="multipart",
        )

    assert text.status_code == 409
    assert "description" in text.json()["errors"]
    assert photo.status_code == 409
    assert "photos" in photo.json()["errors"]
    assert ServiceRequest.objects.get(public_id=public_id).description == OLD_TEXT
    assert _edited_events(public_id) == []


@override_settings(EDIT_WINDOW_MINUTES=30)
def test_the_window_is_a_setting(resident_api: APIClient) -> None:
    public_id = _file_as(resident_api)["service_request_id"]
    with _later(20):
        response = resident_api.patch(DETAIL.format(public_id=public_id), {"description": "Ok"})
    assert response.status_code == 200


def test_once_work_started_or_it_is_closed_it_can_no_longer_change(
    resident_api: APIClient,
) -> None:
    public_id = _file_as(resident_api)["service_request_id"]
    service_request_start(service_request=ServiceRequest.objects.get(public_id=public_id))

    response = resident_api.patch(DETAIL.format(public_id=public_id), {"description": "New"})

    assert response.status_code == 409
    assert "description" in response.json()["errors"]


def test_someone_else_cannot_edit_it(
    resident_api: APIClient, outsider_api: APIClient, api: APIClient
) -> None:
    public_id = _file_as(resident_api)["service_request_id"]
    other = _file_as(api)  # an anonymous filing: its token is for its own request only

    for client, headers in (
        (outsider_api, {}),
        (api, {}),
        (api, {"HTTP_EDIT_TOKEN": other["edit_token"]}),
        (api, {"HTTP_EDIT_TOKEN": "forged"}),
    ):
        response = client.patch(
            DETAIL.format(public_id=public_id), {"description": "Mine now"}, **headers
        )
        assert response.status_code == 404, headers
        assert "public_id" in response.json()["errors"]
        photos = client.post(
            PHOTOS.format(public_id=public_id),
            {"photos": [_file(jpeg_bytes())]},
            format="multipart",
            **headers,
        )
        assert photos.status_code == 404
    assert ServiceRequest.objects.get(public_id=public_id).description == OLD_TEXT


def test_the_app_without_an_account_edits_with_its_token(api: APIClient) -> None:
    created = _file_as(api)
    public_id, token = created["service_request_id"], created["edit_token"]
    assert_matches_schema(created, path=REQUESTS, method="post", status=201)

    response = api.patch(
        DETAIL.format(public_id=public_id), {"description": "Fixed typo"}, HTTP_EDIT_TOKEN=token
    )

    assert response.status_code == 200
    assert ServiceRequest.objects.get(public_id=public_id).description == "Fixed typo"
    (event,) = _edited_events(public_id)
    assert event.actor is None


def test_photos_are_added_through_the_pipeline_with_an_event(resident_api: APIClient) -> None:
    public_id = _file_as(resident_api)["service_request_id"]

    response = resident_api.post(
        PHOTOS.format(public_id=public_id),
        {"photos": [_file(jpeg_bytes()), _file(jpeg_bytes(color=(1, 2, 3)), "b.jpg")]},
        format="multipart",
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["changed"] == ["photos"]
    assert len(body["photos"]) == 2
    assert_matches_schema(
        body, path="/mobile/v1/requests/{public_id}/photos", method="post", status=200
    )
    assert Photo.objects.filter(service_request__public_id=public_id).count() == 2
    (event,) = _edited_events(public_id)
    assert event.public_note == "The reporter added 2 photos."


@override_settings(PHOTO_MAX_BYTES=2_000)
def test_a_photo_too_large_is_413_naming_photos(resident_api: APIClient) -> None:
    public_id = _file_as(resident_api)["service_request_id"]
    big = _file(_noise_jpeg())
    response = resident_api.post(
        PHOTOS.format(public_id=public_id), {"photos": [big]}, format="multipart"
    )
    assert response.status_code == 413
    assert "photos" in response.json()["errors"]
    assert _edited_events(public_id) == []


def test_not_a_photo_and_too_many_photos_are_400_naming_photos(resident_api: APIClient) -> None:
    public_id = _file_as(resident_api)["service_request_id"]
    url = PHOTOS.format(public_id=public_id)
    html = resident_api.post(url, {"photos": [_file(b"<html></html>")]}, format="multipart")
    assert html.status_code == 400 and "photos" in html.json()["errors"]
    six = [_file(jpeg_bytes(color=(n * 40, 0, 0)), f"{n}.jpg") for n in range(6)]
    many = resident_api.post(url, {"photos": six}, format="multipart")
    assert many.status_code == 400 and "photos" in many.json()["errors"]
    none = resident_api.post(url, {}, format="multipart")
    assert none.status_code == 400
    assert Photo.objects.count() == 0


def test_a_description_too_long_is_400_naming_it(resident_api: APIClient) -> None:
    public_id = _file_as(resident_api)["service_request_id"]
    url = DETAIL.format(public_id=public_id)
    response = resident_api.patch(url, {"description": "x" * 4001}, format="json")
    assert response.status_code == 400
    assert "description" in response.json()["errors"]
    assert resident_api.patch(url, ["not", "an", "object"], format="json").status_code == 400
    assert resident_api.patch(url, {}, format="json").status_code == 400
    assert ServiceRequest.objects.get(public_id=public_id).description == OLD_TEXT


def _noise_jpeg() -> bytes:
    out = io.BytesIO()
    noise((400, 400)).save(out, "JPEG", quality=95)
    return out.getvalue()


# --- The web: the track page after filing offers "Edit" while the window is open


def _web_form(**overrides: object) -> dict[str, object]:
    return web_report_form(**{"description": OLD_TEXT, **overrides})


def _web_file(client: Client) -> str:
    response = client.post("/report", _web_form())
    assert response.status_code == 302
    return ServiceRequest.objects.latest("id").public_id


def test_the_browser_that_filed_edits_from_the_track_page(catalog: None) -> None:
    # Given a request filed on the web
    client = Client()
    public_id = _web_file(client)

    # Then its track page offers "Edit", and the edit page shows the description
    track = client.get(f"/track/{public_id}?filed=1").content.decode()
    assert f"/track/{public_id}/edit" in track
    page = client.get(f"/track/{public_id}/edit")
    assert page.status_code == 200
    assert OLD_TEXT in page.content.decode()

    # When the reporter corrects it and adds a photo
    response = client.post(
        f"/track/{public_id}/edit",
        {"description": "Deep hole, left lane", "photos": [_file(jpeg_bytes())]},
    )

    # Then both change, with one event saying so
    assert response.status_code == 302
    sr = ServiceRequest.objects.get(public_id=public_id)
    assert sr.description == "Deep hole, left lane"
    assert sr.photos.count() == 1
    (event,) = _edited_events(public_id)
    assert event.channel == "web"
    assert event.public_note == "The reporter corrected the description and added 1 photo."
    assert "added 1 photo" in client.get(f"/track/{public_id}").content.decode()


def test_the_web_edit_refuses_bad_input_next_to_the_field(catalog: None) -> None:
    client = Client()
    public_id = _web_file(client)
    for bad in ("x" * 4001, "a\x00b"):
        response = client.post(f"/track/{public_id}/edit", {"description": bad})
        assert response.status_code == 400
        assert 'id="description-error"' in response.content.decode()
    with override_settings(PHOTO_MAX_BYTES=2_000):
        big = client.post(
            f"/track/{public_id}/edit",
            {"description": OLD_TEXT, "photos": [_file(_noise_jpeg())]},
        )
    assert big.status_code == 413
    assert 'id="photos-error"' in big.content.decode()


def test_the_web_edit_after_the_window_or_by_another_browser_is_refused(catalog: None) -> None:
    client = Client()
    public_id = _web_file(client)

    # Another browser: no "Edit", and the page does not exist for it
    stranger = Client()
    assert f"/track/{public_id}/edit" not in stranger.get(f"/track/{public_id}").content.decode()
    assert stranger.get(f"/track/{public_id}/edit").status_code == 404
    assert stranger.post(f"/track/{public_id}/edit", {"description": "x"}).status_code == 404
    session = stranger.session
    session["city311_edit_tokens"] = {public_id: "forged"}
    session.save()
    assert stranger.get(f"/track/{public_id}/edit").status_code == 404

    # The browser that filed, after the window: no "Edit", and a 409 naming the field
    with _later(16):
        assert f"/track/{public_id}/edit" not in client.get(f"/track/{public_id}").content.decode()
        assert client.get(f"/track/{public_id}/edit").status_code == 409
        late = client.post(f"/track/{public_id}/edit", {"description": "Too late"})
    assert late.status_code == 409
    assert ServiceRequest.objects.get(public_id=public_id).description == OLD_TEXT


def test_a_signed_in_reporter_edits_on_the_web_in_another_browser(
    resident: User, resident_api: APIClient
) -> None:
    public_id = _file_as(resident_api)["service_request_id"]
    browser = Client()
    browser.force_login(resident)
    assert f"/track/{public_id}/edit" in browser.get(f"/track/{public_id}").content.decode()
    response = browser.post(f"/track/{public_id}/edit", {"description": "From the web"})
    assert response.status_code == 302
    assert ServiceRequest.objects.get(public_id=public_id).description == "From the web"


def test_an_edit_token_is_for_one_request_and_editing_only(api: APIClient) -> None:
    created = _file_as(api)
    token = edit_token_make(public_id="SR-2026-999999")
    response = api.patch(
        DETAIL.format(public_id=created["service_request_id"]),
        {"description": "x"},
        HTTP_EDIT_TOKEN=token,
    )
    assert response.status_code == 404


def test_a_hidden_request_is_gone_and_a_redacted_description_stays(
    resident_api: APIClient,
) -> None:
    public_id = _file_as(resident_api)["service_request_id"]
    url = DETAIL.format(public_id=public_id)
    sr = ServiceRequest.objects.get(public_id=public_id)

    # Staff redact the phone number: the reporter may not write it back, but may add photos
    service_request_redact(service_request=sr, text="617 555 0100", reason="Phone number")
    refused = resident_api.patch(url, {"description": OLD_TEXT}, format="json")
    assert refused.status_code == 409
    assert "description" in refused.json()["errors"]
    photos = resident_api.post(
        PHOTOS.format(public_id=public_id), {"photos": [_file(jpeg_bytes())]}, format="multipart"
    )
    assert photos.status_code == 200

    # Hidden: as if it did not exist
    service_request_hide(service_request=sr, reason="Abusive")
    assert resident_api.patch(url, {"description": "x"}, format="json").status_code == 404
    assert "617 555 0100" not in ServiceRequest.objects.get(pk=sr.pk).description
