"""A resident's update from outside the city's own apps (a partner front end such as
FixMyStreet, through Open311): always a comment held for moderation, and never a way to
close city work. "It is fixed" becomes a comment flagged for staff; "it is not fixed" on a
closed request follows the feedback rules: within ``FEEDBACK_REOPEN_DAYS`` of the closure it
reopens the request with a new work order, after that it is a comment flagged for staff.
Call ``resident_update_submit``."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Unpack

from django.db import transaction
from django.utils import timezone

from backend.cases.reopen import do_service_request_reopen_for_work
from backend.errors import not_found
from backend.service_requests.comments import CommentFields, do_resident_comment_create
from backend.service_requests.models import (
    CommentFlag,
    ResidentComment,
    ServiceRequest,
    Status,
)
from workorders.feedback import feedback_can_reopen
from workorders.locks import request_lock
from workorders.selectors import close_event_latest

REOPEN_PUBLIC_NOTE = (
    "A resident told us the problem is not fixed: we have reopened the request and a crew "
    "will look again."
)


class ResidentSays(StrEnum):
    """What the resident's update claims about the work, in city311's terms."""

    COMMENT = "comment"  # no claim: a comment
    FIXED = "fixed"  # the problem is gone (or the front end closed its report)
    NOT_FIXED = "not_fixed"  # the problem is back, or was never fixed


def resident_update_submit(
    *,
    service_request: ServiceRequest,
    says: ResidentSays,
    at: datetime | None = None,
    **comment: Unpack[CommentFields],
) -> ResidentComment:
    """Stores the update as a comment pending moderation (values already checked by the
    edge) and, for "not fixed" on a request closed within the feedback window, reopens it
    for work in the same transaction."""
    now = at or timezone.now()
    with transaction.atomic():
        locked = request_lock(service_request.pk)
        if locked.hidden_at is not None:
            # Hidden since the edge found it: as if it did not exist.
            raise not_found(locked.public_id, field="service_request_id", what="request")
        flag = ""
        reopened = False
        if says == ResidentSays.FIXED:
            flag = CommentFlag.SAYS_FIXED
        elif says == ResidentSays.NOT_FIXED and locked.status == Status.CLOSED:
            close_event = close_event_latest(service_request_id=locked.pk)
            if close_event is not None and feedback_can_reopen(close_event=close_event, now=now):
                do_service_request_reopen_for_work(
                    service_request=locked,
                    actor=None,
                    public_note=REOPEN_PUBLIC_NOTE,
                    internal_note="Reopened by a resident's update"
                    + (f" via {comment['source']}." if comment.get("source") else "."),
                    channel=comment["channel"],
                    at=now,
                )
                reopened = True
            else:
                flag = CommentFlag.ASKS_REOPEN
        return do_resident_comment_create(
            service_request=locked, flag=flag, reopened=reopened, at=now, **comment
        )
