"""The supervisor console (/staff/workorders/): the department's open orders by due time
with overdue ones highlighted, actions calling the services, and the proof review queue."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from backend.catalog.models import ServiceType
from backend.service_requests.models import Status
from tests.workorders.factories import (
    Staff,
    good_proof,
    member_add,
    order_in,
    order_of,
    proof_jpeg,
    request_make,
    team_make,
    user_make,
)
from workorders.models import TeamRole, WorkOrder, WorkOrderStatus
from workorders.services import work_order_assign, work_order_complete, work_order_start

pytestmark = pytest.mark.django_db

QUEUE = "/staff/workorders/"
S = WorkOrderStatus


@pytest.fixture
def console(staff: Staff) -> Client:
    client = Client()
    client.force_login(staff.supervisor)
    return client


def _action(client: Client, order: WorkOrder, action: str, **data: Any) -> Any:
    return client.post(f"{QUEUE}{order.pk}/{action}", data, follow=True)


def _messages(response: Any) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def test_the_queue_lists_open_orders_by_due_time_with_overdue_highlighted(
    staff: Staff, console: Client
) -> None:
    soon = order_of(request_make("pothole", requested_at=timezone.now() - timedelta(hours=70)))
    late = order_of(request_make("pothole", requested_at=timezone.now() - timedelta(hours=80)))
    later = order_of(request_make("sidewalk_damage"))
    done = order_in(S.COMPLETED, staff=staff)
    order_of(request_make("graffiti"))  # another department's

    response = console.get(QUEUE)

    assert response.status_code == 200
    shown = [order.pk for order in response.context["page"]]
    assert shown == [late.pk, soon.pk, later.pk]  # not the completed one, nor Sanitation's
    assert done.pk not in shown
    html = response.content.decode()
    row = re.search(rf'<tr class="late">\s*<td><a href="{QUEUE}{late.pk}">', html)
    assert row is not None
    assert html.count("Overdue</span>") == 1


def test_a_page_of_50_orders_takes_at_most_10_queries(
    staff: Staff, console: Client, django_assert_max_num_queries: Any
) -> None:
    for number in range(55):
        order = order_of(request_make("pothole", lat=42.35 + number / 10000))
        if number % 3 == 0:
            work_order_assign(work_order=order, team=staff.team, actor=staff.supervisor)
        if number % 6 == 0:
            work_order_start(work_order=order, actor=staff.crew)

    # 9 for the queue, + the services of the filters (the workload comes with the map's data).
    with django_assert_max_num_queries(10):
        response = console.get(QUEUE)

    assert response.status_code == 200
    assert len(response.context["page"]) == 50
    assert response.context["page"].paginator.count == 55


def test_actions_call_the_services(staff: Staff, console: Client) -> None:
    order = order_of(request_make(contact_email="r@example.org"))

    assigned = _action(console, order, "assign", team=staff.team.pk, next=QUEUE)
    started = _action(console, order, "start")
    held = _action(console, order, "hold", reason="weather")
    resumed = _action(console, order, "resume")
    completed = console.post(
        f"{QUEUE}{order.pk}/complete",
        {"photos": [SimpleUploadedFile("p.jpg", good_proof(), "image/jpeg")], "note": "Done"},
        follow=True,
    )

    assert assigned.redirect_chain[-1][0] == QUEUE
    assert _messages(assigned) == [f"WO-{order.pk} assigned to Crew A."]
    assert _messages(started) == [f"WO-{order.pk} started."]
    assert "paused" in _messages(held)[0]
    assert "resumed" in _messages(resumed)[0]
    assert _messages(completed) == [f"WO-{order.pk} completed; the request is closed."]
    order.refresh_from_db()
    assert order.status == S.COMPLETED
    order.service_request.refresh_from_db()
    assert order.service_request.status == Status.CLOSED


def test_errors_come_back_as_messages_never_as_500(staff: Staff, console: Client) -> None:
    order = order_in(S.IN_PROGRESS, staff=staff)

    no_photo = _action(console, order, "complete", note="Done")
    illegal = _action(console, order, "start")
    bad_form = _action(console, order, "hold", reason="lunch")
    unknown = console.post(f"{QUEUE}{order.pk}/explode")
    nowhere = _action(console, order, "merge", into="SR-1999-000001")

    assert no_photo.status_code == 200
    assert _messages(no_photo) == [
        "complete — photos: At least one proof photo of the finished work is required to "
        "complete a work order."
    ]
    assert "status: Cannot start a work order that is in progress." in _messages(illegal)[0]
    assert _messages(bad_form)[0].startswith("hold — reason:")
    assert unknown.status_code == 404
    assert "into: No request SR-1999-000001" in _messages(nowhere)[0]
    order.refresh_from_db()
    assert order.status == S.IN_PROGRESS


def test_merge_and_re_route_from_the_order_page(staff: Staff, console: Client) -> None:
    original = request_make(lat=42.3602)
    duplicate = order_of(request_make())
    other = order_of(request_make())

    merged = _action(console, duplicate, "merge", into=original.public_id, note="Same one")
    rerouted = _action(console, other, "change-type", service_type=_service_id("graffiti"))

    assert "merged into" in _messages(merged)[0]
    duplicate.service_request.refresh_from_db()
    assert duplicate.service_request.duplicate_of == original
    assert "re-routed as WO-" in _messages(rerouted)[0] and "Sanitation" in _messages(rerouted)[0]


def _service_id(code: str) -> int:
    return ServiceType.objects.get(service_code=code).pk


def test_the_review_queue_shows_flagged_completions_and_takes_decisions(
    staff: Staff, console: Client
) -> None:
    flagged = order_in(S.IN_PROGRESS, staff=staff)
    work_order_complete(
        work_order=flagged, actor=staff.crew, proof_photos=[proof_jpeg(lat=None, long=None)]
    )
    order_in(S.COMPLETED, staff=staff)  # verified: not in the queue

    page = console.get(f"{QUEUE}review")
    queue = console.get(QUEUE)

    assert [o.pk for o in page.context["orders"]] == [flagged.pk]
    assert "no GPS position" in page.content.decode()
    assert "1 proof review" in queue.content.decode()

    accepted = _action(console, flagged, "review", decision="accepted", next=f"{QUEUE}review")
    assert _messages(accepted) == [f"WO-{flagged.pk} review: accepted."]
    assert list(accepted.context["orders"]) == []


def test_the_order_page_shows_history_and_actions(staff: Staff, console: Client) -> None:
    order = order_in(S.ON_HOLD, staff=staff)
    page = console.get(f"{QUEUE}{order.pk}")
    html = page.content.decode()
    assert page.status_code == 200
    assert "Waiting for parts" in html and "<legend>Resume</legend>" in html
    assert "<legend>Put on hold</legend>" not in html
    assert [e.kind for e in page.context["events"]] == ["created", "assigned", "started", "held"]


def test_who_may_use_the_console(staff: Staff, catalog: None) -> None:
    order = order_in(S.NEW, staff=staff)
    crew, anonymous, foreign = Client(), Client(), Client()
    crew.force_login(staff.crew)
    foreign_supervisor = user_make("fran", is_staff=True)
    member_add(
        team_make(department="sanitation", name="S2"), foreign_supervisor, TeamRole.SUPERVISOR
    )
    foreign.force_login(foreign_supervisor)

    assert crew.get(QUEUE).status_code == 403
    assert anonymous.get(QUEUE).status_code == 302
    assert anonymous.get(QUEUE)["Location"].startswith("/accounts/login/?next=")
    assert foreign.get(f"{QUEUE}{order.pk}").status_code == 404
    assert foreign.post(f"{QUEUE}{order.pk}/assign", {}).status_code == 404
    assert foreign.get(QUEUE, {"department": "public-works"}).status_code == 404
    assert foreign.get(QUEUE).context["department"].code == "sanitation"
