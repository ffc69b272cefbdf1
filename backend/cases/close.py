"""Staff closing a request themselves (the admin's close actions): its open work order is
cancelled and the request closed, in one transaction. Call
``service_request_close_for_staff``; the request domain's ``do_service_request_close``
alone would leave the order open."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from backend.service_requests.models import OPEN_STATUSES as REQUEST_OPEN_STATUSES
from backend.service_requests.models import CloseReason, ServiceRequest
from backend.service_requests.services import do_service_request_close
from workorders.locks import active_order_lock, request_lock
from workorders.services import do_work_order_cancel
from workorders.services.machine import User


def service_request_close_for_staff(
    *,
    service_request: ServiceRequest,
    reason: str,
    actor: User = None,
    public_note: str = "",
    at: datetime | None = None,
) -> ServiceRequest:
    """Staff close a request themselves (the admin's close actions): its open work order is
    cancelled and the request closed with ``reason``. Raises the request's
    ``IllegalTransition`` when it is closed already."""
    if reason == CloseReason.DUPLICATE:
        raise ValueError("Close a duplicate with service_request_merge")
    with transaction.atomic():
        locked = request_lock(service_request.pk)
        now = at or timezone.now()
        if locked.status in REQUEST_OPEN_STATUSES:
            active = active_order_lock(locked)
            if active is not None:
                do_work_order_cancel(
                    work_order=active,
                    actor=actor,
                    note="The request was closed by staff.",
                    at=now,
                    data={"close_reason": reason},
                )
        return do_service_request_close(
            service_request=locked, reason=reason, actor=actor, public_note=public_note, at=now
        )
