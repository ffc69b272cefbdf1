"""The public Atom feeds: filters by circle, area and service (combined), newest first and
limited; only ``visible()``, live requests; public fields only; 400 naming a bad parameter."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest
from django.test import Client

from backend.service_requests.models import ServiceRequest, ServiceRequestQuerySet
from tests.alerts.conftest import CITY_HALL, FENWAY, WARD_1, WARD_2
from tests.factories import submit

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
FEED = "/feeds/requests.atom"
REPORTER = {
    "contact_name": "Rowena Quillfeather",
    "contact_email": "rowena.quillfeather@example.org",
    "contact_phone": "617-555-0199",
}


def _ids(answer: Any) -> list[str]:
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"].startswith("application/atom+xml")
    root = ElementTree.fromstring(answer.content)
    return [
        entry.findtext(f"{ATOM}id", "").rsplit(":", 1)[-1] for entry in root.findall(f"{ATOM}entry")
    ]


def _at(where: tuple[float, float], service_code: str = "pothole") -> ServiceRequest:
    return submit(service_code, lat=where[0], long=where[1], description="Deep hole", **REPORTER)


def test_feeds_filter_by_circle_area_and_service_newest_first(wards: None) -> None:
    first = _at(CITY_HALL)
    light = _at(CITY_HALL, "streetlight")
    fenway = _at(FENWAY)
    browser = Client()
    assert _ids(browser.get(FEED)) == [fenway.public_id, light.public_id, first.public_id]
    near = f"{FEED}?lat={CITY_HALL[0]}&long={CITY_HALL[1]}&radius_m=500"
    assert _ids(browser.get(near)) == [light.public_id, first.public_id]
    assert _ids(browser.get(f"{near}&service_code=pothole")) == [first.public_id]
    assert _ids(browser.get(f"{FEED}?area={WARD_2}")) == [fenway.public_id]
    assert _ids(browser.get(f"{FEED}?area={WARD_1}&service_code=streetlight")) == [light.public_id]
    assert _ids(browser.get(f"{FEED}?service_code=pothole")) == [
        fenway.public_id,
        first.public_id,
    ]


def test_feeds_are_limited(wards: None, settings: Any) -> None:
    settings.ALERTS_FEED_LIMIT = 2
    made = [_at(CITY_HALL) for _ in range(3)]
    assert _ids(Client().get(FEED)) == [made[2].public_id, made[1].public_id]


def test_feeds_show_no_hidden_no_imported_and_no_contact_data(
    wards: None, monkeypatch: Any
) -> None:
    shown = _at(CITY_HALL)
    hidden = _at(CITY_HALL)
    imported = _at(CITY_HALL)
    ServiceRequest.objects.filter(pk=imported.pk).update(channel="import")
    original = ServiceRequestQuerySet.visible
    monkeypatch.setattr(
        ServiceRequestQuerySet, "visible", lambda self: original(self).exclude(pk=hidden.pk)
    )
    answer = Client().get(FEED)
    assert _ids(answer) == [shown.public_id]
    body = answer.content.decode()
    assert "Deep hole" in body and f"/track/{shown.public_id}" in body
    for value in [*REPORTER.values(), "Rowena", "Quillfeather", "rowena.quillfeather"]:
        assert value not in body


def test_a_sensitive_services_feed_shows_the_street_only(wards: None) -> None:
    from backend.catalog.models import ServiceType

    ServiceType.objects.filter(service_code="pothole").update(sensitive_location=True)
    submit(lat=CITY_HALL[0], long=CITY_HALL[1], address="12 Elm Street")
    body = Client().get(FEED).content.decode()
    assert "Elm Street" in body and "12 Elm" not in body


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (f"lat={CITY_HALL[0]}&long={CITY_HALL[1]}&radius_m=5001", "radius_m"),
        (f"lat={CITY_HALL[0]}&long={CITY_HALL[1]}", "radius_m"),
        (f"lat=north&long={CITY_HALL[1]}&radius_m=100", "lat"),
        (f"lat={CITY_HALL[0]}&radius_m=100", "long"),
        (f"lat=95&long={CITY_HALL[1]}&radius_m=100", "lat"),
        ("radius_m=100", "radius_m"),
        ("area=atlantis", "area"),
        ("service_code=unicorns", "service_code"),
    ],
)
def test_bad_feed_parameters_are_400_naming_them(wards: None, query: str, field: str) -> None:
    answer = Client().get(f"{FEED}?{query}")
    assert answer.status_code == 400
    assert answer.content.decode().startswith(f"{field}:")
