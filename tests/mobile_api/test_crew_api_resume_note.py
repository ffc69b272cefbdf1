"""Crews: resume and notes on /mobile/v1/crew/workorders (added for the crew app), the
optional public notes of hold / resume / complete, the detail's answers and allowed actions,
and the clear answers a phone gets for an order reassigned or cancelled while it was
offline."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from backend.service_requests.models import EventKind, ServiceRequestEvent
from mobile_api.crew_serializers import CrewActionIn
from mobile_api.models import ActionReplay
from mobile_api.services import _fingerprint
from tests.mobile_api.test_crew_api import LIST, url
from tests.openapi import assert_matches_schema
from tests.workorders.factories import (
    Staff,
    good_proof,
    order_in,
    order_of,
    request_make,
    token_client,
)
from workorders.models import (
    WorkOrder,
    WorkOrderEvent,
    WorkOrderEventKind,
    WorkOrderHold,
    WorkOrderStatus,
)
from workorders.services import work_order_assign, work_order_cancel, work_order_start

pytestmark = pytest.mark.django_db


def ago(minutes: int) -> datetime:
    return timezone.now() - timedelta(minutes=minutes)


def post(client: APIClient, order: WorkOrder, action: str, key: str, **body: Any) -> Any:
    return client.post(url(order, action), body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def started_long_ago(staff: Staff) -> WorkOrder:
    """An order assigned and started three hours ago, its clock in calendar hours (so the
    time paused is the plain difference of the phone's two times)."""
    order = order_of(request_make(requested_at=ago(240)))
    order = work_order_assign(
        work_order=order, team=staff.team, actor=staff.supervisor, at=ago(180)
    )
    order = work_order_start(work_order=order, actor=staff.crew, at=ago(180))
    WorkOrder.objects.filter(pk=order.pk).update(turnaround_business_hours=False)
    order.refresh_from_db()
    return order


def test_resume_after_hold_restarts_the_clock_at_the_phones_time(
    staff: Staff, crew_api: APIClient
) -> None:
    # Given an order in progress, held by the phone 90 minutes ago (sent late, from offline)
    order = started_long_ago(staff)
    due_before = order.due_at
    assert due_before is not None
    held_at = ago(90)
    resumed_at = held_at + timedelta(hours=1)
    held = post(crew_api, order, "hold", "h-1", client_at=held_at.isoformat(), reason="parts")
    assert held.status_code == 200, held.content
    assert held.json()["actions"] == ["resume", "note"]

    # When the phone says it resumed 30 minutes ago
    resumed = post(crew_api, order, "resume", "r-1", client_at=resumed_at.isoformat())

    # Then the order is back in progress, the hold lasted exactly between the phone's two
    # times, and the due time moved by that hour (the clock ran again from the phone's time)
    assert resumed.status_code == 200, resumed.content
    body = resumed.json()
    assert_matches_schema(body, path=f"{LIST}/{{id}}/resume", method="post", status=200)
    assert body["status"] == "in_progress" and body["hold"] is None
    assert body["actions"] == ["hold", "complete", "note"]
    hold = WorkOrderHold.objects.get(work_order=order)
    assert hold.started_at == held_at and hold.ended_at == resumed_at
    assert hold.paused_seconds == 3600
    order.refresh_from_db()
    assert order.due_at == due_before + timedelta(hours=1)
    event = WorkOrderEvent.objects.get(work_order=order, kind=WorkOrderEventKind.RESUMED)
    assert event.created_at == resumed_at and event.actor == staff.crew
    order.service_request.refresh_from_db()
    assert order.service_request.expected_at == order.due_at  # the resident's date follows


def test_resume_replays_the_first_answer_once_and_refuses_another_body(
    staff: Staff, crew_api: APIClient
) -> None:
    order = order_in(WorkOrderStatus.ON_HOLD, staff=staff)
    payload = {"client_at": ago(1).isoformat(), "note": "Parts came"}
    first = post(crew_api, order, "resume", "r-2", **payload)
    assert first.status_code == 200, first.content
    # The answer was lost on a weak link: the phone sends the same action again
    again = post(crew_api, order, "resume", "r-2", **payload)
    assert again.status_code == 200 and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert WorkOrderEvent.objects.filter(work_order=order, kind="resumed").count() == 1
    # The same key with another body, or for another action: 422 naming the key
    other = post(crew_api, order, "resume", "r-2", client_at=ago(2).isoformat())
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["errors"]
    reused = post(crew_api, order, "note", "r-2", client_at=ago(1).isoformat(), public_note="x")
    assert reused.status_code == 422
    # A new key on an order that is not on hold: 409 with the status
    conflict = post(crew_api, order, "resume", "r-3", client_at=ago(1).isoformat())
    assert conflict.status_code == 409 and conflict.json()["current_status"] == "in_progress"
    assert "status" in conflict.json()["errors"]


def test_a_public_note_reaches_the_residents_track_page_and_an_internal_one_does_not(
    staff: Staff, crew_api: APIClient
) -> None:
    order = started_long_ago(staff)
    noted_at = ago(3)

    def note() -> Any:
        return post(
            crew_api,
            order,
            "note",
            "n-1",
            client_at=noted_at.isoformat(),
            public_note="We have closed the lane while we work.",
            note="Gas line close: call utility first",
        )

    response = note()
    assert response.status_code == 200, response.content
    assert_matches_schema(response.json(), path=f"{LIST}/{{id}}/note", method="post", status=200)
    event = ServiceRequestEvent.objects.get(service_request=order.service_request, kind="note")
    assert event.created_at == noted_at and event.actor == staff.crew
    assert event.internal_note == "Gas line close: call utility first"
    # The replay adds nothing
    again = note()
    assert again["Idempotent-Replayed"] == "true"
    assert ServiceRequestEvent.objects.filter(kind=EventKind.NOTE).count() == 1
    # The resident's page shows the public note, never the internal one
    page = Client().get(f"/track/{order.service_request.public_id}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "We have closed the lane while we work." in html
    assert "Gas line close" not in html
    timeline = APIClient().get(f"/mobile/v1/requests/{order.service_request.public_id}/timeline")
    notes = [e["note"] for e in timeline.json()["events"]]
    assert "We have closed the lane while we work." in notes and "Gas line close" not in str(notes)


def test_a_note_needs_some_text(staff: Staff, crew_api: APIClient) -> None:
    order = order_in(WorkOrderStatus.ASSIGNED, staff=staff)
    response = post(crew_api, order, "note", "n-2", client_at=ago(1).isoformat(), public_note=" ")
    assert response.status_code == 400 and "public_note" in response.json()["errors"]
    assert not ServiceRequestEvent.objects.filter(kind=EventKind.NOTE).exists()


def test_hold_resume_and_complete_take_an_optional_public_note(
    staff: Staff, crew_api: APIClient
) -> None:
    order = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff)
    held = post(
        crew_api,
        order,
        "hold",
        "p-1",
        client_at=ago(10).isoformat(),
        reason="weather",
        public_note="Paused for the storm.",
    )
    assert held.status_code == 200, held.content
    resumed = post(
        crew_api,
        order,
        "resume",
        "p-2",
        client_at=ago(5).isoformat(),
        public_note="Back at work.",
    )
    assert resumed.status_code == 200, resumed.content
    form = {
        "client_at": ago(1).isoformat(),
        "note": "Patched, 2 bags of asphalt",
        "public_note": "Filled. Thanks for telling us!",
        "photos": [SimpleUploadedFile("p.jpg", good_proof(), content_type="image/jpeg")],
    }
    done = crew_api.post(
        url(order, "complete"), form, format="multipart", HTTP_IDEMPOTENCY_KEY="p-3"
    )
    assert done.status_code == 200, done.content
    assert done.json()["completion_note"] == "Patched, 2 bags of asphalt"
    assert done.json()["actions"] == []
    public = list(
        ServiceRequestEvent.objects.filter(service_request=order.service_request)
        .exclude(public_note="")
        .order_by("created_at", "id")
        .values_list("public_note", flat=True)
    )
    assert public[-3:] == [
        "Paused for the storm.",
        "Back at work.",
        "Filled. Thanks for telling us!",
    ]


def test_a_hold_sent_without_public_note_keeps_the_fingerprint_it_had_before(
    staff: Staff, crew_api: APIClient
) -> None:
    """A phone that queued a hold before ``public_note`` existed, and whose retry arrives
    after the upgrade, still gets its kept answer (not a 422)."""
    order = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff)
    sent = ago(4).isoformat()
    response = post(crew_api, order, "hold", "old-1", client_at=sent, reason="parts")
    assert response.status_code == 200, response.content
    parsed = CrewActionIn(data={"client_at": sent})
    assert parsed.is_valid()
    before = {"client_at": str(parsed.validated_data["client_at"]), "note": "", "reason": "parts"}
    assert ActionReplay.objects.get(key="old-1").fingerprint == _fingerprint(before)


