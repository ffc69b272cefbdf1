"""The resident's answer to "Was it fixed?" (the signed link of ``workorders.feedback``): one
answer per closure; "not fixed" within ``FEEDBACK_REOPEN_DAYS`` of the closure reopens the
request with a new work order whose SLA clock starts then. Call ``feedback_submit``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.cases.reopen import do_service_request_reopen_for_work
from backend.service_requests.models import ServiceRequest, ServiceRequestEvent, Status
from workorders.errors import InvalidInput
from workorders.feedback import COMMENT_MAX, FeedbackAlreadyGiven, feedback_can_reopen
from workorders.locks import request_lock
from workorders.models import Feedback, WorkOrder
from workorders.selectors import close_event_latest
from workorders.services import note_clean


@dataclass(frozen=True)
class FeedbackResult:
    feedback: Feedback
    reopened: bool
    work_order: WorkOrder | None = None
    # Why "not fixed" did not reopen: "" when it did, or when the answer was "fixed".
    not_reopened_because: str = ""


def _not_reopened_because(
    *, service_request: ServiceRequest, close_event: ServiceRequestEvent, now: datetime
) -> str:
    """Why "not fixed" cannot reopen the (locked) request now; "" when it can."""
    latest = close_event_latest(service_request_id=service_request.pk)
    if not feedback_can_reopen(close_event=close_event, now=now):
        return _(
            "It is more than %(days)s days since the request was closed: please report "
            "the problem again."
        ) % {"days": settings.FEEDBACK_REOPEN_DAYS}
    if service_request.status != Status.CLOSED or latest is None or latest.pk != close_event.pk:
        return _("The request has been reopened already.")
    return ""


def feedback_submit(
    *,
    close_event: ServiceRequestEvent,
    fixed: bool,
    rating: int | None = None,
    comment: str = "",
    channel: str = "web",
    at: datetime | None = None,
) -> FeedbackResult:
    """Records the resident's answer; "not fixed" within the window reopens the request."""
    if rating is not None and not 1 <= rating <= 5:
        raise InvalidInput(_("A rating is a whole number from 1 to 5."), field="rating")
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        raise InvalidInput(
            _("At most %(count)s characters.") % {"count": COMMENT_MAX}, field="comment"
        )
    now = at or timezone.now()
    with transaction.atomic():
        service_request = request_lock(close_event.service_request_id)
        if Feedback.objects.filter(close_event=close_event).exists():
            raise FeedbackAlreadyGiven()
        work_order: WorkOrder | None = None
        because = ""
        if not fixed:
            because = _not_reopened_because(
                service_request=service_request, close_event=close_event, now=now
            )
            if not because:
                work_order = do_service_request_reopen_for_work(
                    service_request=service_request,
                    actor=None,
                    public_note="You told us the problem is not fixed: we have reopened your "
                    "request and a crew will look again.",
                    internal_note=note_clean(
                        f"Reopened by the resident's feedback: {comment}"
                        if comment
                        else "Reopened by the resident's feedback."
                    ),
                    channel=channel,
                    at=now,
                )
        feedback = Feedback.objects.create(
            service_request=service_request,
            close_event=close_event,
            fixed=fixed,
            rating=rating,
            comment=comment,
            reopened=work_order is not None,
            created_at=now,
        )
    return FeedbackResult(
        feedback=feedback,
        reopened=work_order is not None,
        work_order=work_order,
        not_reopened_because=because,
    )
