"""The work-order lists are built by ``workorders.api.rows`` (plain dicts, for speed); the
serializers stay the schema and serve single orders. The two must give the same answer,
field for field, for orders in every state: with a hold, proof photos (verified and
flagged), review, overdue, cancelled, the resident's photos processed."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.test import APIClient, APIRequestFactory

from backend.intake.services import PhotoUpload
from mobile_api.crew_serializers import CrewWorkOrderOut
from tests.conftest import jpeg_bytes
from tests.workorders.factories import Staff, order_in, order_of, proof_jpeg, request_make
from workorders.api.rows import work_order_rows
from workorders.api.serializers import WorkOrderOut
from workorders.models import WorkOrder, WorkOrderStatus
from workorders.selectors import StaffAccess, staff_access_get, work_order_list_for_user
from workorders.services import work_order_complete

pytestmark = pytest.mark.django_db


def _json(data: Any) -> Any:
    return json.loads(JSONRenderer().render(data))


@pytest.fixture
def orders(staff: Staff, django_capture_on_commit_callbacks: Any) -> list[WorkOrder]:
    made: list[WorkOrder] = []
    with django_capture_on_commit_callbacks(execute=True):  # photos processed (eager Celery)
        with_photo = request_make(
            photos=[PhotoUpload(field="photos", data=jpeg_bytes(color=(10, 120, 40)))],
            address="1 Main St",
        )
        made.append(order_in(WorkOrderStatus.ASSIGNED, staff=staff, service_request=with_photo))
        for status in WorkOrderStatus.values:
            made.append(order_in(status, staff=staff))
        flagged = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff)
        far = proof_jpeg(lat=42.40, long=-71.00, taken=timezone.now() - timedelta(minutes=20))
        made.append(
            work_order_complete(work_order=flagged, actor=staff.crew, proof_photos=[far]).work_order
        )
    overdue = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff)
    WorkOrder.objects.filter(pk=overdue.pk).update(due_at=timezone.now() - timedelta(hours=1))
    made.append(overdue)
    assert any(order.review_required for order in made)
    assert order_of(with_photo).service_request.photos.filter(state="ready").exists()
    return made


def _request(user: Any) -> Request:
    request = Request(APIRequestFactory().get("/api/v1/workorders"))
    request.user = user
    return request


def _access(staff: Staff) -> StaffAccess:
    return staff_access_get(user=staff.supervisor)


def test_the_rows_equal_the_serializers_answer(staff: Staff, orders: list[WorkOrder]) -> None:
    request = _request(staff.supervisor)
    queryset = work_order_list_for_user(access=_access(staff))
    expected = _json(WorkOrderOut(queryset, many=True, context={"request": request}).data)
    rows = _json(work_order_rows(queryset, request=request))
    assert len(rows) >= len(orders)
    assert rows == expected
    assert any(row["proof_photos"] and row["proof_photos"][0]["url"] for row in rows)
    assert any(row["hold"] for row in rows) and any(row["overdue"] for row in rows)


def test_the_crew_rows_equal_the_crew_serializers_answer(
    staff: Staff, orders: list[WorkOrder]
) -> None:
    from workorders.access import crew_work_orders

    request = _request(staff.crew)
    queryset = crew_work_orders(access=staff_access_get(user=staff.crew))
    expected = _json(CrewWorkOrderOut(queryset, many=True, context={"request": request}).data)
    rows = _json(work_order_rows(queryset, request=request, crew=True))
    assert rows == expected
    assert any(row["request_photos"] and row["request_photos"][0]["url"] for row in rows)


def test_the_list_endpoints_answer_the_serializers_shape(
    staff: Staff, orders: list[WorkOrder], supervisor_api: APIClient, crew_api: APIClient
) -> None:
    staff_answer = supervisor_api.get("/api/v1/workorders", {"limit": 200})
    assert staff_answer.status_code == 200
    queryset = work_order_list_for_user(access=_access(staff))
    request = _request(staff.supervisor)
    assert staff_answer.json()["results"] == _json(
        WorkOrderOut(queryset, many=True, context={"request": request}).data
    )
    crew_answer = crew_api.get("/mobile/v1/crew/workorders")
    assert crew_answer.status_code == 200
    assert {row["id"] for row in crew_answer.json()} == {
        order.pk for order in orders if order.team_id == staff.team.pk
    }
