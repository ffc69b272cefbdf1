"""The one lock order of a request and its work order: the request row first, then the
order's. Every write that touches both takes its locks through these functions, so two
writers never wait on each other crosswise (saleor's ``order/lock_objects.py``).

Each must run inside ``transaction.atomic()``: the locks last until the transaction ends."""

from __future__ import annotations

from backend.service_requests.models import ServiceRequest
from workorders.models import OPEN_STATUSES, WorkOrder


def request_lock(service_request_id: int) -> ServiceRequest:
    """Locks the request row and returns it as it is now."""
    return ServiceRequest.objects.select_for_update().get(pk=service_request_id)


def requests_lock(*service_requests: ServiceRequest) -> dict[int, ServiceRequest]:
    """Locks several request rows, lower id first (two merges never wait on each other
    crosswise); by primary key."""
    ids = [service_request.pk for service_request in service_requests]
    return {
        locked.pk: locked
        for locked in ServiceRequest.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    }


def request_and_order_lock(work_order: WorkOrder) -> tuple[ServiceRequest, WorkOrder]:
    """Locks the order's request, then the order, and returns both as they are now."""
    service_request = request_lock(work_order.service_request_id)
    locked = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
    return service_request, locked


def active_order_lock(service_request: ServiceRequest) -> WorkOrder | None:
    """Locks and returns the request's open work order, if it has one. The caller holds the
    request's lock already (``request_lock``)."""
    return (
        WorkOrder.objects.select_for_update()
        .filter(service_request=service_request, status__in=OPEN_STATUSES)
        .first()
    )
