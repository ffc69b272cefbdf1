"""The request status state machine, exhaustively: every action from every status."""

from __future__ import annotations

import pytest

from backend.service_requests.models import (
    CloseReason,
    EventKind,
    ServiceRequest,
    ServiceRequestEvent,
    Status,
)
from backend.service_requests.services import (
    TRANSITIONS,
    IllegalTransition,
    do_service_request_close,
    do_service_request_reopen,
    service_request_acknowledge,
    service_request_start,
)
from tests.factories import submit

ACTIONS = {
    "acknowledge": lambda sr: service_request_acknowledge(service_request=sr),
    "start": lambda sr: service_request_start(service_request=sr),
    "close": lambda sr: do_service_request_close(
        service_request=sr, reason=CloseReason.RESOLVED, public_note="Fixed."
    ),
    "reopen": lambda sr: do_service_request_reopen(service_request=sr),
}

# How to bring a fresh (submitted) request into each status, through the services.
PATHS = {
    Status.SUBMITTED: [],
    Status.ACKNOWLEDGED: ["acknowledge"],
    Status.IN_PROGRESS: ["acknowledge", "start"],
    Status.CLOSED: ["close"],
}

EXPECTED = {
    (Status.SUBMITTED, "acknowledge"): Status.ACKNOWLEDGED,
    (Status.SUBMITTED, "start"): Status.IN_PROGRESS,
    (Status.SUBMITTED, "close"): Status.CLOSED,
    (Status.ACKNOWLEDGED, "start"): Status.IN_PROGRESS,
    (Status.ACKNOWLEDGED, "close"): Status.CLOSED,
    (Status.IN_PROGRESS, "close"): Status.CLOSED,
    (Status.CLOSED, "reopen"): Status.IN_PROGRESS,
}


def _in_status(status: str) -> ServiceRequest:
    sr = submit()
    for action in PATHS[Status(status)]:
        sr = ACTIONS[action](sr)
    assert sr.status == status
    return sr


def test_transition_table_matches_the_documented_lifecycle() -> None:
    derived = {
        (source, action): rule.target
        for action, rule in TRANSITIONS.items()
        for source in rule.sources
    }
    assert derived == EXPECTED


@pytest.mark.django_db
@pytest.mark.parametrize("status", list(Status))
@pytest.mark.parametrize("action", list(ACTIONS))
def test_every_action_from_every_status(catalog: None, status: str, action: str) -> None:
    sr = _in_status(status)
    events_before = ServiceRequestEvent.objects.filter(service_request=sr).count()
    target = EXPECTED.get((Status(status), action))
    if target is None:
        with pytest.raises(IllegalTransition) as info:
            ACTIONS[action](sr)
        assert info.value.current_status == status
        sr.refresh_from_db()
        assert sr.status == status
        assert ServiceRequestEvent.objects.filter(service_request=sr).count() == events_before
        return
    result = ACTIONS[action](sr)
    sr.refresh_from_db()
    assert result.status == sr.status == target
    event = ServiceRequestEvent.objects.filter(service_request=sr).latest("id")
    assert event.kind == EventKind.STATUS_CHANGED
    assert (event.from_status, event.to_status) == (status, target)
    assert ServiceRequestEvent.objects.filter(service_request=sr).count() == events_before + 1
    if target == Status.CLOSED:
        assert sr.closed_at is not None and sr.close_reason == CloseReason.RESOLVED
    else:
        assert sr.closed_at is None and sr.close_reason == ""


@pytest.mark.django_db
def test_close_as_duplicate_needs_the_original(catalog: None) -> None:
    original = submit()
    copy = submit(lat=42.3602)
    with pytest.raises(ValueError):
        do_service_request_close(service_request=copy, reason=CloseReason.DUPLICATE)
    with pytest.raises(ValueError):
        do_service_request_close(
            service_request=copy, reason=CloseReason.DUPLICATE, duplicate_of=copy
        )
    closed = do_service_request_close(
        service_request=copy, reason=CloseReason.DUPLICATE, duplicate_of=original
    )
    assert closed.duplicate_of_id == original.pk


@pytest.mark.django_db
def test_unknown_close_reason_is_refused(catalog: None) -> None:
    sr = submit()
    with pytest.raises(ValueError):
        do_service_request_close(service_request=sr, reason="bored")
    sr.refresh_from_db()
    assert sr.status == Status.SUBMITTED


@pytest.mark.django_db
def test_transition_uses_the_locked_row_not_a_stale_copy(catalog: None) -> None:
    sr = submit()
    stale = ServiceRequest.objects.get(pk=sr.pk)
    do_service_request_close(service_request=sr, reason=CloseReason.RESOLVED)
    # The stale object still says "submitted"; the service must read the row, not the object.
    with pytest.raises(IllegalTransition):
        service_request_acknowledge(service_request=stale)


@pytest.mark.django_db
def test_database_refuses_an_inconsistent_closed_row(catalog: None) -> None:
    from django.db import IntegrityError, transaction

    sr = submit()
    with pytest.raises(IntegrityError), transaction.atomic():
        ServiceRequest.objects.filter(pk=sr.pk).update(status=Status.CLOSED)
