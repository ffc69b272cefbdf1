"""Imported history apart from live work: a request still open in an old system's export is
not in the backlog, the overdue lists, escalation or the scorecard, until a supervisor adopts
it from the console's "Imported, not adopted" list; adopting gives it a work order due after
the service's turnaround counted from now, and an event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from analytics.importing import csv_import
from analytics.loading import MAPPINGS, LoadRow, mapping_load, requests_load
from analytics.measures import local_today
from analytics.scorecard import department_page
from analytics.selectors import (
    Window,
    backlog_now,
    live_counters,
    measures_grouped,
    overdue_list,
    overdue_points,
)
from backend.cases.adopt import service_request_adopt
from backend.catalog.models import ServiceType
from backend.errors import City311Error
from backend.service_requests.models import (
    Channel,
    EventKind,
    ServiceRequest,
    ServiceRequestEvent,
    Status,
)
from tests.workorders.factories import (
    Staff,
    member_add,
    request_make,
    staff_make,
    team_make,
    user_make,
)
from workorders.escalation import work_orders_escalate
from workorders.models import TeamRole, WorkOrder, WorkOrderEvent, WorkOrderEventKind
from workorders.selectors import service_requests_imported_pending, work_order_queue

pytestmark = pytest.mark.django_db

IMPORTED = "/staff/workorders/imported"
BOSTON_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "boston311-100.csv"
PROVENANCE = {"import": {"source": "boston", "source_type": "Request for Pothole Repair"}}


def _type_id(code: str) -> int:
    return int(ServiceType.objects.values_list("id", flat=True).get(service_code=code))


def _imported(public_id: str, *, code: str = "pothole", days: int = 1799, **fields: Any) -> LoadRow:
    """A row as ``analytics.importing`` writes it: channel import, the export's provenance."""
    requested = timezone.now() - timedelta(days=days)
    return LoadRow(
        public_id=public_id,
        service_type_id=_type_id(code),
        requested_at=requested,
        lat=42.3601,
        lon=-71.0589,
        channel=Channel.IMPORT,
        expected_at=requested + timedelta(days=3),
        attributes=PROVENANCE,
        **fields,
    )


@dataclass
class History:
    staff: Staff
    pending: ServiceRequest  # Public Works, open in the export
    closed: ServiceRequest  # Public Works, closed in the export
    sanitation: ServiceRequest  # another department's, open in the export


@pytest.fixture
def history(catalog: None) -> History:
    staff = staff_make()
    long_ago = timezone.now() - timedelta(days=1790)
    report = requests_load(
        [
            _imported("BOS-1"),
            _imported("BOS-2", status=Status.CLOSED, closed_at=long_ago),
            _imported("BOS-3", code="graffiti"),
        ]
    )
    assert report.inserted == 3
    get = ServiceRequest.objects.get
    return History(staff, get(public_id="BOS-1"), get(public_id="BOS-2"), get(public_id="BOS-3"))


