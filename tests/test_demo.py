"""``manage.py demo_load``: demo users and requests through the real services, idempotent."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from backend.catalog.models import ServiceType
from backend.service_requests.demo import DEMO_REQUESTS
from backend.service_requests.models import (
    Channel,
    CloseReason,
    ServiceRequest,
    ServiceRequestEvent,
    Status,
)
from workorders.models import WorkOrder

pytestmark = pytest.mark.usefixtures("catalog")


def _demo_load(*args: str) -> str:
    out = StringIO()
    call_command("demo_load", *args, stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {
        "users": get_user_model().objects.count(),
        "requests": ServiceRequest.objects.count(),
        "events": ServiceRequestEvent.objects.count(),
        "work_orders": WorkOrder.objects.count(),
    }


def test_demo_load_creates_users_and_requests_in_every_status_and_service() -> None:
    output = _demo_load()

    users = {u.username: u for u in get_user_model().objects.all()}
    assert set(users) == {"admin", "supervisor", "crew", "resident"}
    assert users["admin"].is_superuser and users["admin"].is_staff
    assert users["supervisor"].is_staff and not users["supervisor"].is_superuser
    assert list(users["supervisor"].groups.values_list("name", flat=True)) == ["supervisors"]
    assert list(users["crew"].groups.values_list("name", flat=True)) == ["crew"]
    assert not users["crew"].is_staff and not users["resident"].is_staff
    for name in users:
        assert users[name].check_password(f"{name}-dev-password")
        assert f"{name}-dev-password" in output

    requests = ServiceRequest.objects.all()
    assert requests.count() == len(DEMO_REQUESTS) >= 30
    assert set(requests.values_list("status", flat=True)) == set(Status.values)
    assert set(requests.values_list("service_type__service_code", flat=True)) == set(
        ServiceType.objects.values_list("service_code", flat=True)
    )
    assert {"app", "web", "chat", "open311", "phone"} <= set(
        requests.values_list("channel", flat=True)
    )
    assert WorkOrder.objects.count() == requests.count()
    assert f"Demo requests: created {len(DEMO_REQUESTS)} across 12 services." in output


def test_demo_requests_tell_their_story_through_events() -> None:
    _demo_load()

    requests = ServiceRequest.objects.all()
    assert len({r.close_reason for r in requests if r.status == Status.CLOSED}) >= 4
    reopened = ServiceRequestEvent.objects.filter(from_status=Status.CLOSED).get()
    assert reopened.to_status == Status.IN_PROGRESS
    duplicate = requests.get(close_reason=CloseReason.DUPLICATE)
    assert duplicate.duplicate_of is not None and duplicate.duplicate_of.is_open
    for sr in requests:
        events = list(sr.events.order_by("created_at", "id"))
        assert events[0].kind == "created"
        assert (events[-1].to_status or sr.status) == sr.status
    assert ServiceRequestEvent.objects.exclude(public_note="").count() > len(DEMO_REQUESTS)
    ages = [r.requested_at for r in requests]
    assert (max(ages) - min(ages)).days >= 25
    phone = requests.filter(channel=Channel.PHONE).first()
    assert phone is not None
    assert phone.events.get(kind="created").actor.username == "supervisor"  # type: ignore[union-attr]


def test_a_second_run_creates_nothing() -> None:
    _demo_load()
    before = _counts()

    output = _demo_load()

    assert _counts() == before
    assert f"Demo requests: {len(DEMO_REQUESTS)} already exist; none created." in output
    assert "already existed, password left unchanged" in output


def test_it_refuses_to_run_in_production(settings: Any) -> None:
    settings.ENVIRONMENT = "production"

    with pytest.raises(CommandError, match=r"production environment.*Use --force"):
        _demo_load()

    assert _counts() == {"users": 0, "requests": 0, "events": 0, "work_orders": 0}


def test_force_loads_it_in_production(settings: Any) -> None:
    settings.ENVIRONMENT = "production"

    output = _demo_load("--force")

    assert "PRODUCTION" in output
    assert ServiceRequest.objects.count() == len(DEMO_REQUESTS)


def test_it_refuses_to_run_without_the_catalog() -> None:
    ServiceType.objects.filter(service_code="rodents").update(active=False)

    with pytest.raises(CommandError, match=r"rodents.*catalog_load"):
        _demo_load()

    assert _counts()["requests"] == 0


def test_the_supervisor_can_work_in_the_admin() -> None:
    _demo_load()
    client = Client()
    assert client.login(username="supervisor", password="supervisor-dev-password")

    listing = client.get(reverse("admin:service_requests_servicerequest_changelist"))
    phone = client.get(reverse("admin:service_requests_servicerequest_phone_report"))

    assert listing.status_code == 200
    assert listing.context["cl"].result_count == len(DEMO_REQUESTS)
    assert phone.status_code == 200


@pytest.mark.django_db
def test_demo_status_changes_are_spread_over_time(catalog: None) -> None:
    from datetime import timedelta

    from django.utils import timezone

    from backend.service_requests.demo import demo_load
    from backend.service_requests.models import ServiceRequestEvent

    demo_load()
    changes = ServiceRequestEvent.objects.filter(kind="status_changed")
    assert changes.exists()
    for event in changes.select_related("service_request"):
        assert event.created_at > event.service_request.requested_at
        assert event.created_at <= timezone.now()
    # Most stories happened in the past, not all at load time.
    recent = changes.filter(created_at__gt=timezone.now() - timedelta(minutes=5))
    assert recent.count() < changes.count() / 2
