"""A hidden request is gone from every public read, as if it did not exist: Open311 (lists,
single request, updates; JSON and XML), the track page, the mobile API's public views,
"me too", following, a partner's update, the open-data export, the duplicate offered after
filing and the public websocket. A list an Open311 poller was served before is not served
again once a request in it is hidden or redacted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from backend.open311.services import api_key_create
from backend.service_requests.models import ServiceRequest
from backend.service_requests.moderation import service_request_hide, service_request_redact
from backend.service_requests.support import service_request_support_add
from tests.conftest import BOSTON
from tests.factories import submit
from tests.moderation.conftest import SECRET
from tests.security.conftest import fresh_address
from tests.workorders.factories import token_client, user_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def hidden(sr: ServiceRequest) -> ServiceRequest:
    service_request_hide(service_request=sr, reason="Abusive")
    return sr


def _body(response: Any) -> str:
    return (b"".join(getattr(response, "streaming_content", [])) or response.content).decode()


def test_open311_answers_404_and_lists_leave_it_out(hidden: ServiceRequest) -> None:
    other = submit("pothole", description="Another hole")
    browser = Client()
    for fmt in ("json", "xml"):
        single = browser.get(f"/open311/v2/requests/{hidden.public_id}.{fmt}")
        assert single.status_code == 404, fmt
        assert "service_request_id" in _body(single)
        for query in ("", f"?service_request_id={hidden.public_id},{other.public_id}"):
            listed = browser.get(f"/open311/v2/requests.{fmt}{query}")
            assert listed.status_code == 200
            assert hidden.public_id not in _body(listed)
            assert other.public_id in _body(listed)
        updates = browser.get(f"/open311/v2/servicerequestupdates.{fmt}")
        assert hidden.public_id not in _body(updates)


def test_pages_and_the_mobile_api_answer_404(hidden: ServiceRequest) -> None:
    browser = Client()
    for path in (
        f"/track/{hidden.public_id}",
        f"/track/{hidden.public_id}/live",
        f"/track?id={hidden.public_id}",
        f"/mobile/v1/requests/{hidden.public_id}",
        f"/mobile/v1/requests/{hidden.public_id}/timeline",
    ):
        assert browser.get(path).status_code == 404, path
    for path in (
        f"/mobile/v1/requests/nearby?service_code=pothole&lat={BOSTON[0]}&long={BOSTON[1]}",
        f"/report/nearby?service_code=pothole&lat={BOSTON[0]}&long={BOSTON[1]}",
        "/open-data/requests.csv",
        "/open-data/requests.geojson",
    ):
        response = browser.get(path)
        assert response.status_code == 200, path
        assert hidden.public_id not in _body(response), path


def test_support_and_following_a_hidden_request_are_404(hidden: ServiceRequest) -> None:
    device = APIClient(REMOTE_ADDR=fresh_address())
    device.credentials(HTTP_DEVICE_ID="device-0123456789abcdef")
    path = f"/mobile/v1/requests/{hidden.public_id}/support"
    for response in (device.post(path, {}, format="json"), device.delete(path)):
        assert response.status_code == 404
        assert "public_id" in response.json()["errors"]
    resident = token_client(user_make("resident"))
    follow = resident.post(f"/mobile/v1/requests/{hidden.public_id}/follow")
    assert follow.status_code == 404
    hidden.refresh_from_db()
    assert hidden.supporters_count == 0


def test_support_of_a_request_hidden_meanwhile_is_404(sr: ServiceRequest) -> None:
    from backend.errors import City311Error

    found = ServiceRequest.objects.get(pk=sr.pk)  # looked up before it was hidden
    service_request_hide(service_request=sr, reason="Abusive")
    with pytest.raises(City311Error) as exc:
        service_request_support_add(service_request=found, device_id="device-0123456789abcdef")
    assert exc.value.status == 404 and exc.value.field == "public_id"


def test_a_partner_update_on_a_hidden_request_is_404(hidden: ServiceRequest) -> None:
    key = api_key_create(name="fixmystreet", channel="open311", may_post_updates=True).raw
    form = {
        "api_key": key,
        "service_request_id": hidden.public_id,
        "update_id": "fms-1",
        "status": "OPEN",
        "description": "Still there",
        "updated_datetime": "2026-03-02T09:30:00-05:00",
    }
    for fmt in ("json", "xml"):
        response = APIClient().post(f"/open311/v2/servicerequestupdates.{fmt}", form)
        assert response.status_code == 404, fmt
        assert "service_request_id" in response.content.decode()
    assert not hidden.comments.exists()


def test_the_duplicate_offered_after_filing_is_never_a_hidden_one(hidden: ServiceRequest) -> None:
    from backend.intake.services import duplicate_find

    assert hidden.location is not None
    duplicate, _ = duplicate_find(
        service_type=hidden.service_type, point=hidden.location, at=hidden.requested_at
    )
    assert duplicate is None


def test_a_cached_open311_list_is_not_served_after_moderation(
    sr: ServiceRequest, settings: Any
) -> None:
    from backend.process_cache import process_caches_clear

    settings.OPEN311_LIST_CACHE_SECONDS = 300
    process_caches_clear()
    other = submit("pothole", description="Another hole")
    browser = Client()
    try:
        for fmt in ("json", "xml"):
            first = _body(browser.get(f"/open311/v2/requests.{fmt}"))
            assert sr.public_id in first and SECRET in first
        # Cached now: a change that is not moderation is not seen for a while ...
        ServiceRequest.objects.filter(pk=other.pk).update(address="Cached Street")
        assert "Cached Street" not in _body(browser.get("/open311/v2/requests.json"))
        # ... but a redaction is, at once,
        service_request_redact(service_request=sr, text=SECRET, reason="Names a neighbour")
        for fmt in ("json", "xml"):
            body = _body(browser.get(f"/open311/v2/requests.{fmt}"))
            assert SECRET not in body and "[removed by moderator]" in body
        # and so is hiding.
        service_request_hide(service_request=sr, reason="Abusive")
        for fmt in ("json", "xml"):
            assert sr.public_id not in _body(browser.get(f"/open311/v2/requests.{fmt}"))
        rows = json.loads(_body(browser.get("/open311/v2/requests.json")))
        assert other.public_id in [row["service_request_id"] for row in rows]
    finally:
        process_caches_clear()


def test_a_redacted_description_reads_with_the_marker_everywhere(sr: ServiceRequest) -> None:
    service_request_redact(service_request=sr, text=SECRET, reason="Names someone")
    browser = Client()
    detail = browser.get(f"/mobile/v1/requests/{sr.public_id}").json()
    assert detail["description"] == "Deep hole outside 12 Elm St, [removed by moderator]"
    for path in (
        f"/open311/v2/requests/{sr.public_id}.json",
        f"/open311/v2/requests/{sr.public_id}.xml",
        "/open311/v2/requests.json?q=Fenwick",
        f"/mobile/v1/requests/nearby?service_code=pothole&lat={BOSTON[0]}&long={BOSTON[1]}",
        "/open-data/requests.csv",
    ):
        response = browser.get(path)
        assert response.status_code == 200, path
        assert "Fenwick" not in _body(response), path


def test_the_reporter_sees_the_redacted_text_too(catalog: None) -> None:
    reporter = user_make("reporter")
    sr = submit("pothole", description=f"Hole. {SECRET}", reporter=reporter)
    service_request_redact(service_request=sr, text=SECRET, reason="Names someone")
    mine = token_client(reporter).get("/mobile/v1/me/requests")
    assert mine.status_code == 200
    assert "Fenwick" not in mine.content.decode()
    assert sr.public_id in mine.content.decode()


def test_a_hidden_original_is_not_named_by_its_duplicates(catalog: None) -> None:
    from backend.cases.merge import service_request_merge

    original = submit("pothole", description="The first report")
    copy = submit("pothole", description="The same hole", lat=BOSTON[0] + 0.0001)
    service_request_merge(service_request=copy, into=original, note="")
    browser = Client()
    path = f"/open311/v2/requests/{copy.public_id}.json?extensions=true"
    assert browser.get(path).json()[0]["duplicate"] == original.public_id
    service_request_hide(service_request=original, reason="Abusive")
    # (The merge's public note may still name it: text of the copy's own history.)
    (row,) = browser.get(path).json()
    assert row["duplicate"] is None and row["parent_service_request_id"] is None
    xml = _body(browser.get(f"/open311/v2/requests/{copy.public_id}.xml?extensions=true"))
    assert f"<duplicate>{original.public_id}" not in xml
    assert f"<parent_service_request_id>{original.public_id}" not in xml
    detail = browser.get(f"/mobile/v1/requests/{copy.public_id}").json()
    assert detail["duplicate_of"] is None
