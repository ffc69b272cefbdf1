"""The list actions on requests call the transition services, one request at a time."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client

from backend.service_requests.models import (
    CloseReason,
    EventKind,
    ServiceRequest,
    ServiceRequestEvent,
    Status,
)
from backend.service_requests.services import do_service_request_close
from tests.admin.conftest import changelist_url, messages_of
from tests.factories import submit


def _run(client: Client, action: str, *requests: ServiceRequest, note: str = "") -> Any:
    return client.post(
        changelist_url(),
        {
            "action": action,
            "_selected_action": [sr.pk for sr in requests],
            "index": 0,
            "public_note": note,
        },
        follow=True,
    )


def _status(sr: ServiceRequest) -> str:
    sr.refresh_from_db()
    return sr.status


def test_acknowledge_moves_the_requests_and_writes_events(
    admin_client: Client, superuser: User, catalog: None
) -> None:
    first, second = submit("pothole"), submit("graffiti")

    response = _run(admin_client, "acknowledge", first, second, note="We have it.")

    assert response.status_code == 200
    assert (_status(first), _status(second)) == (Status.ACKNOWLEDGED, Status.ACKNOWLEDGED)
    events = ServiceRequestEvent.objects.filter(kind=EventKind.STATUS_CHANGED)
    assert sorted(events.values_list("service_request_id", flat=True)) == sorted(
        [first.pk, second.pk]
    )
    for event in events:
        assert (event.from_status, event.to_status) == (Status.SUBMITTED, Status.ACKNOWLEDGED)
        assert (event.actor, event.public_note) == (superuser, "We have it.")
    assert messages_of(response) == [
        f"Acknowledged 2 requests: {first.public_id}, {second.public_id}."
    ]


def test_start_then_close_as_resolved(admin_client: Client, catalog: None) -> None:
    sr = submit("streetlight")

    _run(admin_client, "start", sr)
    assert _status(sr) == Status.IN_PROGRESS
    response = _run(admin_client, "close_resolved", sr, note="Bulb replaced.")

    sr.refresh_from_db()
    assert (sr.status, sr.close_reason) == (Status.CLOSED, CloseReason.RESOLVED)
    assert sr.closed_at is not None
    last = sr.events.order_by("created_at", "id").last()
    assert last is not None
    assert (last.to_status, last.close_reason, last.public_note) == (
        Status.CLOSED,
        CloseReason.RESOLVED,
        "Bulb replaced.",
    )
    assert messages_of(response) == [f"Closed 1 request as resolved: {sr.public_id}."]


def test_the_other_close_reasons(admin_client: Client, catalog: None) -> None:
    not_ours, lost = submit("graffiti"), submit("rodents")

    _run(admin_client, "close_not_city_responsibility", not_ours)
    _run(admin_client, "close_cannot_locate", lost)

    not_ours.refresh_from_db()
    lost.refresh_from_db()
    assert not_ours.close_reason == CloseReason.NOT_CITY_RESPONSIBILITY
    assert lost.close_reason == CloseReason.CANNOT_LOCATE


def test_reopen_a_closed_request(admin_client: Client, catalog: None) -> None:
    sr = submit("pothole")
    do_service_request_close(service_request=sr, reason=CloseReason.RESOLVED)

    _run(admin_client, "reopen", sr)

    sr.refresh_from_db()
    assert (sr.status, sr.closed_at, sr.close_reason) == (Status.IN_PROGRESS, None, "")


def test_an_illegal_transition_is_reported_not_a_server_error(
    admin_client: Client, catalog: None
) -> None:
    open_request = submit("pothole")

    response = _run(admin_client, "reopen", open_request)

    assert response.status_code == 200
    assert _status(open_request) == Status.SUBMITTED
    assert messages_of(response) == [
        f"Skipped 1 request that cannot be reopened: {open_request.public_id} (submitted)."
    ]
    assert open_request.events.count() == 1


def test_a_mixed_selection_changes_what_it_can_and_lists_the_rest(
    admin_client: Client, catalog: None
) -> None:
    fresh, done = submit("pothole"), submit("graffiti")
    do_service_request_close(service_request=done, reason=CloseReason.RESOLVED)

    response = _run(admin_client, "acknowledge", fresh, done)

    assert (_status(fresh), _status(done)) == (Status.ACKNOWLEDGED, Status.CLOSED)
    assert messages_of(response) == [
        f"Acknowledged 1 request: {fresh.public_id}.",
        f"Skipped 1 request that cannot be acknowledged: {done.public_id} (closed).",
    ]


def test_the_list_filters_and_searches(admin_client: Client, catalog: None) -> None:
    hole = submit("pothole", description="Crater near the library")
    submit("graffiti", description="Tag on the wall")

    by_text = admin_client.get(changelist_url(), {"q": "library"})
    by_id = admin_client.get(changelist_url(), {"q": hole.public_id})
    by_status = admin_client.get(changelist_url(), {"status__exact": "closed"})

    assert [sr.pk for sr in by_text.context["cl"].result_list] == [hole.pk]
    assert [sr.pk for sr in by_id.context["cl"].result_list] == [hole.pk]
    assert list(by_status.context["cl"].result_list) == []
