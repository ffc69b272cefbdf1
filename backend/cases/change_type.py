"""Staff reclassifying a request: a new service type, and its work order re-routed for it.
Call ``service_request_change_type``."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from backend.catalog.models import ServiceType
from backend.service_requests.models import EventKind, ServiceRequest, Status
from backend.service_requests.services import service_request_event_create
from workorders.errors import IllegalTransition, InvalidInput
from workorders.locks import active_order_lock, request_lock
from workorders.models import WorkOrder
from workorders.services import do_work_order_cancel, do_work_order_create, note_clean
from workorders.services.machine import User


def service_request_change_type(
    *,
    service_request: ServiceRequest,
    service_type: ServiceType,
    actor: User = None,
    note: str = "",
    at: datetime | None = None,
) -> WorkOrder | None:
    """Staff reclassify a request: the service type changes and the request is re-routed.
    Its open work order is cancelled and a new one created for the new service's route, its
    SLA counted from now. Both steps write events. The same type again changes nothing."""
    if not service_type.active:
        raise InvalidInput(
            f"There is no active service {service_type.service_code!r}.", field="service_code"
        )
    note = note_clean(note)
    with transaction.atomic():
        locked = request_lock(service_request.pk)
        if locked.status == Status.CLOSED:
            raise IllegalTransition(
                action="change the service of", current_status=locked.status, entity="request"
            )
        if locked.service_type_id == service_type.pk:
            return active_order_lock(locked)
        now = at or timezone.now()
        old = locked.service_type
        locked.service_type = service_type
        locked.updated_at = now
        locked.save(update_fields=["service_type", "updated_at"])
        service_request_event_create(
            service_request=locked,
            kind=EventKind.NOTE,
            actor=actor,
            internal_note=f"Service changed from {old.service_code} to "
            f"{service_type.service_code}." + (f" {note}" if note else ""),
            at=now,
        )
        active = active_order_lock(locked)
        previous = None
        if active is not None:
            previous = active.pk
            do_work_order_cancel(
                work_order=active,
                actor=actor,
                note=note or "Re-routed: the request's service changed.",
                at=now,
                data={
                    "rerouted": True,
                    "from_service": old.service_code,
                    "to_service": service_type.service_code,
                },
            )
        return do_work_order_create(
            service_request=locked,
            at=now,
            sla_start=now,
            actor=actor,
            data={"rerouted_from": previous, "from_service": old.service_code},
        )
