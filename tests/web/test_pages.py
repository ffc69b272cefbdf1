"""The residents' pages without JavaScript: the form posts through the intake pipeline,
errors come back next to their fields, the track page and its JSON show the request."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from backend.catalog.models import ServiceType
from backend.photos.models import Photo
from backend.service_requests.models import Channel, ServiceRequest
from backend.web.turnaround import turnaround_sentence
from tests.conftest import BOSTON, jpeg_bytes, web_report_form

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")


def _form(**overrides: object) -> dict[str, object]:
    return web_report_form(**{"description": "Deep hole by the bus stop", **overrides})


def test_the_report_page_offers_the_twelve_services_with_labels(catalog: None) -> None:
    response = Client().get("/report")

    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('name="service_code"') == ServiceType.objects.filter(active=True).count()
    assert ServiceType.objects.filter(active=True).count() == 12
    assert '<label for="description">' in html
    assert 'id="chat-widget"' in html
    assert "csrfmiddlewaretoken" in html


def test_a_plain_post_files_a_web_request_with_a_photo_and_shows_id_and_date(
    catalog: None,
) -> None:
    client = Client(enforce_csrf_checks=False)
    photo = SimpleUploadedFile("hole.jpg", jpeg_bytes(), content_type="image/jpeg")

    response = client.post("/report", _form(photos=[photo]))

    assert response.status_code == 302
    service_request = ServiceRequest.objects.get()
    assert service_request.channel == Channel.WEB
    assert service_request.attributes == {"size": "large"}
    assert Photo.objects.filter(service_request=service_request).count() == 1
    assert response["Location"] == f"/track/{service_request.public_id}?filed=1"
    page = client.get(response["Location"]).content.decode()
    assert service_request.public_id in page
    assert "We aim to deal with Pothole reports within 3 days — by " in page


def test_errors_are_shown_next_to_their_fields(catalog: None) -> None:
    response = Client().post(
        "/report",
        _form(**{"attr-pothole-size": "", "lat": "", "long": "", "contact_email": "not-mail"}),
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert 'class="error-summary"' in html
    assert 'id="attr-pothole-size-error"' in html
    assert 'id="email-error"' in html
    assert 'id="location-error"' in html
    assert not ServiceRequest.objects.exists()


def test_an_unknown_service_is_an_error_on_the_service_choice(catalog: None) -> None:
    response = Client().post("/report", _form(service_code=""))

    assert response.status_code == 400
    assert 'id="service-error"' in response.content.decode()


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "We aim to deal with Pothole reports within 3 days — by Thursday 26 November."),
        ("es", "jueves 26 de noviembre"),
        ("vi", "3 ngày"),
    ],
)
def test_the_turnaround_is_said_in_words_and_as_a_date(
    catalog: None, language: str, expected: str
) -> None:
    pothole = ServiceType.objects.get(service_code="pothole")
    with translation.override(language):
        sentence = turnaround_sentence(
            service_type=pothole, expected_at=datetime(2026, 11, 26, 10, 0, tzinfo=NY)
        )
    assert expected in sentence


def test_the_language_switch_translates_the_page(catalog: None) -> None:
    client = Client()
    client.post("/i18n/setlang/", {"language": "es", "next": "/report"})

    html = client.get("/report").content.decode()

    assert '<html lang="es">' in html
    assert "Informar de un problema" in html
    assert "Bache" in html  # the catalog's own translation


def test_the_track_json_carries_the_live_fragment(catalog: None) -> None:
    client = Client()
    client.post("/report", _form())
    public_id = ServiceRequest.objects.get().public_id

    body = client.get(f"/track/{public_id}/live").json()

    assert body["public_id"] == public_id
    assert body["status"] == "submitted"
    assert 'data-status="submitted"' in body["html"]
    assert client.get("/track/SR-1999-000001/live").status_code == 404


def test_nearby_open_reports_are_offered_before_submitting(catalog: None) -> None:
    client = Client()
    client.post("/report", _form())
    public_id = ServiceRequest.objects.get().public_id

    def around(service_code: str, east: float) -> list[str]:
        query = {"service_code": service_code, "lat": str(BOSTON[0]), "long": str(BOSTON[1] + east)}
        return [r["public_id"] for r in client.get("/report/nearby", query).json()["results"]]

    assert around("pothole", 0.0002) == [public_id]
    assert around("pothole", 0.01) == []
    assert around("graffiti", 0.0) == []
    assert client.get("/report/nearby", {"lat": "x"}).status_code == 400


def test_the_lookup_leads_to_the_track_page(catalog: None) -> None:
    client = Client()
    client.post("/report", _form())
    public_id = ServiceRequest.objects.get().public_id

    found = client.get("/track", {"id": public_id.lower()})
    missing = client.get("/track", {"id": "SR-1999-000001"})

    assert found.status_code == 302 and found["Location"] == f"/track/{public_id}"
    assert missing.status_code == 404