def test_detail_shows_the_residents_answers_and_the_allowed_actions(
    staff: Staff, crew_api: APIClient
) -> None:
    order = order_in(WorkOrderStatus.ASSIGNED, staff=staff)
    response = crew_api.get(url(order), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    body = response.json()
    assert_matches_schema(body, path=f"{LIST}/{{id}}", method="get", status=200)
    assert body["attributes"] == [
        {
            "code": "size",
            "question": "¿Qué tamaño tiene aproximadamente?",
            "answer": "Más grande que una llanta",
        }
    ]
    assert body["actions"] == ["start", "hold", "note"]


def test_an_order_reassigned_meanwhile_answers_404_naming_the_team(
    staff: Staff, crew_api: APIClient
) -> None:
    # Given an order of the crew's team, reassigned to the other team while the phone was
    # offline
    order = order_in(WorkOrderStatus.ASSIGNED, staff=staff)
    work_order_assign(work_order=order, team=staff.other_team, actor=staff.supervisor)
    # When the phone sends what it did offline, or opens the order again
    for response in (
        post(crew_api, order, "note", "ra-1", client_at=ago(2).isoformat(), public_note="On it"),
        post(crew_api, order, "start", "ra-2", client_at=ago(2).isoformat()),
        crew_api.get(url(order)),
    ):
        # Then the answer says what happened, in the documented error shape
        assert response.status_code == 404
        body = response.json()
        assert body["detail"] == (
            f"Work order {order.pk} is with another team now: it is not in your queue."
        )
        assert body["errors"] == {"team": [body["detail"]]}
    # ...and nothing was written
    assert not ServiceRequestEvent.objects.filter(kind=EventKind.NOTE).exists()
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.ASSIGNED and order.team == staff.other_team
    # Another department's crew learns nothing about the order: it does not exist for them
    outsider = post(
        token_client(staff.outsider),
        order,
        "note",
        "ra-3",
        client_at=ago(1).isoformat(),
        public_note="x",
    )
    assert outsider.status_code == 404 and outsider.json()["errors"] == {
        "id": [f"No work order {order.pk}."]
    }


@pytest.mark.parametrize("action", ["resume", "note", "start", "hold", "complete"])
def test_a_cancelled_order_answers_409_with_its_status(
    staff: Staff, crew_api: APIClient, action: str
) -> None:
    order = order_in(WorkOrderStatus.ON_HOLD, staff=staff)
    work_order_cancel(work_order=order, actor=staff.supervisor)
    body = {"client_at": ago(1).isoformat(), "public_note": "x", "reason": "parts"}
    if action == "complete":
        response = crew_api.post(
            url(order, action),
            {
                **body,
                "photos": [SimpleUploadedFile("p.jpg", good_proof(), content_type="image/jpeg")],
            },
            format="multipart",
            HTTP_IDEMPOTENCY_KEY="cx",
        )
    else:
        response = post(crew_api, order, action, "cx", **body)
    assert response.status_code == 409, response.content
    answer = response.json()
    assert answer["current_status"] == "cancelled" and "status" in answer["errors"]
    assert "cancelled" in answer["detail"]
    assert not ServiceRequestEvent.objects.filter(kind=EventKind.NOTE).exists()


@pytest.mark.parametrize("action", ["resume", "note"])
@pytest.mark.parametrize("client_at", ["yesterday", "", "2026-13-45T99:00:00Z", None])
def test_a_bad_phone_time_is_a_400_naming_client_at(
    staff: Staff, crew_api: APIClient, action: str, client_at: str | None
) -> None:
    order = order_in(WorkOrderStatus.ON_HOLD, staff=staff)
    body: dict[str, Any] = {"public_note": "x"}
    if client_at is not None:
        body["client_at"] = client_at
    response = post(crew_api, order, action, "bad", **body)
    assert response.status_code == 400, response.content
    assert "client_at" in response.json()["errors"]
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.ON_HOLD


@pytest.mark.parametrize("action", ["resume", "note"])
def test_new_actions_need_a_key_and_a_signed_in_crew(
    staff: Staff, crew_api: APIClient, api: APIClient, action: str
) -> None:
    order = order_in(WorkOrderStatus.ON_HOLD, staff=staff)
    body = {"client_at": ago(1).isoformat(), "public_note": "x"}
    missing = crew_api.post(url(order, action), body, format="json")
    assert missing.status_code == 400 and "Idempotency-Key" in missing.json()["errors"]
    anonymous = post(api, order, action, "k", **body)
    assert anonymous.status_code == 401
    other_team = post(token_client(staff.other_crew), order, action, "k", **body)
    assert other_team.status_code == 404
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.ON_HOLD
