"""Resident feedback: after a request is closed as resolved, its e-mail carries a signed link
that asks "Was it fixed?" with a 1-5 rating and a comment.

The link is a ``TimestampSigner`` token (salted) naming the closing event, so it answers for
that closure only, cannot be forged or pointed at another request, and expires after
``FEEDBACK_LINK_MAX_AGE_DAYS``. One answer per closure. "Not fixed" within
``FEEDBACK_REOPEN_DAYS`` of the closure reopens the request with a new work order whose SLA
clock starts then."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.errors import ErrorCode
from backend.photos.models import ProcessingState
from backend.service_requests.models import (
    CloseReason,
    ServiceRequest,
    ServiceRequestEvent,
    Status,
)
from workorders.models import Feedback, WorkOrder
from workorders.selectors import (
    close_event_latest,
    feedback_for_close_event,
    proof_photos_for_close,
)
from workorders.services import (
    Conflict,
    InvalidInput,
    WorkOrderError,
    service_request_reopen_for_work,
)

SALT = "city311.workorders.feedback"
COMMENT_MAX = 2000


class FeedbackLinkInvalid(WorkOrderError):
    code = ErrorCode.NOT_FOUND

    def __init__(self) -> None:
        super().__init__(_("This feedback link is not valid."), field="token")


class FeedbackLinkExpired(WorkOrderError):
    code = ErrorCode.GONE

    def __init__(self) -> None:
        super().__init__(
            _(
                "This feedback link has expired. If the problem is still there, please report "
                "it again."
            ),
            field="token",
        )


class FeedbackAlreadyGiven(Conflict):
    def __init__(self) -> None:
        super().__init__(
            _("We already have your answer for this request. Thank you!"), field="token"
        )


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=SALT)


def feedback_token_make(*, close_event: ServiceRequestEvent) -> str:
    return _signer().sign_object({"e": close_event.pk})


def feedback_url_make(*, close_event: ServiceRequestEvent) -> str:
    path = reverse("workorders:feedback", args=[feedback_token_make(close_event=close_event)])
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def feedback_close_event_get(*, token: str) -> ServiceRequestEvent:
    """The closing event a token answers for; raises ``FeedbackLinkInvalid`` (404) or
    ``FeedbackLinkExpired`` (410)."""
    max_age = timedelta(days=settings.FEEDBACK_LINK_MAX_AGE_DAYS)
    try:
        data = _signer().unsign_object(token, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise FeedbackLinkExpired() from exc
    except signing.BadSignature as exc:
        raise FeedbackLinkInvalid() from exc
    event_id = data.get("e") if isinstance(data, dict) else None
    if not isinstance(event_id, int):
        raise FeedbackLinkInvalid()
    event = (
        ServiceRequestEvent.objects.select_related("service_request__service_type")
        .filter(pk=event_id, to_status=Status.CLOSED, close_reason=CloseReason.RESOLVED)
        .first()
    )
    if event is None:
        raise FeedbackLinkInvalid()
    return event


def feedback_can_reopen(*, close_event: ServiceRequestEvent, now: datetime) -> bool:
    return now - close_event.created_at <= timedelta(days=settings.FEEDBACK_REOPEN_DAYS)


@dataclass(frozen=True)
class FeedbackResult:
    feedback: Feedback
    reopened: bool
    work_order: WorkOrder | None = None
    # Why "not fixed" did not reopen: "" when it did, or when the answer was "fixed".
    not_reopened_because: str = ""


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
        service_request = ServiceRequest.objects.select_for_update().get(
            pk=close_event.service_request_id
        )
        if Feedback.objects.filter(close_event=close_event).exists():
            raise FeedbackAlreadyGiven()
        work_order: WorkOrder | None = None
        because = ""
        if not fixed:
            latest = close_event_latest(service_request_id=service_request.pk)
            if not feedback_can_reopen(close_event=close_event, now=now):
                because = _(
                    "It is more than %(days)s days since the request was closed: please report "
                    "the problem again."
                ) % {"days": settings.FEEDBACK_REOPEN_DAYS}
            elif (
                service_request.status != Status.CLOSED
                or latest is None
                or (latest.pk != close_event.pk)
            ):
                because = _("The request has been reopened already.")
            else:
                work_order = service_request_reopen_for_work(
                    service_request=service_request,
                    public_note="You told us the problem is not fixed: we have reopened your "
                    "request and a crew will look again.",
                    internal_note=f"Reopened by the resident's feedback: {comment}"
                    if comment
                    else "Reopened by the resident's feedback.",
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


@dataclass(frozen=True)
class FeedbackForm:
    """What the feedback page (and its JSON twin) shows for a link."""

    close_event: ServiceRequestEvent
    service_request: ServiceRequest
    service_name: str
    photo_urls: list[str]  # processed proof photos (relative to the site unless on a CDN)
    answer: Feedback | None
    can_reopen: bool


def feedback_form_get(*, token: str, now: datetime | None = None) -> FeedbackForm:
    """Raises ``FeedbackLinkInvalid`` or ``FeedbackLinkExpired`` for a bad token."""
    event = feedback_close_event_get(token=token)
    service_request = event.service_request
    answer = feedback_for_close_event(close_event_id=event.pk)
    photos = [
        proof.photo.display.url
        for proof in proof_photos_for_close(
            service_request_id=service_request.pk, closed_at=event.created_at
        )
        if proof.photo.state == ProcessingState.READY and proof.photo.display
    ]
    return FeedbackForm(
        close_event=event,
        service_request=service_request,
        service_name=service_request.service_type.localized_name(),
        photo_urls=photos,
        answer=answer,
        can_reopen=answer is None
        and feedback_can_reopen(close_event=event, now=now or timezone.now()),
    )
