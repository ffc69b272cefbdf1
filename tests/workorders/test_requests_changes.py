"""Staff merge duplicates (the duplicate's reporter follows the original) and change a
request's service (the request is re-routed: old work order cancelled, new one made)."""

from __future__ import annotations

from typing import Any

import pytest

from backend.cases.change_type import service_request_change_type
from backend.cases.merge import service_request_merge
from backend.catalog.models import ServiceType
from backend.service_requests.messaging import status_notify
from backend.service_requests.models import (
    CloseReason,
    RequestFollower,
    ServiceRequestEvent,
    Status,
)
from backend.service_requests.services import do_service_request_close
from tests.workorders.factories import Staff, order_of, request_make, user_make
from workorders.errors import Conflict, IllegalTransition, InvalidInput
from workorders.models import WorkOrder, WorkOrderEvent, WorkOrderStatus
from workorders.services import work_order_assign

pytestmark = pytest.mark.django_db


def test_a_merged_duplicate_is_closed_and_its_reporter_follows_the_original(
    staff: Staff, mailoutbox: list[Any]
) -> None:
    original = request_make(contact_email="first@example.org")
    resident = user_make("rita", email="rita@example.org")
    duplicate = request_make(reporter=resident, lat=42.36012)
    dup_order = order_of(duplicate)

    closed = service_request_merge(
        service_request=duplicate, into=original, actor=staff.supervisor, note="Same hole"
    )

    assert (closed.status, closed.close_reason, closed.duplicate_of) == (
        Status.CLOSED,
        CloseReason.DUPLICATE,
        original,
    )
    dup_order.refresh_from_db()
    assert dup_order.status == WorkOrderStatus.CANCELLED
    assert WorkOrderEvent.objects.get(work_order=dup_order, kind="cancelled").data == {
        "merged_into": original.public_id
    }
    follower = RequestFollower.objects.get(service_request=original)
    assert (follower.user, follower.email, follower.via) == (resident, "rita@example.org", closed)
    assert original.events.filter(kind="note", internal_note__contains=duplicate.public_id)

    # The original's next message reaches both its reporter and the follower.
    work_order_assign(work_order=order_of(original), team=staff.team, actor=staff.supervisor)
    event = ServiceRequestEvent.objects.filter(service_request=original).latest("id")
    status_notify(event_id=event.pk)
    assert sorted(m.to[0] for m in mailoutbox) == ["first@example.org", "rita@example.org"]


def test_merging_carries_the_duplicates_own_followers_along(staff: Staff) -> None:
    original, middle = request_make(), request_make(contact_email="m@example.org")
    earlier = request_make(contact_email="e@example.org")
    service_request_merge(service_request=earlier, into=middle)

    service_request_merge(service_request=middle, into=original)

    assert set(
        RequestFollower.objects.filter(service_request=original).values_list("email", flat=True)
    ) == {"m@example.org", "e@example.org"}


def test_bad_merges_are_refused(staff: Staff) -> None:
    original, duplicate = request_make(), request_make()
    closed = do_service_request_close(service_request=request_make(), reason=CloseReason.RESOLVED)

    with pytest.raises(InvalidInput, match="itself") as itself:
        service_request_merge(service_request=original, into=original)
    with pytest.raises(Conflict, match="is closed") as into_closed:
        service_request_merge(service_request=duplicate, into=closed)
    with pytest.raises(IllegalTransition) as from_closed:
        service_request_merge(service_request=closed, into=original)

    assert (itself.value.field, into_closed.value.field) == ("into", "into")
    assert from_closed.value.current_status == Status.CLOSED
    duplicate.refresh_from_db()
    assert duplicate.status == Status.SUBMITTED


def test_changing_the_service_re_routes_the_request(staff: Staff) -> None:
    sr = request_make("pothole")
    old = order_of(sr)
    work_order_assign(work_order=old, team=staff.team, actor=staff.supervisor)
    graffiti = ServiceType.objects.get(service_code="graffiti")

    new = service_request_change_type(
        service_request=sr, service_type=graffiti, actor=staff.supervisor, note="It is paint"
    )

    assert new is not None
    old.refresh_from_db()
    assert old.status == WorkOrderStatus.CANCELLED
    cancelled = WorkOrderEvent.objects.get(work_order=old, kind="cancelled")
    assert cancelled.data["rerouted"] is True and cancelled.data["to_service"] == "graffiti"
    assert (new.department.code, new.status, new.turnaround_hours) == ("sanitation", "new", 48)
    created = WorkOrderEvent.objects.get(work_order=new, kind="created")
    assert created.data["rerouted_from"] == old.pk
    sr.refresh_from_db()
    assert sr.service_type == graffiti
    assert sr.status == Status.ACKNOWLEDGED  # what the resident was told still holds
    assert sr.expected_at == new.due_at
    note = sr.events.get(kind="note")
    assert "pothole to graffiti" in note.internal_note and note.public_note == ""
    assert WorkOrder.objects.filter(service_request=sr).count() == 2


def test_the_same_service_again_changes_nothing_and_a_closed_request_keeps_its(
    staff: Staff,
) -> None:
    sr = request_make("pothole")
    same = service_request_change_type(
        service_request=sr, service_type=ServiceType.objects.get(service_code="pothole")
    )
    assert same == order_of(sr) and WorkOrder.objects.count() == 1

    closed = do_service_request_close(service_request=sr, reason=CloseReason.RESOLVED)
    with pytest.raises(IllegalTransition) as info:
        service_request_change_type(
            service_request=closed,
            service_type=ServiceType.objects.get(service_code="graffiti"),
        )
    assert info.value.current_status == Status.CLOSED
