"""A supervisor's verdict on a completion flagged for review: accepted, or sent back, which
reopens the request with a new work order. Call ``work_order_review_resolve``."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from backend.cases.reopen import do_service_request_reopen_for_work
from backend.service_requests.models import Status
from workorders.locks import request_and_order_lock
from workorders.models import ReviewDecision, WorkOrder
from workorders.services import do_work_order_review, note_clean, review_decision_check
from workorders.services.machine import User


def work_order_review_resolve(
    *,
    work_order: WorkOrder,
    decision: str,
    actor: User = None,
    note: str = "",
    at: datetime | None = None,
) -> WorkOrder:
    """A supervisor's verdict on a flagged completion: accepted, or sent back (the request
    reopens with a new work order)."""
    review_decision_check(decision)
    note = note_clean(note)
    with transaction.atomic():
        service_request, locked = request_and_order_lock(work_order)
        now = at or timezone.now()
        do_work_order_review(work_order=locked, decision=decision, actor=actor, note=note, at=now)
        if decision == ReviewDecision.REOPENED and service_request.status == Status.CLOSED:
            do_service_request_reopen_for_work(
                service_request=service_request,
                actor=actor,
                public_note="We checked the crew's photos and are sending a crew back.",
                internal_note=note,
                channel="",
                at=now,
            )
    return locked
