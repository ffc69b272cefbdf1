"""Crews: /mobile/v1/crew/workorders — the team's orders, one order, and the offline-safe
actions start / hold / complete (idempotency key and the phone's time)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from backend.intake.services import PhotoUpload
from tests.conftest import BOSTON, jpeg_bytes
from tests.openapi import assert_matches_schema
from tests.workorders.factories import (
    Staff,
    good_proof,
    order_in,
    order_of,
    request_make,
    token_client,
)
from workorders.models import WorkOrder, WorkOrderEvent, WorkOrderEventKind, WorkOrderStatus
from workorders.services import work_order_assign

pytestmark = pytest.mark.django_db

LIST = "/mobile/v1/crew/workorders"


def url(order: WorkOrder, action: str = "") -> str:
    return f"{LIST}/{order.pk}" + (f"/{action}" if action else "")


def when(minutes_ago: int = 5) -> str:
    return (timezone.now() - timedelta(minutes=minutes_ago)).isoformat()


def test_list_shows_my_teams_orders_by_due_time_with_filters(
    staff: Staff, crew_api: APIClient
) -> None:
    # Given orders of the crew's team, of the other team and of nobody yet
    mine_assigned = order_in(WorkOrderStatus.ASSIGNED, staff=staff)
    mine_started = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff)
    order_in(WorkOrderStatus.NEW, staff=staff)
    far = order_in(
        WorkOrderStatus.ASSIGNED,
        staff=staff,
        service_request=request_make(lat=BOSTON[0] + 0.05, long=BOSTON[1]),
    )
    # When the crew lists its work
    response = crew_api.get(LIST)
    # Then only its team's orders come, by due time, with the request's photos and place
    assert response.status_code == 200
    body = response.json()
    assert_matches_schema(body, path=LIST, method="get", status=200)
    ids = [o["id"] for o in body]
    assert sorted(ids) == sorted([mine_assigned.pk, mine_started.pk, far.pk])
    dues = [o["due_at"] for o in body]
    assert dues == sorted(dues)
    assert body[0]["service_request"]["lat"] is not None
    # Filters: status, repeated; bounding box around the city centre
    started = crew_api.get(LIST, {"status": "in_progress"}).json()
    assert [o["id"] for o in started] == [mine_started.pk]
    bbox = f"{BOSTON[1] - 0.01},{BOSTON[0] - 0.01},{BOSTON[1] + 0.01},{BOSTON[0] + 0.01}"
    boxed = crew_api.get(LIST, {"bbox": bbox}).json()
    assert far.pk not in [o["id"] for o in boxed] and len(boxed) == 2


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "sleeping"}, "status"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "5,0,1,0"}, "bbox"),
    ],
)
def test_list_bad_filters_name_the_field(
    staff: Staff, crew_api: APIClient, query: dict[str, str], field: str
) -> None:
    response = crew_api.get(LIST, query)
    assert response.status_code == 400 and field in response.json()["errors"]


def test_other_departments_and_teams_see_nothing(staff: Staff, api: APIClient) -> None:
    order = order_in(WorkOrderStatus.ASSIGNED, staff=staff)
    for user in (staff.outsider, staff.other_crew):
        client = token_client(user)
        assert client.get(LIST).json() == []
        assert client.get(url(order)).status_code == 404
        response = client.post(
            url(order, "start"), {"client_at": when()}, format="json", HTTP_IDEMPOTENCY_KEY="o-1"
        )
        assert response.status_code == 404
    assert api.get(LIST).status_code == 401
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.ASSIGNED


def test_detail_has_the_requests_photos_and_location(staff: Staff, crew_api: APIClient) -> None:
    sr = request_make(photos=[PhotoUpload(data=jpeg_bytes(), field="photos")])
    order = order_in(WorkOrderStatus.ASSIGNED, staff=staff, service_request=sr)
    response = crew_api.get(url(order))
    assert response.status_code == 200
    body = response.json()
    assert_matches_schema(body, path=f"{LIST}/{{id}}", method="get", status=200)
    assert [p["kind"] for p in body["request_photos"]] == ["report"]
    assert body["service_request"]["lat"] == pytest.approx(BOSTON[0])
    assert crew_api.get(f"{LIST}/999999999").status_code == 404
    assert crew_api.get(f"{LIST}/{2**63}").status_code == 404


def test_start_is_replayed_for_the_same_key_and_refused_for_another_body(
    staff: Staff, crew_api: APIClient
) -> None:
    order = work_order_assign(
        work_order=order_of(request_make()),
        team=staff.team,
        actor=staff.supervisor,
        at=timezone.now() - timedelta(hours=1),
    )
    acted_at = when(minutes_ago=30)
    payload = {"client_at": acted_at, "note": "On site"}
    first = crew_api.post(url(order, "start"), payload, format="json", HTTP_IDEMPOTENCY_KEY="s-1")
    assert first.status_code == 200, first.content
    assert_matches_schema(first.json(), path=f"{LIST}/{{id}}/start", method="post", status=200)
    assert first.json()["status"] == "in_progress"
    # The phone's time is the event's time
    order.refresh_from_db()
    assert order.started_at is not None
    assert abs((order.started_at - timezone.now()).total_seconds() - -1800) < 60
    # A retry (the answer was lost offline) gets the first answer, without acting again
    again = crew_api.post(url(order, "start"), payload, format="json", HTTP_IDEMPOTENCY_KEY="s-1")
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    started = WorkOrderEvent.objects.filter(work_order=order, kind=WorkOrderEventKind.STARTED)
    assert started.count() == 1
    # The same key with another body is a 422; a new key for an illegal transition a 409
    other = crew_api.post(
        url(order, "start"), {"client_at": when(1)}, format="json", HTTP_IDEMPOTENCY_KEY="s-1"
    )
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["errors"]
    conflict = crew_api.post(
        url(order, "start"), {"client_at": when()}, format="json", HTTP_IDEMPOTENCY_KEY="s-2"
    )
    assert conflict.status_code == 409 and conflict.json()["current_status"] == "in_progress"


@pytest.mark.parametrize(
    ("payload", "headers", "field"),
    [
        ({"client_at": "yesterday"}, {"HTTP_IDEMPOTENCY_KEY": "k"}, "client_at"),
        ({}, {"HTTP_IDEMPOTENCY_KEY": "k"}, "client_at"),
        ({"client_at": "2026-01-01T10:00:00Z"}, {}, "Idempotency-Key"),
        (
            {"client_at": "2026-01-01T10:00:00Z"},
            {"HTTP_IDEMPOTENCY_KEY": "k" * 129},
            "Idempotency-Key",
        ),
    ],
)
def test_actions_need_a_key_and_the_phones_time(
    staff: Staff, crew_api: APIClient, payload: dict[str, Any], headers: dict[str, Any], field: str
) -> None:
    order = order_in(WorkOrderStatus.ASSIGNED, staff=staff)
    response = crew_api.post(url(order, "start"), payload, format="json", **headers)
    assert response.status_code == 400 and field in response.json()["errors"]


def test_a_time_in_the_future_counts_as_now(staff: Staff, crew_api: APIClient) -> None:
    order = order_in(WorkOrderStatus.ASSIGNED, staff=staff)
    future = (timezone.now() + timedelta(days=3)).isoformat()
    crew_api.post(
        url(order, "start"), {"client_at": future}, format="json", HTTP_IDEMPOTENCY_KEY="f"
    )
    order.refresh_from_db()
    assert order.started_at is not None and order.started_at <= timezone.now()


def test_hold_and_replay(staff: Staff, crew_api: APIClient) -> None:
    order = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff)
    payload = {"client_at": when(), "reason": "parts"}
    first = crew_api.post(url(order, "hold"), payload, format="json", HTTP_IDEMPOTENCY_KEY="h-1")
    assert first.status_code == 200, first.content
    assert first.json()["hold"]["reason"] == "parts"
    again = crew_api.post(url(order, "hold"), payload, format="json", HTTP_IDEMPOTENCY_KEY="h-1")
    assert again["Idempotent-Replayed"] == "true" and again.json() == first.json()
    bad = crew_api.post(
        url(order, "hold"),
        {"client_at": when(), "reason": "nap"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="h-2",
    )
    assert bad.status_code == 400 and "reason" in bad.json()["errors"]
    # The same key on another action is a 422
    reused = crew_api.post(
        url(order, "start"), {"client_at": when()}, format="json", HTTP_IDEMPOTENCY_KEY="h-1"
    )
    assert reused.status_code == 422


def test_complete_with_proof_photos_and_replay(staff: Staff, crew_api: APIClient) -> None:
    order = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff)
    proof = good_proof()  # a retry sends the very same bytes
    form = {
        "client_at": when(),
        "note": "Filled",
        "photos": [SimpleUploadedFile("proof.jpg", proof, content_type="image/jpeg")],
    }
    first = crew_api.post(
        url(order, "complete"), form, format="multipart", HTTP_IDEMPOTENCY_KEY="c-1"
    )
    assert first.status_code == 200, first.content
    body = first.json()
    assert_matches_schema(body, path=f"{LIST}/{{id}}/complete", method="post", status=200)
    assert body["status"] == "completed" and len(body["proof_photos"]) == 1
    assert body["service_request"]["status"] == "closed"
    form["photos"] = [SimpleUploadedFile("proof.jpg", proof, content_type="image/jpeg")]
    again = crew_api.post(
        url(order, "complete"), form, format="multipart", HTTP_IDEMPOTENCY_KEY="c-1"
    )
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == body
    completed = WorkOrderEvent.objects.filter(work_order=order, kind=WorkOrderEventKind.COMPLETED)
    assert completed.count() == 1


def test_complete_without_proof_names_photos_and_can_be_sent_again(
    staff: Staff, crew_api: APIClient
) -> None:
    order = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff)
    refused = crew_api.post(
        url(order, "complete"),
        {"client_at": when()},
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="c-2",
    )
    assert refused.status_code == 400 and "photos" in refused.json()["errors"]
    # A refusal is not kept: the same key, now with the photo, completes
    form = {
        "client_at": when(),
        "photos": [SimpleUploadedFile("p.jpg", good_proof(), content_type="image/jpeg")],
    }
    done = crew_api.post(
        url(order, "complete"), form, format="multipart", HTTP_IDEMPOTENCY_KEY="c-2"
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "completed"


def test_a_time_before_the_orders_last_change_counts_as_that_change(
    staff: Staff, crew_api: APIClient
) -> None:
    order = order_in(WorkOrderStatus.ASSIGNED, staff=staff)
    long_ago = (timezone.now() - timedelta(days=30)).isoformat()
    crew_api.post(
        url(order, "start"), {"client_at": long_ago}, format="json", HTTP_IDEMPOTENCY_KEY="old"
    )
    assigned_at = order.updated_at
    order.refresh_from_db()
    assert order.started_at == assigned_at


def test_refusals_have_the_documented_error_shape(staff: Staff, api: APIClient) -> None:
    order = order_in(WorkOrderStatus.ASSIGNED, staff=staff)
    anonymous = api.get(url(order))
    assert anonymous.status_code == 401
    assert_matches_schema(anonymous.json(), path=f"{LIST}/{{id}}", method="get", status=401)
    outsider = token_client(staff.outsider).get(url(order))
    assert outsider.status_code == 404 and "id" in outsider.json()["errors"]
    assert_matches_schema(outsider.json(), path=f"{LIST}/{{id}}", method="get", status=404)
    malformed = token_client(staff.crew).get(f"{LIST}/not-a-number")
    assert malformed.status_code == 404 and malformed["Content-Type"] == "application/json"


def test_the_list_costs_the_same_queries_for_more_orders(
    staff: Staff, crew_api: APIClient, django_assert_max_num_queries: Any
) -> None:
    order_in(WorkOrderStatus.ASSIGNED, staff=staff)
    with CaptureQueriesContext(connection) as few:
        crew_api.get(LIST)
    for _ in range(4):
        order_in(WorkOrderStatus.IN_PROGRESS, staff=staff)
    with django_assert_max_num_queries(len(few)):
        assert len(crew_api.get(LIST).json()) == 5
