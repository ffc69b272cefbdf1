"""``manage.py demo_load`` gives the console something to show: a crew per department with
the demo supervisor and crew in it, and work orders in every state."""

from __future__ import annotations

from collections import Counter

import pytest
from django.test import Client

from backend.catalog.models import Department
from backend.service_requests.demo import demo_load
from backend.service_requests.models import ServiceRequest
from tests.factories import submit
from workorders.models import RoutingRule, Team, TeamMember, WorkOrder, WorkOrderStatus

pytestmark = pytest.mark.usefixtures("catalog")


def test_the_demo_staffs_every_department_and_moves_work_orders() -> None:
    demo_load()

    for department in Department.objects.all():
        team = Team.objects.filter(department=department).first()
        assert team is not None, department
        roles = set(TeamMember.objects.filter(team=team).values_list("user__username", "role"))
        assert roles == {("supervisor", "supervisor"), ("crew", "crew")}
    statuses = Counter(WorkOrder.objects.values_list("status", flat=True))
    assert set(statuses) == set(WorkOrderStatus.values)
    assert WorkOrder.objects.filter(review_required=True).count() == 1
    completed = WorkOrder.objects.filter(status="completed")
    assert all(order.proofs.exists() for order in completed)
    assert all(order.on_time is not None for order in completed)


def test_the_demo_rule_routes_new_south_boston_potholes_and_a_second_run_adds_nothing() -> None:
    demo_load()
    teams, rules = Team.objects.count(), RoutingRule.objects.count()

    demo_load()
    order = WorkOrder.objects.get(service_request=submit("pothole", lat=42.3359, long=-71.0502))

    assert (Team.objects.count(), RoutingRule.objects.count()) == (teams, rules)
    assert order.team is not None and order.team.name == "Public Works South Boston crew"


def test_the_demo_supervisor_sees_a_living_console() -> None:
    demo_load()
    client = Client()
    assert client.login(username="supervisor", password="supervisor-dev-password")

    queue = client.get("/staff/workorders/", {"department": "public-works"})
    review = client.get("/staff/workorders/review", {"department": "animal-services"})

    assert queue.status_code == 200 and queue.context["page"].paginator.count > 0
    assert len(review.context["orders"]) == 1
    assert ServiceRequest.objects.filter(status="closed").exists()