def _console(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _sanitation_supervisor() -> User:
    boss = user_make("sasha", is_staff=True)
    member_add(team_make(department="sanitation", name="Sanitation B"), boss, TeamRole.SUPERVISOR)
    return boss


def _public_works() -> list[int]:
    return list(
        ServiceType.objects.filter(department__code="public-works").values_list("id", flat=True)
    )


def _all_time() -> Window:
    return Window(local_today() - timedelta(days=2000), local_today())


# --- Kept apart


def test_an_imported_open_request_is_history_not_live_work(history: History) -> None:
    live = request_make("pothole")  # a live request of Public Works (due in the future)

    assert set(service_requests_imported_pending().values_list("public_id", flat=True)) == {
        "BOS-1",
        "BOS-3",
    }
    # Not in the backlog nor overdue, though 1,799 days old and long past its due time.
    assert backlog_now(service_type_ids=_public_works()) == {
        "open": 1,
        "overdue": 0,
        "by_age": [
            {"bucket": "0-2", "open": 1},
            {"bucket": "3-7", "open": 0},
            {"bucket": "8-30", "open": 0},
            {"bucket": "31+", "open": 0},
        ],
    }
    assert overdue_list(service_type_ids=_public_works()) == []
    assert overdue_points(service_type_id=_type_id("pothole")) == []
    counters = live_counters()["total"]
    assert (counters["open"], counters["overdue"]) == (1, 0)
    # Not in the measures the scorecard reads: created counts the live request and the
    # closed history, not the request the old system left open.
    total = measures_grouped(window=_all_time(), source="raw")[()]
    assert (total.created, total.closed) == (2, 1)
    page = department_page(department=history.staff.department, window=_all_time(), source="raw")
    assert page["backlog"]["open"] == 1 and page["overdue"] == []
    # Not in the console's queue, and no escalation: it has no work order.
    queue = work_order_queue(department_id=history.staff.department.pk)
    assert [order.service_request_id for order in queue] == [live.pk]
    assert work_orders_escalate(now=timezone.now() + timedelta(days=30)).overdue == 1  # live
    assert not WorkOrder.objects.filter(service_request=history.pending).exists()


def test_requests_the_importer_wrote_are_recognised(catalog: None) -> None:
    report = csv_import(
        BOSTON_CSV,
        "boston",
        mapping=mapping_load(MAPPINGS / "boston.csv"),
        zone="America/New_York",
    )
    imported = ServiceRequest.objects.filter(public_id__startswith="BOS-")
    still_open = imported.exclude(status=Status.CLOSED)
    assert report.inserted == imported.count() > still_open.count() > 0
    assert service_requests_imported_pending().count() == still_open.count()
    assert backlog_now()["open"] == 0
    assert backlog_now()["overdue"] == 0


# --- Adopting


def test_a_supervisor_adopts_from_the_console_and_it_becomes_live(history: History) -> None:
    supervisor = history.staff.supervisor
    before = timezone.now()

    response = _console(supervisor).post(
        f"{IMPORTED}/BOS-1/adopt", {"note": "Still there, checked."}, follow=True
    )

    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    order = WorkOrder.objects.get(service_request=history.pending)
    assert messages == [messages[0]] and messages[0].startswith(f"BOS-1 adopted as WO-{order.pk}")
    # A fresh due time: the pothole's turnaround counted from now, as intake would.
    assert order.created_at >= before
    assert order.due_at is not None and order.due_at > timezone.now()
    assert order.department == history.staff.department
    history.pending.refresh_from_db()
    assert history.pending.expected_at == order.due_at
    assert history.pending.status == Status.SUBMITTED
    created = WorkOrderEvent.objects.get(work_order=order, kind=WorkOrderEventKind.CREATED)
    assert created.data["adopted"] is True and created.actor == supervisor
    note = ServiceRequestEvent.objects.filter(
        service_request=history.pending, kind=EventKind.NOTE
    ).get()
    assert note.actor == supervisor
    assert "Adopted" in note.internal_note and "Still there, checked." in note.internal_note

    # Live from now on: counted in the backlog and the measures, escalated when late.
    assert "BOS-1" not in service_requests_imported_pending().values_list("public_id", flat=True)
    assert backlog_now(service_type_ids=_public_works())["open"] == 1
    assert measures_grouped(window=_all_time(), source="raw")[()].created == 2
    assert order.escalate_again_at is not None
    result = work_orders_escalate(now=order.due_at + timedelta(minutes=1))
    assert result.overdue == 1
    order.refresh_from_db()
    assert order.overdue_at is not None
    assert overdue_list(service_type_ids=_public_works()) == []  # not yet: due in the future
    # Gone from the list of those waiting.
    listed = _console(supervisor).get(IMPORTED)
    assert [r.public_id for r in listed.context["page"]] == []


def test_adopting_twice_is_a_conflict(history: History) -> None:
    supervisor = history.staff.supervisor
    service_request_adopt(service_request=history.pending, actor=supervisor)

    with pytest.raises(City311Error) as refused:
        service_request_adopt(service_request=history.pending, actor=supervisor)
    assert refused.value.status_code == 409 and refused.value.field == "public_id"
    assert WorkOrder.objects.filter(service_request=history.pending).count() == 1
    # From the console, the second click finds nothing waiting: a 404 page.
    response = _console(supervisor).post(f"{IMPORTED}/BOS-1/adopt")
    assert response.status_code == 404


def test_a_closed_or_live_request_cannot_be_adopted(history: History) -> None:
    live = request_make("pothole")
    supervisor = _console(history.staff.supervisor)
    assert supervisor.post(f"{IMPORTED}/BOS-2/adopt").status_code == 404  # closed history
    assert supervisor.post(f"{IMPORTED}/{live.public_id}/adopt").status_code == 404
    assert supervisor.post(f"{IMPORTED}/NOPE-1/adopt").status_code == 404
    assert WorkOrder.objects.filter(service_request=history.closed).count() == 0
    with pytest.raises(City311Error) as refused:
        service_request_adopt(service_request=history.closed, actor=history.staff.supervisor)
    assert refused.value.status_code == 409


def test_outsiders_cannot_adopt(history: History) -> None:
    staff = history.staff
    # Another department's supervisor: the request does not exist for them.
    other = _console(_sanitation_supervisor())
    response = other.post(f"{IMPORTED}/BOS-1/adopt")
    assert response.status_code == 404
    assert "BOS-1" in response.content.decode()
    # The department's crew, another department's crew: not the console's users.
    assert _console(staff.crew).post(f"{IMPORTED}/BOS-1/adopt").status_code == 403
    assert _console(staff.outsider).post(f"{IMPORTED}/BOS-1/adopt").status_code == 403
    # Anonymous: to the sign-in page.
    anonymous = Client().post(f"{IMPORTED}/BOS-1/adopt")
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    # Only POST adopts.
    assert _console(staff.supervisor).get(f"{IMPORTED}/BOS-1/adopt").status_code == 405
    assert not WorkOrder.objects.filter(service_request=history.pending).exists()


# --- The console's list


def test_the_department_lists_its_imported_requests_apart(history: History) -> None:
    response = _console(history.staff.supervisor).get(IMPORTED)

    assert response.status_code == 200
    assert [r.public_id for r in response.context["page"]] == ["BOS-1"]  # not closed, not BOS-3
    html = response.content.decode()
    assert f'action="{IMPORTED}/BOS-1/adopt"' in html
    assert "Adopt BOS-1" in html
    # Another department's supervisor sees only their own (the graffiti request).
    theirs = _console(_sanitation_supervisor()).get(IMPORTED)
    assert [r.public_id for r in theirs.context["page"]] == ["BOS-3"]
    assert "BOS-1" not in theirs.content.decode()
    # Crew and anonymous users do not reach it.
    assert _console(history.staff.crew).get(IMPORTED).status_code == 403
    assert Client().get(IMPORTED).status_code == 302


def test_the_list_is_paginated(history: History) -> None:
    requests_load([_imported(f"BOS-P{n:03d}", days=1000 + n) for n in range(55)])
    console = _console(history.staff.supervisor)

    first = console.get(IMPORTED)
    second = console.get(f"{IMPORTED}?page=2")

    assert first.context["page"].paginator.count == 56
    assert len(first.context["page"]) == 50 and len(second.context["page"]) == 6
    assert first.context["page"][0].public_id == "BOS-P000"  # the most recent first
    assert "?department=public-works&amp;page=2" in first.content.decode()
