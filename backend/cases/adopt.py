"""Adopting an imported request: a request still open in an old system's export
(``analytics.importing``) is history until a supervisor takes it up. Adopting gives it a work
order as the intake would (routed, due after the service's turnaround counted from now), writes
an event, and from then on the request is live work: in the backlog, the overdue lists,
escalation and the scorecard (docs/metrics.md, "Live work"). Call ``service_request_adopt``."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.service_requests.models import EventKind, ServiceRequest
from backend.service_requests.services import service_request_event_create
from workorders.errors import Conflict
from workorders.locks import request_lock
from workorders.models import WorkOrder
from workorders.selectors import service_requests_imported_pending
from workorders.services import do_work_order_create, note_clean
from workorders.services.machine import User


def service_request_adopt(
    *,
    service_request: ServiceRequest,
    actor: User = None,
    note: str = "",
    at: datetime | None = None,
) -> WorkOrder:
    """Gives an imported request still open its first work order, its SLA counted from now
    (the request's ``expected_at`` follows the new due time), and writes a note event on
    the request. Raises ``Conflict`` (409) when the request is no longer waiting: adopted
    already (two supervisors at once), or closed. Access is the caller's to check
    (``workorders.access.imported_request_access``)."""
    note = note_clean(note)
    with transaction.atomic():
        locked = request_lock(service_request.pk)
        if not service_requests_imported_pending().filter(pk=locked.pk).exists():
            raise Conflict(
                _("Request %(id)s is not waiting to be adopted: it has a work order or is closed.")
                % {"id": locked.public_id},
                field="public_id",
            )
        now = at or timezone.now()
        locked.updated_at = now
        locked.save(update_fields=["updated_at"])
        service_request_event_create(
            service_request=locked,
            kind=EventKind.NOTE,
            actor=actor,
            internal_note="Adopted from the imported history: it is live work from now on."
            + (f" {note}" if note else ""),
            at=now,
        )
        return do_work_order_create(
            service_request=locked, at=now, sla_start=now, actor=actor, data={"adopted": True}
        )
