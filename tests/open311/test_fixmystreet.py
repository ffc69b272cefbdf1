"""What a FixMyStreet install reads: ``services.xml``, ``requests.xml`` and
``servicerequestupdates.xml``. Golden files (tests/open311/golden/) hold the expected shapes;
ids that the database hands out are placeholders. FixMyStreet parses with XML::Simple: an
empty element would arrive as a true value, so a missing value must be a missing element."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rest_framework.test import APIClient

from backend.service_requests.models import CloseReason, ServiceRequest, ServiceRequestEvent
from backend.service_requests.services import (
    do_service_request_close,
    do_service_request_reopen,
    service_request_acknowledge,
    service_request_start,
)
from tests.factories import submit
from tests.open311.conftest import BASE, assert_xml_twin, get_both, openapi_validate, xml_parse

pytestmark = pytest.mark.django_db
GOLDEN = Path(__file__).parent / "golden"
NY = ZoneInfo("America/New_York")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=NY)


def shape(element: Any) -> tuple[str, str, list[Any]]:
    """An element as (tag, text, children), whitespace between elements ignored."""
    return (element.tag, (element.text or "").strip(), [shape(child) for child in element])


def assert_golden(content: bytes, name: str, replacements: dict[str, str]) -> None:
    expected = (GOLDEN / name).read_text()
    for placeholder, value in replacements.items():
        expected = expected.replace(placeholder, value)
    assert content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    assert shape(xml_parse(content)) == shape(xml_parse(expected.encode()))


def history() -> tuple[ServiceRequest, ServiceRequest]:
    """Two requests with a known history in March 2026."""
    first = submit("pothole", requested_at=at(2, 9, 30), address="12 Elm St", description="Deep")
    service_request_acknowledge(service_request=first, at=at(2, 11), public_note="Crew booked.")
    service_request_start(service_request=first, at=at(3, 8))
    do_service_request_close(
        service_request=first, reason=CloseReason.RESOLVED, at=at(3, 15), public_note="Filled."
    )
    second = submit("pothole", requested_at=at(4, 10), lat=42.3602)
    do_service_request_close(
        service_request=second,
        reason=CloseReason.DUPLICATE,
        duplicate_of=first,
        at=at(4, 12),
        public_note="Already reported.",
    )
    do_service_request_reopen(service_request=second, at=at(5, 9), public_note="Not the same hole.")
    return first, second


def event_ids(*requests: ServiceRequest) -> dict[str, str]:
    ids = {}
    for n, sr in enumerate(requests, 1):
        events = ServiceRequestEvent.objects.filter(service_request=sr).order_by("created_at")
        for m, event in enumerate(events, 1):
            ids[f"{{update{n}.{m}}}"] = str(event.pk)
        ids[f"{{sr{n}}}"] = sr.public_id
    return ids


def test_services_xml(catalog: None, api: APIClient) -> None:
    response = api.get(BASE + "services.xml")
    assert response.status_code == 200
    assert_golden(response.content, "services.xml", {})


def test_requests_xml(catalog: None, api: APIClient) -> None:
    first, second = history()
    params = {"start_date": "2026-03-01T00:00:00-05:00", "end_date": "2026-03-31T00:00:00-04:00"}
    status, data, xml = get_both(api, "requests", **params)
    assert status == 200
    assert_xml_twin(xml, data, root="service_requests", item="request")
    assert_golden(xml, "requests.xml", event_ids(first, second))


def test_servicerequestupdates_xml(catalog: None, api: APIClient) -> None:
    first, second = history()
    params = {"start_date": "2026-03-01T00:00:00Z", "end_date": "2026-03-06T00:00:00Z"}
    status, data, xml = get_both(api, "servicerequestupdates", **params)
    assert status == 200
    openapi_validate(data, path="/open311/v2/servicerequestupdates.json")
    assert_xml_twin(xml, data, root="service_requests_updates", item="request_update")
    assert_golden(xml, "servicerequestupdates.xml", event_ids(first, second))
    assert [u["status"] for u in data] == [
        "OPEN",
        "ACTION_SCHEDULED",
        "IN_PROGRESS",
        "FIXED",
        "OPEN",
        "DUPLICATE",
        "REOPEN",
    ]


def test_updates_window_and_paging(catalog: None, api: APIClient) -> None:
    history()
    _, data, _ = get_both(
        api,
        "servicerequestupdates",
        start_date="2026-03-03T00:00:00-05:00",
        end_date="2026-03-04T11:00:00-05:00",
    )
    assert [u["status"] for u in data] == ["IN_PROGRESS", "FIXED", "OPEN"]
    _, page2, _ = get_both(
        api,
        "servicerequestupdates",
        start_date="2026-03-01T00:00:00Z",
        end_date="2026-03-06T00:00:00Z",
        page="2",
        page_size="3",
    )
    assert [u["status"] for u in page2] == ["FIXED", "OPEN", "DUPLICATE"]
    # Default: the last 24 hours (nothing from March).
    assert get_both(api, "servicerequestupdates")[1] == []


@pytest.mark.parametrize(
    "params",
    [
        {"start_date": "2026-03-05T00:00:00Z", "end_date": "2026-03-01T00:00:00Z"},
        {"start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
        {"start_date": "last week"},
    ],
)
def test_updates_bad_dates_are_400(catalog: None, api: APIClient, params: dict[str, str]) -> None:
    status, errors, xml = get_both(api, "servicerequestupdates", **params)
    assert status == 400
    assert errors[0]["description"].split(":")[0] in {"start_date", "end_date"}
    assert_xml_twin(xml, errors, root="errors", item="error")


def test_base_url_without_or_with_doubled_slash(catalog: None, api: APIClient) -> None:
    """FixMyStreet appends ``services.xml`` to the endpoint it is given as it is."""
    normal = api.get("/open311/v2/services.xml").content
    assert api.get("/open311/v2services.xml").content == normal
    assert api.get("/open311/v2//services.xml").content == normal
    assert api.get("/open311/v2services/pothole.json").json()["service_code"] == "pothole"


@pytest.mark.parametrize(
    ("path", "root"),
    [("/open311/v2/nothing.xml", "errors"), ("/open311/v2/services.csv", None)],
)
def test_unknown_paths_answer_open311_errors(api: APIClient, path: str, root: str | None) -> None:
    response = api.get(path)
    assert response.status_code == 404
    if root:
        assert xml_parse(response.content).tag == "errors"
    else:
        assert response.json()[0]["code"] == 404
