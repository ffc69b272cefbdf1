"""The staff and crew API (/api/v1/): department-scoped, role-checked, every bad input a 4xx
naming the field, answers checked against the OpenAPI document."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from backend.photos.models import Photo
from backend.service_requests.models import Status
from tests.openapi import assert_matches_schema
from tests.workorders.factories import (
    Staff,
    good_proof,
    order_in,
    order_of,
    proof_jpeg,
    request_make,
    token_client,
)
from workorders.models import WorkOrder, WorkOrderStatus

pytestmark = pytest.mark.django_db

S = WorkOrderStatus
DETAIL = "/api/v1/workorders/{id}"


def _url(order: WorkOrder, action: str = "") -> str:
    return f"/api/v1/workorders/{order.pk}" + (f"/{action}" if action else "")


def _photo(data: bytes, name: str = "proof.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


def _complete(client: APIClient, order: WorkOrder, *photos: bytes, **headers: Any) -> Any:
    return client.post(
        _url(order, "complete"),
        {"photos": [_photo(p, f"p{i}.jpg") for i, p in enumerate(photos)], "note": "Done."},
        format="multipart",
        **headers,
    )


def test_the_crew_sees_its_departments_orders_and_the_outsider_none(
    staff: Staff, crew_api: APIClient, outsider_api: APIClient, api: APIClient
) -> None:
    order = order_in(S.ASSIGNED, staff=staff)
    order_of(request_make("graffiti"))  # Sanitation's

    listing = crew_api.get("/api/v1/workorders")
    outsider = outsider_api.get("/api/v1/workorders", {"department": "public-works"})

    assert listing.status_code == 200
    body = listing.json()
    assert [o["id"] for o in body["results"]] == [order.pk]
    assert_matches_schema(body, path="/api/v1/workorders", method="get", status=200)
    assert outsider.json()["results"] == []
    assert api.get("/api/v1/workorders").status_code == 401
    assert crew_api.get("/api/v1/workorders", {"status": "flying"}).status_code == 400


def test_the_detail_is_a_404_outside_the_department(
    staff: Staff, crew_api: APIClient, outsider_api: APIClient
) -> None:
    order = order_in(S.ASSIGNED, staff=staff)

    mine = crew_api.get(_url(order))
    theirs = outsider_api.get(_url(order))

    assert mine.status_code == 200
    body = mine.json()
    assert_matches_schema(body, path=DETAIL, method="get", status=200)
    assert body["team"]["name"] == "Crew A" and body["service_request"]["status"] == "acknowledged"
    assert "contact_email" not in repr(body)
    assert theirs.status_code == 404 and "id" in theirs.json()["errors"]


def test_a_crew_member_acting_on_another_departments_order_gets_404(
    staff: Staff, outsider_api: APIClient
) -> None:
    order = order_in(S.IN_PROGRESS, staff=staff)
    for action in ("start", "hold", "resume", "complete", "cancel", "assign", "review"):
        response = outsider_api.post(_url(order, action), {}, format="json")
        assert response.status_code == 404, action
    order.refresh_from_db()
    assert order.status == S.IN_PROGRESS


def test_roles_within_the_department(staff: Staff, crew_api: APIClient) -> None:
    order = order_in(S.ASSIGNED, staff=staff)
    other_crew = token_client(staff.other_crew)

    assign = crew_api.post(_url(order, "assign"), {"team": staff.other_team.pk}, format="json")
    start = other_crew.post(_url(order, "start"), {}, format="json")

    assert assign.status_code == 403 and "role" in assign.json()["errors"]
    assert start.status_code == 403  # not their team's order


def test_the_lifecycle_over_http(
    staff: Staff, supervisor_api: APIClient, crew_api: APIClient
) -> None:
    order = order_of(request_make())

    assigned = supervisor_api.post(
        _url(order, "assign"), {"team": staff.team.pk, "assignee": staff.crew.pk}, format="json"
    )
    started = crew_api.post(_url(order, "start"), {"public_note": "On the way"}, format="json")
    held = crew_api.post(_url(order, "hold"), {"reason": "parts", "note": "Asphalt"}, format="json")
    resumed = crew_api.post(_url(order, "resume"), {}, format="json")
    completed = _complete(crew_api, order, good_proof())

    for response, status in (
        (assigned, "assigned"),
        (started, "in_progress"),
        (held, "on_hold"),
        (resumed, "in_progress"),
        (completed, "completed"),
    ):
        assert response.status_code == 200, response.content
        assert response.json()["status"] == status
        assert_matches_schema(response.json(), path=DETAIL + "/assign", method="post", status=200)
    assert assigned.json()["assignee"]["username"] == "casey"
    assert held.json()["hold"]["reason"] == "parts"
    body = completed.json()
    assert body["on_time"] is True and body["review"]["required"] is False
    assert body["service_request"]["status"] == Status.CLOSED
    assert len(body["proof_photos"]) == 1 and body["proof_photos"][0]["verified"] is True


def test_an_illegal_transition_is_409_with_the_current_status(
    staff: Staff, crew_api: APIClient
) -> None:
    order = order_in(S.COMPLETED, staff=staff)

    response = crew_api.post(_url(order, "start"), {}, format="json")

    assert response.status_code == 409
    body = response.json()
    assert body["current_status"] == "completed" and "status" in body["errors"]
    assert "completed" in body["detail"]
    assert_matches_schema(body, path=DETAIL + "/start", method="post", status=409)


def test_completing_without_a_proof_photo_is_400_naming_photos(
    staff: Staff, crew_api: APIClient
) -> None:
    order = order_in(S.IN_PROGRESS, staff=staff)

    response = crew_api.post(_url(order, "complete"), {"note": "Done"}, format="json")

    assert response.status_code == 400
    assert "photos" in response.json()["errors"]
    order.refresh_from_db()
    assert order.status == S.IN_PROGRESS


def test_a_retried_completion_is_one_photo_and_answers_the_same(
    staff: Staff, crew_api: APIClient
) -> None:
    order = order_in(S.IN_PROGRESS, staff=staff)
    photo = good_proof()

    first = _complete(crew_api, order, photo, HTTP_IDEMPOTENCY_KEY="phone-123")
    retry = _complete(crew_api, order, photo, HTTP_IDEMPOTENCY_KEY="phone-123")
    no_key = _complete(crew_api, order, photo)

    assert (first.status_code, retry.status_code) == (200, 200)
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json()["proof_photos"] == first.json()["proof_photos"]
    assert no_key.status_code == 409  # a different attempt, and the order is completed
    assert Photo.objects.filter(service_request=order.service_request).count() == 1


def test_proof_photos_can_go_ahead_of_the_completion(staff: Staff, crew_api: APIClient) -> None:
    order = order_in(S.IN_PROGRESS, staff=staff)
    photo = good_proof()

    added = crew_api.post(
        _url(order, "proof-photos"), {"photos": [_photo(photo)]}, format="multipart"
    )
    again = crew_api.post(
        _url(order, "proof-photos"), {"photos": [_photo(photo)]}, format="multipart"
    )
    completed = crew_api.post(_url(order, "complete"), {}, format="json")

    assert (added.status_code, again.status_code, completed.status_code) == (201, 201, 200)
    assert len(again.json()) == 1
    assert_matches_schema(added.json(), path=DETAIL + "/proof-photos", method="post", status=201)


@pytest.mark.parametrize(
    ("action", "payload", "field"),
    [
        ("hold", {"reason": "lunch"}, "reason"),
        ("hold", {}, "reason"),
        ("assign", {"team": 999999}, "team"),
        ("assign", {"team": "first"}, "team"),
        ("assign", {"assignee": 999999}, "assignee"),
        ("cancel", {"close_reason": "resolved"}, "close_reason"),
        ("review", {"decision": "maybe"}, "decision"),
        ("start", {"public_note": "x" * 4001}, "public_note"),
    ],
)
def test_bad_input_names_the_field(
    staff: Staff, supervisor_api: APIClient, action: str, payload: dict[str, Any], field: str
) -> None:
    order = order_in(S.ASSIGNED, staff=staff)
    response = supervisor_api.post(_url(order, action), payload, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_bad_photos_are_refused_naming_the_field(staff: Staff, crew_api: APIClient) -> None:
    order = order_in(S.IN_PROGRESS, staff=staff)
    response = _complete(crew_api, order, b"GIF89a not really")
    assert response.status_code == 400 and "photos" in response.json()["errors"]


def test_a_flagged_completion_is_reviewed_by_a_supervisor(
    staff: Staff, crew_api: APIClient, supervisor_api: APIClient
) -> None:
    order = order_in(S.IN_PROGRESS, staff=staff)
    completed = _complete(crew_api, order, proof_jpeg(lat=None, long=None))
    assert completed.json()["review"]["required"] is True

    by_crew = crew_api.post(_url(order, "review"), {"decision": "accepted"}, format="json")
    sent_back = supervisor_api.post(
        _url(order, "review"), {"decision": "reopened", "note": "No location"}, format="json"
    )
    twice = supervisor_api.post(_url(order, "review"), {"decision": "accepted"}, format="json")

    assert by_crew.status_code == 403
    assert sent_back.status_code == 200
    assert sent_back.json()["review"]["decision"] == "reopened"
    order.service_request.refresh_from_db()
    assert order.service_request.status == Status.IN_PROGRESS
    assert WorkOrder.objects.filter(service_request=order.service_request, status="new").exists()
    assert twice.status_code == 409 and "review" in twice.json()["errors"]


def test_cancel_closes_the_request_with_the_reason(staff: Staff, supervisor_api: APIClient) -> None:
    order = order_in(S.ASSIGNED, staff=staff)
    response = supervisor_api.post(
        _url(order, "cancel"),
        {"close_reason": "not_city_responsibility", "public_note": "Private land."},
        format="json",
    )
    assert response.status_code == 200
    order.service_request.refresh_from_db()
    assert order.service_request.close_reason == "not_city_responsibility"


def test_requests_are_re_routed_and_merged_by_supervisors(
    staff: Staff, supervisor_api: APIClient, crew_api: APIClient, outsider_api: APIClient
) -> None:
    sr, original = request_make(), request_make(lat=42.3602)

    by_crew = crew_api.post(
        f"/api/v1/requests/{sr.public_id}/change-type", {"service_code": "graffiti"}, format="json"
    )
    unknown = supervisor_api.post(
        f"/api/v1/requests/{sr.public_id}/change-type", {"service_code": "unicorn"}, format="json"
    )
    hidden = outsider_api.post(
        f"/api/v1/requests/{sr.public_id}/merge", {"into": original.public_id}, format="json"
    )
    merged = supervisor_api.post(
        f"/api/v1/requests/{sr.public_id}/merge", {"into": original.public_id}, format="json"
    )
    nowhere = supervisor_api.post(
        f"/api/v1/requests/{original.public_id}/merge", {"into": "SR-1999-000001"}, format="json"
    )

    assert by_crew.status_code == 403
    assert unknown.status_code == 400 and "service_code" in unknown.json()["errors"]
    assert hidden.status_code == 404 and "public_id" in hidden.json()["errors"]
    assert merged.status_code == 200, merged.content
    assert merged.json()["duplicate_of"] == original.public_id
    assert merged.json()["status"] == "closed" and merged.json()["work_order"] is None
    assert_matches_schema(
        merged.json(), path="/api/v1/requests/{public_id}/merge", method="post", status=200
    )
    assert nowhere.status_code == 404 and "into" in nowhere.json()["errors"]

    rerouted = supervisor_api.post(
        f"/api/v1/requests/{original.public_id}/change-type",
        {"service_code": "graffiti"},
        format="json",
    )
    assert rerouted.status_code == 200
    assert rerouted.json()["work_order"] is None  # now Sanitation's: not the supervisor's
    assert rerouted.json()["service_code"] == "graffiti"


def test_session_authentication_works_too(staff: Staff) -> None:
    order = order_in(S.ASSIGNED, staff=staff)
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff.crew)
    assert client.get(_url(order)).status_code == 200
    # A session POST without the CSRF token is refused, not performed.
    assert client.post(_url(order, "start"), {}, format="json").status_code == 403
    order.refresh_from_db()
    assert order.status == S.ASSIGNED


def test_the_list_costs_the_same_queries_for_2_or_12_orders_without_holds(
    staff: Staff, supervisor_api: APIClient
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for_list() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert supervisor_api.get("/api/v1/workorders").status_code == 200
        return len(captured)

    for _ in range(2):
        order_in(S.ASSIGNED, staff=staff)
    few = queries_for_list()
    for _ in range(10):
        order_in(S.ASSIGNED, staff=staff)
    assert queries_for_list() == few  # no query per order (open holds are prefetched)
