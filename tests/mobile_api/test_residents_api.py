"""Residents: nearby requests, my requests, the timeline, follow / unfollow, feedback."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from backend.service_requests.models import RequestFollower, ServiceRequest
from tests.conftest import BOSTON, pothole_payload
from tests.factories import submit
from tests.openapi import assert_matches_schema
from tests.workorders.factories import Staff, order_in, request_make
from workorders.models import Feedback, WorkOrderStatus

pytestmark = pytest.mark.django_db

NEARBY = "/mobile/v1/requests/nearby"
MINE = "/mobile/v1/me/requests"


def test_nearby_lists_open_requests_of_the_type_nearest_first(
    catalog: None, api: APIClient
) -> None:
    # Given two potholes 10 m and 30 m away, a far one and a streetlight at the point
    near = submit(lat=BOSTON[0] + 0.00009)
    farther = submit(lat=BOSTON[0] + 0.00027)
    submit(lat=BOSTON[0] + 0.01)
    submit("streetlight")
    # When a resident looks before filing a pothole there
    query: dict[str, Any] = {"service_code": "pothole", "lat": BOSTON[0], "long": BOSTON[1]}
    response = api.get(NEARBY, query)
    # Then only the two near potholes come, nearest first, without contact data
    assert response.status_code == 200
    body = response.json()
    assert_matches_schema(body, path=NEARBY, method="get", status=200)
    assert [r["service_request_id"] for r in body] == [near.public_id, farther.public_id]
    assert body[0]["distance_m"] < body[1]["distance_m"] <= 50


@pytest.mark.parametrize(
    ("query", "field", "status"),
    [
        ({"lat": 42.36, "long": -71.05}, "service_code", 400),
        ({"service_code": "pothole", "lat": 95, "long": -71.05}, "lat", 400),
        ({"service_code": "pothole", "lat": 42.36}, "long", 400),
        ({"service_code": "unicorn", "lat": 42.36, "long": -71.05}, "service_code", 404),
    ],
)
def test_nearby_bad_input_names_the_field(
    catalog: None, api: APIClient, query: dict[str, Any], field: str, status: int
) -> None:
    response = api.get(NEARBY, query)
    assert response.status_code == status
    assert field in response.json()["errors"]


def test_my_requests_show_only_mine_with_my_contact_data(
    resident: User, resident_api: APIClient, outsider_api: APIClient, api: APIClient
) -> None:
    payload = pothole_payload(contact={"name": "Rita", "email": "rita@example.org"})
    created = resident_api.post("/mobile/v1/requests", payload, format="json").json()
    submit(contact_email="someone@example.org")  # somebody else's
    body = resident_api.get(MINE).json()
    assert_matches_schema(body, path=MINE, method="get", status=200)
    assert [r["service_request_id"] for r in body] == [created["service_request_id"]]
    assert body[0]["contact"] == {"name": "Rita", "email": "rita@example.org", "phone": ""}
    # The outsider sees none of it; nobody signed in is refused
    assert outsider_api.get(MINE).json() == []
    assert api.get(MINE).status_code == 401


def test_timeline_shows_public_events_and_report_and_proof_photos(
    staff: Staff, api: APIClient
) -> None:
    order = order_in(WorkOrderStatus.COMPLETED, staff=staff)
    sr = order.service_request
    response = api.get(f"/mobile/v1/requests/{sr.public_id}/timeline")
    assert response.status_code == 200
    body = response.json()
    assert_matches_schema(
        body, path="/mobile/v1/requests/{public_id}/timeline", method="get", status=200
    )
    assert body["status"] == "closed"
    assert [p["kind"] for p in body["photos"]] == ["proof"]
    assert body["events"][0]["to_status"] == "submitted"
    assert body["events"][-1]["to_status"] == "closed"
    assert "example.org" not in json.dumps(body)
    missing = api.get("/mobile/v1/requests/SR-2026-999999/timeline")
    assert missing.status_code == 404 and "public_id" in missing.json()["errors"]


def test_follow_and_unfollow(resident: User, resident_api: APIClient, api: APIClient) -> None:
    sr = submit()
    url = f"/mobile/v1/requests/{sr.public_id}/follow"
    response = resident_api.post(url)
    assert response.status_code == 200
    assert_matches_schema(
        response.json(), path="/mobile/v1/requests/{public_id}/follow", method="post", status=200
    )
    resident_api.post(url)  # again: still one follow
    assert RequestFollower.objects.filter(service_request=sr, user=resident).count() == 1
    response = resident_api.delete(url)
    assert response.status_code == 200 and response.json()["following"] is False
    assert not RequestFollower.objects.filter(service_request=sr, user=resident).exists()
    # Unknown requests are 404, nobody signed in 401
    assert resident_api.post("/mobile/v1/requests/SR-2026-999999/follow").status_code == 404
    assert resident_api.delete("/mobile/v1/requests/SR-2026-999999/follow").status_code == 404
    assert api.post(url).status_code == 401


def _closed_request_of(resident: User, staff: Staff) -> ServiceRequest:
    sr = request_make(reporter=resident)
    order_in(WorkOrderStatus.COMPLETED, staff=staff, service_request=sr)
    sr.refresh_from_db()
    return sr


def test_feedback_not_fixed_reopens_my_request(
    resident: User, resident_api: APIClient, staff: Staff
) -> None:
    sr = _closed_request_of(resident, staff)
    url = f"/mobile/v1/requests/{sr.public_id}/feedback"
    response = resident_api.post(url, {"fixed": False, "comment": "Still there"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert_matches_schema(
        body, path="/mobile/v1/requests/{public_id}/feedback", method="post", status=201
    )
    assert body["reopened"] is True and body["status"] != "closed"
    assert Feedback.objects.get().comment == "Still there"


def test_feedback_twice_is_409_and_before_closing_409(
    resident: User, resident_api: APIClient, staff: Staff
) -> None:
    sr = _closed_request_of(resident, staff)
    url = f"/mobile/v1/requests/{sr.public_id}/feedback"
    assert resident_api.post(url, {"fixed": True, "rating": 5}, format="json").status_code == 201
    assert resident_api.post(url, {"fixed": True}, format="json").status_code == 409
    open_one = request_make(reporter=resident)
    late = resident_api.post(
        f"/mobile/v1/requests/{open_one.public_id}/feedback", {"fixed": True}, format="json"
    )
    assert late.status_code == 409 and "status" in late.json()["errors"]


def test_feedback_by_an_outsider_is_404(
    resident: User, outsider_api: APIClient, resident_api: APIClient, api: APIClient, staff: Staff
) -> None:
    sr = _closed_request_of(resident, staff)
    url = f"/mobile/v1/requests/{sr.public_id}/feedback"
    response = outsider_api.post(url, {"fixed": False}, format="json")
    assert response.status_code == 404
    assert api.post(url, {"fixed": False}, format="json").status_code == 401
    assert not Feedback.objects.exists()
    bad = resident_api.post(url, {"fixed": True, "rating": 9}, format="json")
    assert bad.status_code == 400 and "rating" in bad.json()["errors"]
