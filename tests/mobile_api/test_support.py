"""Support ("me too"): POST/DELETE /mobile/v1/requests/{public_id}/support, once per person
(an account, or the app's device id without one), and the count wherever a request is shown:
the mobile API's public views, the track page, Open311 with extensions, the open data, and the
console's and the crew's queues sorted by it."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from backend.service_requests.models import (
    RequestFollower,
    RequestSupporter,
    ServiceRequest,
)
from backend.service_requests.services import do_service_request_close
from backend.service_requests.support import service_request_support_add
from tests.conftest import BOSTON
from tests.factories import submit
from tests.open311.conftest import (
    assert_xml_twin,
    georeport_validate,
    get_both,
    openapi_validate,
)
from tests.openapi import assert_matches_schema
from tests.workorders.factories import Staff, order_in, order_of, request_make, user_make
from workorders.models import WorkOrderStatus

pytestmark = pytest.mark.django_db

SUPPORT = "/mobile/v1/requests/{public_id}/support"
PHONE = "3f1c2a9e-7b44-4d0e-9a51-0c6f7e2b8d13"
OTHER_PHONE = "b0d7e1aa-2c3f-4f6b-8e9d-51a2c7f4e0b2"


def _url(sr: ServiceRequest) -> str:
    return SUPPORT.format(public_id=sr.public_id)


def _supported_by(sr: ServiceRequest, count: int) -> ServiceRequest:
    """``count`` people (devices) report ``sr`` too, through the service."""
    for number in range(count):
        service_request_support_add(service_request=sr, device_id=f"test-device-{number:012d}")
    sr.refresh_from_db()
    return sr


def test_a_resident_supports_once_however_often_they_send_it(
    resident: User, resident_api: APIClient, outsider_api: APIClient, api: APIClient
) -> None:
    # Given an open request someone else filed
    sr = submit()
    # When a signed-in resident says "me too"
    first = resident_api.post(_url(sr), format="json")
    # Then it is counted: 201 with the count, as documented
    assert first.status_code == 201, first.content
    assert_matches_schema(first.json(), path=SUPPORT, method="post", status=201)
    assert first.json() == {
        "service_request_id": sr.public_id,
        "supporters": 1,
        "supporting": True,
        "following": False,
    }
    # Sending it again counts once (200, the same count)
    again = resident_api.post(_url(sr), {}, format="json")
    assert again.status_code == 200
    assert_matches_schema(again.json(), path=SUPPORT, method="post", status=200)
    assert again.json()["supporters"] == 1
    # Another resident counts too
    assert outsider_api.post(_url(sr)).json()["supporters"] == 2
    assert RequestSupporter.objects.filter(service_request=sr).count() == 2
    # And the public views show the count, never who
    detail = api.get(f"/mobile/v1/requests/{sr.public_id}")
    assert_matches_schema(
        detail.json(), path="/mobile/v1/requests/{public_id}", method="get", status=200
    )
    assert detail.json()["supporters"] == 2
    assert "rita@example.org" not in detail.content.decode()
    query: dict[str, Any] = {"service_code": "pothole", "lat": BOSTON[0], "long": BOSTON[1]}
    nearby = api.get("/mobile/v1/requests/nearby", query).json()
    assert_matches_schema(nearby, path="/mobile/v1/requests/nearby", method="get", status=200)
    assert [r["supporters"] for r in nearby if r["service_request_id"] == sr.public_id] == [2]


def test_my_requests_show_how_many_reported_mine_too(
    resident: User, resident_api: APIClient, outsider_api: APIClient
) -> None:
    mine = submit(reporter=resident)
    outsider_api.post(_url(mine))
    body = resident_api.get("/mobile/v1/me/requests").json()
    assert_matches_schema(body, path="/mobile/v1/me/requests", method="get", status=200)
    assert [r["supporters"] for r in body] == [1]


def test_an_app_without_an_account_supports_by_its_device_id(api: APIClient) -> None:
    sr = submit()
    # The same device twice counts once; another device counts again
    assert api.post(_url(sr), HTTP_DEVICE_ID=PHONE).status_code == 201
    assert api.post(_url(sr), HTTP_DEVICE_ID=PHONE).status_code == 200
    answer = api.post(_url(sr), {}, format="json", HTTP_DEVICE_ID=OTHER_PHONE)
    assert answer.status_code == 201 and answer.json()["supporters"] == 2
    # The id is kept hashed, never as sent
    hashes = set(RequestSupporter.objects.values_list("device_hash", flat=True))
    assert len(hashes) == 2 and PHONE not in hashes and all(len(h) == 64 for h in hashes)
    # Neither an account nor a device id, or a malformed one: 400 naming the header
    wrong_headers: list[dict[str, Any]] = [
        {},
        {"HTTP_DEVICE_ID": "short"},
        {"HTTP_DEVICE_ID": "x" * 16 + " y"},
    ]
    for headers in wrong_headers:
        refused = api.post(_url(sr), **headers)
        assert refused.status_code == 400, headers
        assert "Device-Id" in refused.json()["errors"]
    # Following needs an account
    refused = api.post(_url(sr), {"follow": True}, format="json", HTTP_DEVICE_ID=PHONE)
    assert refused.status_code == 400 and "follow" in refused.json()["errors"]
    # A body that is not an object, or a follow that is not a boolean: 400 naming it
    assert "body" in api.post(_url(sr), [1], format="json", HTTP_DEVICE_ID=PHONE).json()["errors"]
    wrong = api.post(_url(sr), {"follow": "perhaps"}, format="json", HTTP_DEVICE_ID=PHONE)
    assert wrong.status_code == 400 and "follow" in wrong.json()["errors"]
    sr.refresh_from_db()
    assert sr.supporters_count == 2


def test_delete_takes_back_only_my_own_support(
    resident: User, resident_api: APIClient, outsider_api: APIClient, api: APIClient
) -> None:
    sr = submit()
    resident_api.post(_url(sr))
    api.post(_url(sr), HTTP_DEVICE_ID=PHONE)
    # An outsider (another resident, another device) cannot remove anyone else's support
    outsider = outsider_api.delete(_url(sr))
    assert outsider.status_code == 200
    assert_matches_schema(outsider.json(), path=SUPPORT, method="delete", status=200)
    assert outsider.json()["supporters"] == 2 and outsider.json()["supporting"] is False
    assert api.delete(_url(sr), HTTP_DEVICE_ID=OTHER_PHONE).json()["supporters"] == 2
    assert api.delete(_url(sr)).status_code == 400  # anonymous without a device id
    # The supporters themselves can
    assert resident_api.delete(_url(sr)).json()["supporters"] == 1
    assert api.delete(_url(sr), HTTP_DEVICE_ID=PHONE).json()["supporters"] == 0
    # Taking back twice does not go below zero
    assert resident_api.delete(_url(sr)).json()["supporters"] == 0
    sr.refresh_from_db()
    assert sr.supporters_count == 0 and not RequestSupporter.objects.exists()
    # And supporting again counts again
    assert resident_api.post(_url(sr)).status_code == 201


def test_a_closed_request_takes_no_support_and_an_unknown_one_is_404(
    resident_api: APIClient, api: APIClient
) -> None:
    sr = submit()
    do_service_request_close(service_request=sr, reason="resolved")
    refused = resident_api.post(_url(sr))
    assert refused.status_code == 409
    assert "status" in refused.json()["errors"]
    assert refused.json()["current_status"] == "closed"
    assert not RequestSupporter.objects.exists()
    callers: list[tuple[APIClient, dict[str, Any]]] = [
        (resident_api, {}),
        (api, {"HTTP_DEVICE_ID": PHONE}),
    ]
    for client, headers in callers:
        for method in (client.post, client.delete):
            missing = method("/mobile/v1/requests/SR-2026-999999/support", **headers)
            assert missing.status_code == 404
            assert "public_id" in missing.json()["errors"]
    # A bad token is refused before anything else
    stranger = APIClient()
    stranger.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    assert stranger.post(_url(sr)).status_code == 401


def test_a_supporter_may_follow_the_request(resident: User, resident_api: APIClient) -> None:
    sr = submit()
    answer = resident_api.post(_url(sr), {"follow": True}, format="json")
    assert answer.status_code == 201 and answer.json()["following"] is True
    follower = RequestFollower.objects.get(service_request=sr, user=resident)
    assert follower.source == "support"
    # Supporting again with follow adds no second follow; taking support back keeps it
    resident_api.post(_url(sr), {"follow": True}, format="json")
    assert RequestFollower.objects.filter(service_request=sr).count() == 1
    assert resident_api.delete(_url(sr)).json()["following"] is True


def test_open311_shows_the_count_with_extensions_only(catalog: None, api: APIClient) -> None:
    sr = _supported_by(submit(), 3)
    for path in ("requests", f"requests/{sr.public_id}"):
        status, plain, _xml = get_both(api, path)
        assert status == 200 and "supporters" not in plain[0]
        status, data, xml = get_both(api, path, extensions="true")
        assert status == 200
        georeport_validate(data, "requests")
        openapi_validate(
            data,
            path="/open311/v2/requests.json"
            if path == "requests"
            else "/open311/v2/requests/{service_request_id}.json",
        )
        assert_xml_twin(xml, data, root="service_requests", item="request")
        assert [r["supporters"] for r in data] == [3]
        assert b"<supporters>3</supporters>" in xml


def test_open_data_has_the_count_as_its_last_column(catalog: None, client: Client) -> None:
    sr = _supported_by(submit(), 2)
    quiet = submit("streetlight")
    response = client.get("/open-data/requests.csv")
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    header = next(csv.reader(io.StringIO(text)))
    assert header[-1] == "supporters"
    rows = {r["service_request_id"]: r for r in csv.DictReader(io.StringIO(text))}
    assert rows[sr.public_id]["supporters"] == "2"
    assert rows[quiet.public_id]["supporters"] == "0"
    geojson = client.get("/open-data/requests.geojson")
    document = json.loads(b"".join(geojson.streaming_content))  # type: ignore[attr-defined]
    counts = {
        f["properties"]["service_request_id"]: f["properties"]["supporters"]
        for f in document["features"]
    }
    assert counts[sr.public_id] == 2


def test_the_track_page_says_how_many_reported_it_too(catalog: None, client: Client) -> None:
    sr = submit()
    assert "reported this too" not in client.get(f"/track/{sr.public_id}").content.decode()
    _supported_by(sr, 1)
    assert "1 person reported this too." in client.get(f"/track/{sr.public_id}").content.decode()
    _supported_by(sr, 12)  # the same first device again, and eleven more
    page = client.get(f"/track/{sr.public_id}").content.decode()
    assert "12 people reported this too." in page
    live = client.get(f"/track/{sr.public_id}/live").json()
    assert live["supporters"] == 12 and "12 people reported this too." in live["html"]


def test_the_console_queue_sorts_by_supporters(staff: Staff) -> None:
    due_first = order_of(request_make("pothole"))
    supported = order_of(request_make("pothole", lat=BOSTON[0] + 0.01))
    _supported_by(supported.service_request, 2)
    console = Client()
    console.force_login(staff.supervisor)
    by_due = console.get("/staff/workorders/")
    assert [o.pk for o in by_due.context["page"]] == [due_first.pk, supported.pk]
    by_support = console.get("/staff/workorders/", {"sort": "supporters"})
    assert by_support.status_code == 200
    assert [o.pk for o in by_support.context["page"]] == [supported.pk, due_first.pk]
    html = by_support.content.decode()
    assert "2 supporters" in html and "most supporters first" in html
    # Another department's supervisor sees neither order, sorted or not
    outsider = Client()
    outsider.force_login(user_make("other-sup", is_staff=True))
    assert outsider.get("/staff/workorders/", {"sort": "supporters"}).status_code == 403


def test_the_crew_queue_sorts_by_supporters(
    staff: Staff, crew_api: APIClient, outsider_api: APIClient
) -> None:
    due_first = order_in(WorkOrderStatus.ASSIGNED, staff=staff)
    supported = order_in(
        WorkOrderStatus.ASSIGNED,
        staff=staff,
        service_request=request_make("pothole", lat=BOSTON[0] + 0.01),
    )
    _supported_by(supported.service_request, 1)
    url = "/mobile/v1/crew/workorders"
    by_due = crew_api.get(url).json()
    assert [o["id"] for o in by_due] == [due_first.pk, supported.pk]
    answer = crew_api.get(url, {"sort": "supporters"})
    assert answer.status_code == 200
    body: list[dict[str, Any]] = answer.json()
    assert_matches_schema(body, path=url, method="get", status=200)
    assert [o["id"] for o in body] == [supported.pk, due_first.pk]
    assert [o["service_request"]["supporters"] for o in body] == [1, 0]
    refused = crew_api.get(url, {"sort": "loudest"})
    assert refused.status_code == 400 and "sort" in refused.json()["errors"]
    # A resident who is not crew gets none of the team's orders
    assert outsider_api.get(url, {"sort": "supporters"}).json() == []


def test_no_public_answer_shows_who_supports(
    resident: User, resident_api: APIClient, api: APIClient, client: Client
) -> None:
    sr = submit()
    resident_api.post(_url(sr), {"follow": True}, format="json")
    api.post(_url(sr), HTTP_DEVICE_ID=PHONE)
    stored = RequestSupporter.objects.exclude(device_hash="").get().device_hash
    secrets = (PHONE, stored, resident.email, resident.username)
    answers = [
        api.get(f"/mobile/v1/requests/{sr.public_id}").content,
        api.get(f"/mobile/v1/requests/{sr.public_id}/timeline").content,
        api.get(f"/open311/v2/requests/{sr.public_id}.json", {"extensions": "true"}).content,
        api.get("/open311/v2/requests.xml", {"extensions": "true"}).content,
        client.get(f"/track/{sr.public_id}").content,
        b"".join(client.get("/open-data/requests.csv").streaming_content),  # type: ignore[attr-defined]
    ]
    for body in answers:
        text = body.decode()
        assert [s for s in secrets if s in text] == [], text[:200]
