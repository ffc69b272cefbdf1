"""The admin: routing rules, teams, calendars and areas are data staff edit; work orders are
read-only; the request actions close, reopen, re-route and merge through the services."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from backend.catalog.models import Department, ServiceType
from backend.service_requests.models import CloseReason, ServiceRequest, Status
from tests.admin.conftest import changelist_url, messages_of
from tests.workorders.factories import (
    Staff,
    one_of_each_workorders_model,
    order_of,
    request_make,
)
from workorders.models import RoutingRule, WorkOrder, WorkOrderStatus

pytestmark = pytest.mark.django_db

OURS = {"workorders", "authtoken"}


def _url(model: Any, view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_work_order_page_loads(admin_client: Client, catalog: None) -> None:
    one_of_each_workorders_model()
    order_of(request_make())
    models = [m for m in admin.site._registry if m._meta.app_label in OURS]
    assert len(models) >= 8
    for model in models:
        assert admin_client.get(_url(model, "changelist")).status_code == 200, model
        instance = model._default_manager.first()
        assert instance is not None, model
        assert admin_client.get(_url(model, "change", instance.pk)).status_code == 200, model


def test_a_rule_naming_another_departments_team_is_a_form_error(
    admin_client: Client, staff: Staff
) -> None:
    sanitation = Department.objects.get(code="sanitation")
    response = admin_client.post(
        _url(RoutingRule, "add"),
        {
            "order": 5,
            "name": "Mixed",
            "department": sanitation.pk,
            "team": staff.team.pk,
            "active": "on",
        },
    )
    assert response.status_code == 200
    assert "The team must belong to the rule" in response.content.decode()
    assert not RoutingRule.objects.exists()


def test_a_rule_is_added_and_used(admin_client: Client, staff: Staff) -> None:
    response = admin_client.post(
        _url(RoutingRule, "add"),
        {
            "order": 5,
            "name": "Graffiti to works",
            "department": staff.department.pk,
            "service_type": ServiceType.objects.get(service_code="graffiti").pk,
            "team": staff.team.pk,
            "active": "on",
        },
    )
    assert response.status_code == 302
    assert order_of(request_make("graffiti")).team == staff.team


def _run(client: Client, action: str, *requests: ServiceRequest, **extra: Any) -> Any:
    return client.post(
        changelist_url(),
        {
            "action": action,
            "_selected_action": [sr.pk for sr in requests],
            "index": 0,
            "public_note": "",
            **extra,
        },
        follow=True,
    )


def test_closing_in_the_admin_cancels_the_work_order_and_reopening_makes_a_new_one(
    admin_client: Client, catalog: None
) -> None:
    sr = request_make()
    first = order_of(sr)

    _run(admin_client, "close_resolved", sr)
    first.refresh_from_db()
    sr.refresh_from_db()
    assert (sr.status, first.status) == (Status.CLOSED, WorkOrderStatus.CANCELLED)

    _run(admin_client, "reopen", sr)
    sr.refresh_from_db()
    assert sr.status == Status.IN_PROGRESS
    second = order_of(sr)
    assert second.pk != first.pk and second.status == WorkOrderStatus.NEW


def test_change_service_and_merge_actions(admin_client: Client, catalog: None) -> None:
    sr, original = request_make(), request_make(lat=42.3603)
    graffiti = ServiceType.objects.get(service_code="graffiti")

    missing = _run(admin_client, "change_service", sr)
    rerouted = _run(admin_client, "change_service", sr, service_type=graffiti.pk)
    merged = _run(admin_client, "merge_into", sr, original=original.public_id)
    no_original = _run(admin_client, "merge_into", original, original="SR-0")

    assert messages_of(missing) == ["Choose the new service in “New service” first."]
    assert messages_of(rerouted) == [f"Re-routed 1 request as Graffiti: {sr.public_id}."]
    assert WorkOrder.objects.filter(service_request=sr).count() == 2
    assert messages_of(merged) == [f"Merged 1 request into {original.public_id}: {sr.public_id}."]
    sr.refresh_from_db()
    assert (sr.close_reason, sr.duplicate_of) == (CloseReason.DUPLICATE, original)
    assert "no request 'SR-0'" in messages_of(no_original)[0]
    again = _run(admin_client, "merge_into", sr, original=original.public_id)
    assert "cannot be merged" in messages_of(again)[0]
