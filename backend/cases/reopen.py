"""Reopening a closed request for work: the request goes back to in progress and gets a new
work order whose SLA clock starts now. Call ``service_request_reopen_for_work``; the
request domain's ``do_service_request_reopen`` alone would leave it without an order."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from backend.service_requests.models import ServiceRequest
from backend.service_requests.services import do_service_request_reopen
from workorders.locks import active_order_lock, request_lock
from workorders.models import WorkOrder
from workorders.services import do_work_order_create, note_clean
from workorders.services.machine import User


def do_service_request_reopen_for_work(
    *,
    service_request: ServiceRequest,
    actor: User,
    public_note: str,
    internal_note: str,
    channel: str,
    at: datetime,
) -> WorkOrder:
    """Reopens the request and gives it a new work order (or keeps the open one it may
    still have). The caller holds the request's lock (``workorders.locks.request_lock``) in
    its transaction and has cleaned the notes; otherwise use
    ``service_request_reopen_for_work``. Raises the request's ``IllegalTransition`` when it
    is not closed."""
    reopened = do_service_request_reopen(
        service_request=service_request,
        actor=actor,
        channel=channel,
        public_note=public_note,
        internal_note=internal_note,
        at=at,
    )
    active = active_order_lock(reopened)
    if active is not None:
        return active
    return do_work_order_create(
        service_request=reopened, at=at, sla_start=at, actor=actor, data={"reopened": True}
    )


def service_request_reopen_for_work(
    *,
    service_request: ServiceRequest,
    actor: User = None,
    public_note: str = "",
    internal_note: str = "",
    channel: str = "",
    at: datetime | None = None,
) -> WorkOrder:
    """Reopens a closed request and gives it a new work order whose SLA clock starts now
    (or keeps the open one it may still have). Raises the request's ``IllegalTransition``
    when it is not closed."""
    with transaction.atomic():
        return do_service_request_reopen_for_work(
            service_request=request_lock(service_request.pk),
            actor=actor,
            public_note=note_clean(public_note, field="public_note"),
            internal_note=note_clean(internal_note),
            channel=channel,
            at=at or timezone.now(),
        )
