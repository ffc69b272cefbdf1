"""Resident feedback: after a request is closed as resolved, its e-mail carries a signed link
that asks "Was it fixed?" with a 1-5 rating and a comment.

The link is a ``TimestampSigner`` token (salted) naming the closing event, so it answers for
that closure only, cannot be forged or pointed at another request, and expires after
``FEEDBACK_LINK_MAX_AGE_DAYS``. One answer per closure. "Not fixed" within
``FEEDBACK_REOPEN_DAYS`` of the closure reopens the request with a new work order whose SLA
clock starts then.

This module signs and reads the links (the resident's messages carry them) and shows the
form; the answer is written by ``backend.cases.feedback.feedback_submit``, which reopens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
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
from workorders.errors import Conflict, WorkOrderError
from workorders.models import Feedback
from workorders.selectors import (
    feedback_for_close_event,
    proof_photos_for_close,
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
class FeedbackForm:
    """What the feedback page (and its JSON twin) shows for a link."""

    close_event: ServiceRequestEvent
    service_request: ServiceRequest
    service_name: str
    photo_urls: list[str]  # processed proof photos (relative to the site unless on a CDN)
    answer: Feedback | None
    can_reopen: bool


def proof_photo_urls(*, close_event: ServiceRequestEvent) -> list[str]:
    """The processed proof photos of the work a closure ended (relative to the site unless on
    a CDN): the feedback page shows them, and so does the closing message
    (``WorkOrdersConfig.ready()`` registers this with the request domain's hooks)."""
    return [
        proof.photo.display.url
        for proof in proof_photos_for_close(
            service_request_id=close_event.service_request_id, closed_at=close_event.created_at
        )
        if proof.photo.state == ProcessingState.READY and proof.photo.display
    ]


def feedback_form_get(*, token: str, now: datetime | None = None) -> FeedbackForm:
    """Raises ``FeedbackLinkInvalid`` or ``FeedbackLinkExpired`` for a bad token."""
    event = feedback_close_event_get(token=token)
    service_request = event.service_request
    answer = feedback_for_close_event(close_event_id=event.pk)
    photos = proof_photo_urls(close_event=event)
    return FeedbackForm(
        close_event=event,
        service_request=service_request,
        service_name=service_request.service_type.localized_name(),
        photo_urls=photos,
        answer=answer,
        can_reopen=answer is None
        and feedback_can_reopen(close_event=event, now=now or timezone.now()),
    )
