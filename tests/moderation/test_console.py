"""Moderation in the supervisor console (/staff/workorders/<order>/moderation/<action>): the
department's supervisors hide, show again, redact and blur; refusals are pages naming the
field (400); a crew member is refused (403), another department's staff and residents find
nothing (404), a signed-out visitor is sent to sign in."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from backend.photos.models import Photo
from backend.service_requests.models import EventKind, ServiceRequest
from tests.moderation.conftest import DESCRIPTION, SECRET
from tests.workorders.factories import Staff, order_of, user_make

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(sr: ServiceRequest, action: str) -> str:
    return f"/staff/workorders/{order_of(sr).pk}/moderation/{action}"


def test_the_order_page_offers_moderation(staff: Staff, sr: ServiceRequest) -> None:
    page = _client(staff.supervisor).get(f"/staff/workorders/{order_of(sr).pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert _url(sr, "hide") in html and _url(sr, "redact") in html


def test_a_supervisor_hides_shows_again_and_redacts(staff: Staff, sr: ServiceRequest) -> None:
    console = _client(staff.supervisor)
    response = console.post(_url(sr, "hide"), {"reason": "Abusive"}, follow=True)
    assert response.status_code == 200
    sr.refresh_from_db()
    assert sr.hidden_at is not None and sr.hidden_reason == "Abusive"
    assert "Hidden from the public since" in response.content.decode()
    assert Client().get(f"/track/{sr.public_id}").status_code == 404

    response = console.post(_url(sr, "unhide"), {"reason": "Checked"}, follow=True)
    sr.refresh_from_db()
    assert sr.hidden_at is None
    assert Client().get(f"/track/{sr.public_id}").status_code == 200

    response = console.post(_url(sr, "redact"), {"text": SECRET, "reason": "Names someone"})
    assert response.status_code == 302
    sr.refresh_from_db()
    assert SECRET not in sr.description and sr.description_original == DESCRIPTION
    page = console.get(f"/staff/workorders/{order_of(sr).pk}").content.decode()
    assert "Description as filed (staff only)" in page
    kinds = set(sr.events.values_list("kind", flat=True))
    assert {EventKind.HIDDEN, EventKind.UNHIDDEN, EventKind.REDACTED} <= kinds
    assert set(sr.events.filter(kind=EventKind.HIDDEN).values_list("actor", flat=True)) == {
        staff.supervisor.pk
    }


@pytest.mark.parametrize(
    ("action", "data", "field"),
    [
        ("hide", {"reason": ""}, "reason"),
        ("hide", {}, "reason"),
        ("redact", {"text": "not in it", "reason": "why"}, "text"),
        ("redact", {"text": SECRET, "reason": "  "}, "reason"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(
    staff: Staff, sr: ServiceRequest, action: str, data: dict[str, str], field: str
) -> None:
    response = _client(staff.supervisor).post(_url(sr, action), data)
    assert response.status_code == 400
    assert f"<strong>{field}</strong>" in response.content.decode()
    sr.refresh_from_db()
    assert sr.hidden_at is None and sr.description == DESCRIPTION


def test_blur_from_the_console(staff: Staff, photo: Photo) -> None:
    sr = photo.service_request
    console = _client(staff.supervisor)
    assert (
        f"{_url(sr, 'blur')}"
        in console.get(f"/staff/workorders/{order_of(sr).pk}").content.decode()
    )
    name = photo.display.name
    data = {"photo": photo.pk, "x": "0.1", "y": "0.1", "w": "0.3", "h": "0.3", "reason": "Face"}
    assert console.post(_url(sr, "blur"), data).status_code == 302
    photo.refresh_from_db()
    assert photo.display.name != name and photo.blurred_at is not None
    bad = console.post(_url(sr, "blur"), {**data, "y": "1.5"})
    assert bad.status_code == 400 and "<strong>y</strong>" in bad.content.decode()


def test_outsiders_cannot_moderate(staff: Staff, sr: ServiceRequest) -> None:
    data = {"reason": "Abusive"}
    crew = _client(staff.crew).post(_url(sr, "hide"), data)
    assert crew.status_code == 403 and "<strong>role</strong>" in crew.content.decode()
    assert _client(staff.outsider).post(_url(sr, "hide"), data).status_code == 404
    assert _client(user_make("resident")).post(_url(sr, "hide"), data).status_code == 404
    signed_out = Client().post(_url(sr, "hide"), data)
    assert signed_out.status_code == 302 and "login" in signed_out["Location"]
    assert _client(staff.supervisor).post(_url(sr, "delete"), data).status_code == 404
    assert _client(staff.supervisor).get(_url(sr, "hide")).status_code == 405
    sr.refresh_from_db()
    assert sr.hidden_at is None
