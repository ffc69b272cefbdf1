"""Work-order lists as plain dicts: the same answer as ``WorkOrderOut`` / ``CrewWorkOrderOut``
(the serializers stay the schema and serve single orders), built without DRF's per-field
machinery. A crew's queue is up to 200 orders with their photos: through the serializers
it cost about 1.6 ms of CPU an order, the largest share of the web processes' time in
``bench/load.py``. ``tests/workorders/test_rows.py`` holds the two equal, field for field.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django.utils.encoding import iri_to_uri
from rest_framework.request import Request

from backend.photos.models import PhotoKind, ProcessingState
from workorders.models import CLOCK_RUNNING_STATUSES, WorkOrder, WorkOrderHold


def _dt(value: datetime | None) -> str | None:
    """As DRF's ``DateTimeField`` writes it: ISO 8601 in the current time zone."""
    if not value:
        return None
    text = value.astimezone(timezone.get_current_timezone()).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class _Urls:
    """Absolute media URLs, as the serializers build them (``build_absolute_uri``), with the
    host part worked out once per list."""

    def __init__(self, request: Request | None) -> None:
        self.request = request
        self.base: str | None = None
        if request is not None:
            self.base = request.build_absolute_uri("/")[:-1]

    def __call__(self, field: FieldFile) -> str | None:
        if not field:
            return None
        url = str(field.url)
        if self.request is None or self.base is None:
            return url
        plain_path = url.startswith("/") and not url.startswith("//")
        if plain_path and "/./" not in url and "/../" not in url:
            return iri_to_uri(self.base + url)  # what build_absolute_uri does with a path
        return self.request.build_absolute_uri(url)


def work_order_open_holds(order: WorkOrder) -> list[WorkOrderHold]:
    """The order's open holds: prefetched by the selectors as ``open_holds`` (an empty list
    means none, no query), read otherwise."""
    holds: list[WorkOrderHold] | None = getattr(order, "open_holds", None)
    if holds is None:
        holds = list(order.holds.filter(ended_at__isnull=True))
    return holds


def work_order_overdue(order: WorkOrder, *, now: datetime) -> bool:
    """Past due with the clock running (marked by the escalation scan or not yet)."""
    if order.status not in CLOCK_RUNNING_STATUSES:
        return False
    return order.overdue_at is not None or (order.due_at is not None and order.due_at < now)


def _hold(order: WorkOrder) -> dict[str, Any] | None:
    holds = work_order_open_holds(order)
    if not holds:
        return None
    hold = holds[0]
    return {"reason": hold.reason, "note": hold.note, "since": _dt(hold.started_at)}


def work_order_rows(
    orders: Iterable[WorkOrder], *, request: Request | None, crew: bool = False
) -> list[dict[str, Any]]:
    """``WorkOrderOut(orders, many=True).data`` (``CrewWorkOrderOut`` with ``crew``: plus
    the resident's photos of the problem)."""
    urls = _Urls(request)
    now = timezone.now()
    rows: list[dict[str, Any]] = []
    for order in orders:
        sr = order.service_request
        service_type = sr.service_type
        location = sr.location
        team = order.team
        assignee = order.assignee
        proofs = []
        for proof in order.proofs.all():
            photo = proof.photo
            ready = photo.state == ProcessingState.READY
            proofs.append(
                {
                    "photo_id": proof.photo_id,
                    "state": photo.state,
                    "url": urls(photo.display) if ready else None,
                    "thumbnail_url": urls(photo.thumbnail) if ready else None,
                    "verified": proof.verified,
                    "reasons": [str(reason) for reason in proof.reasons],
                    "created_at": _dt(proof.created_at),
                }
            )
        row: dict[str, Any] = {
            "id": order.pk,
            "status": order.status,
            "department": {"code": order.department.code, "name": order.department.name},
            "team": {"id": team.pk, "name": team.name} if team is not None else None,
            "assignee": (
                {"id": assignee.pk, "username": assignee.username} if assignee is not None else None
            ),
            "service_request": {
                "service_request_id": sr.public_id,
                "service_code": service_type.service_code,
                "service_name": service_type.name,
                "status": sr.status,
                "address": sr.address,
                "lat": location.y if location is not None else None,
                "long": location.x if location is not None else None,
                "description": sr.description,
                "requested_at": _dt(sr.requested_at),
                "expected_at": _dt(sr.expected_at),
                "supporters": sr.supporters_count,
            },
            "turnaround_hours": order.turnaround_hours,
            "turnaround_business_hours": order.turnaround_business_hours,
            "due_at": _dt(order.due_at),
            "overdue": work_order_overdue(order, now=now),
            "overdue_at": _dt(order.overdue_at),
            "escalated_again_at": _dt(order.escalated_again_at),
            "on_time": order.on_time,
            "hold": _hold(order),
            "created_at": _dt(order.created_at),
            "assigned_at": _dt(order.assigned_at),
            "started_at": _dt(order.started_at),
            "completed_at": _dt(order.completed_at),
            "cancelled_at": _dt(order.cancelled_at),
            "completion_note": order.completion_note,
            "proof_photos": proofs,
            "review": {
                "required": order.review_required,
                "reasons": [str(reason) for reason in order.review_reasons],
                "decision": order.review_decision,
                "reviewed_at": _dt(order.reviewed_at),
            },
        }
        if crew:
            row["request_photos"] = [
                {
                    "id": photo.pk,
                    "kind": photo.kind,
                    "state": photo.state,
                    "url": urls(photo.display) if photo.state == ProcessingState.READY else None,
                    "thumbnail_url": (
                        urls(photo.thumbnail) if photo.state == ProcessingState.READY else None
                    ),
                }
                for photo in sr.photos.all()
                if photo.kind == PhotoKind.REPORT
            ]
        rows.append(row)
    return rows
