"""Writes to work orders. The intake pipeline creates one per new request."""

from __future__ import annotations

from datetime import datetime

from backend.service_requests.models import ServiceRequest
from workorders.models import WorkOrder


def work_order_create(*, service_request: ServiceRequest, at: datetime) -> WorkOrder:
    """The department's work order for a new request, due when the request is expected."""
    return WorkOrder.objects.create(
        service_request=service_request,
        department_id=service_request.service_type.department_id,
        due_at=service_request.expected_at,
        created_at=at,
        updated_at=at,
    )
