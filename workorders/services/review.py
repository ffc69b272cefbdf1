"""A supervisor's review of a completion flagged because no proof photo passed its checks.
The public entry point is ``backend.cases.review.work_order_review_resolve``: a "sent back"
verdict reopens the request with a new work order, which spans both."""

from __future__ import annotations

from datetime import datetime

from backend.users import actor_user
from workorders.errors import Conflict, InvalidInput
from workorders.models import ReviewDecision, WorkOrder, WorkOrderEventKind
from workorders.services.machine import User, _event, _save


def review_decision_check(decision: str) -> None:
    """Raises ``InvalidInput`` for a decision that is not a ``ReviewDecision``."""
    if decision not in ReviewDecision.values:
        choices = ", ".join(ReviewDecision.values)
        raise InvalidInput(f"Unknown decision {decision!r}; one of {choices}.", field="decision")


def do_work_order_review(
    *,
    work_order: WorkOrder,
    decision: str,
    actor: User,
    note: str,
    at: datetime,
) -> None:
    """Records the verdict on the order (409 when it is not waiting for a review). The
    caller holds the request's lock and then the order's (``workorders.locks``), has checked
    ``decision`` and ``note``, and reopens the request itself on a "reopened" verdict;
    otherwise use ``backend.cases.review.work_order_review_resolve``."""
    if not work_order.review_required or work_order.reviewed_at is not None:
        raise Conflict("This work order is not waiting for a proof review.", field="review")
    work_order.reviewed_at = at
    work_order.reviewed_by = actor_user(actor)
    work_order.review_decision = decision
    work_order.updated_at = at
    _save(work_order, "reviewed_at", "reviewed_by", "review_decision")
    _event(
        work_order=work_order,
        kind=WorkOrderEventKind.REVIEWED,
        at=at,
        actor=actor,
        note=note,
        data={"decision": decision},
    )
