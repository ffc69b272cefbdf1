"""What a signed-in resident sees on ``/me/``: only their own data. Requests they filed on any
channel (they are its ``reporter``), requests they follow, and the closures waiting for their
"Was it fixed?" answer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from backend.service_requests.models import (
    CloseReason,
    RequestFollower,
    ServiceRequest,
    ServiceRequestEvent,
    Status,
)
from workorders.models import Feedback

LIST_MAX = 200
User = AbstractBaseUser | AnonymousUser


def _user_id(user: User) -> int:
    """The account's id; 0 (nobody's) for a signed-out visitor, who has no data here."""
    return int(user.pk) if user.is_authenticated else 0


def requests_of_resident(*, user: User) -> QuerySet[ServiceRequest]:
    """The requests the user filed (web, app, chat, phone...), newest first."""
    return (
        ServiceRequest.objects.filter(reporter_id=_user_id(user))
        .select_related("service_type")
        .order_by("-requested_at", "-id")[:LIST_MAX]
    )


def requests_followed(*, user: User) -> QuerySet[ServiceRequest]:
    """The requests the user's account follows (not the ones they filed), newest first."""
    followed = RequestFollower.objects.filter(user_id=_user_id(user)).values("service_request_id")
    return (
        ServiceRequest.objects.visible()
        .filter(pk__in=followed)
        .exclude(reporter_id=_user_id(user))
        .select_related("service_type")
        .order_by("-requested_at", "-id")[:LIST_MAX]
    )


@dataclass(frozen=True)
class FeedbackAwaited:
    service_request: ServiceRequest
    close_event: ServiceRequestEvent


def feedback_awaited(*, user: User, now: datetime) -> list[FeedbackAwaited]:
    """The user's closed requests whose latest closure (as resolved, within the feedback
    link's life) has no answer yet. Two queries."""
    since = now - timedelta(days=settings.FEEDBACK_LINK_MAX_AGE_DAYS)
    latest = (
        ServiceRequestEvent.objects.filter(
            service_request__reporter_id=_user_id(user),
            service_request__status=Status.CLOSED,
            to_status=Status.CLOSED,
        )
        .select_related("service_request__service_type")
        .order_by("service_request_id", "-created_at", "-id")
        .distinct("service_request_id")
    )
    candidates = [
        event
        for event in latest
        if event.close_reason == CloseReason.RESOLVED and event.created_at >= since
    ]
    answered = set(
        Feedback.objects.filter(close_event__in=[e.pk for e in candidates]).values_list(
            "close_event_id", flat=True
        )
    )
    awaited = [
        FeedbackAwaited(service_request=event.service_request, close_event=event)
        for event in candidates
        if event.pk not in answered
    ]
    awaited.sort(key=lambda item: item.close_event.created_at, reverse=True)
    return awaited
