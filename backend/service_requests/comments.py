"""Residents' comments on a request from outside the city's own apps (a partner front end's
update): written pending, shown publicly only once staff publish them. Each step writes an
event on the request (internal note only), so the history staff read shows the comment
and what became of it; nothing here is public until ``resident_comment_publish``."""

from __future__ import annotations

from datetime import datetime
from typing import Required, TypedDict, Unpack

from django.db import transaction
from django.utils import timezone

from backend.errors import IllegalTransition
from backend.service_requests.models import (
    CommentFlag,
    CommentState,
    EventKind,
    ResidentComment,
    ServiceRequest,
)
from backend.service_requests.services import User, service_request_event_create
from backend.users import actor_user

INTERNAL_TEXT_MAX = 500


def _flag_words(flag: str) -> str:
    return f" [{CommentFlag(flag).label}]" if flag else ""


class CommentFields(TypedDict, total=False):
    """A resident's comment as the edge gives it, values already checked: its text, the
    channel and optional photo URL, the status the partner front end claims, the author (kept
    private) and ``source``, the partner's name, which only the history notes."""

    text: Required[str]
    channel: Required[str]
    media_url: str
    claimed_status: str
    author_name: str
    author_email: str
    source: str


def do_resident_comment_create(
    *,
    service_request: ServiceRequest,
    flag: str = "",
    reopened: bool = False,
    at: datetime | None = None,
    **comment: Unpack[CommentFields],
) -> ResidentComment:
    """Stores the comment, pending moderation, and notes it in the request's history. The
    caller has checked the values (lengths, e-mail, URL) and holds the request's lock."""
    now = at or timezone.now()
    source = comment.pop("source", "")
    created = ResidentComment.objects.create(
        service_request=service_request, flag=flag, reopened=reopened, created_at=now, **comment
    )
    text, channel = comment["text"], comment["channel"]
    excerpt = text if len(text) <= INTERNAL_TEXT_MAX else text[: INTERNAL_TEXT_MAX - 1] + "…"
    service_request_event_create(
        service_request=service_request,
        kind=EventKind.NOTE,
        channel=channel,
        internal_note=(
            f"Resident comment #{created.pk}{f' via {source}' if source else ''}, "
            f"awaiting moderation{_flag_words(flag)}: {excerpt}"
        ),
        at=now,
    )
    return created


def _moderate(
    *, comment: ResidentComment, state: str, actor: User, reason: str, at: datetime | None
) -> ResidentComment:
    with transaction.atomic():
        locked = ResidentComment.objects.select_for_update().get(pk=comment.pk)
        if locked.state != CommentState.PENDING:
            action = "publish" if state == CommentState.PUBLISHED else "reject"
            raise IllegalTransition(
                action=action, current_status=locked.state, entity="comment", raw=True
            )
        now = at or timezone.now()
        locked.state = state
        locked.moderated_at = now
        locked.moderated_by = actor_user(actor)
        locked.save(update_fields=["state", "moderated_at", "moderated_by"])
        verb = "published" if state == CommentState.PUBLISHED else "rejected"
        service_request_event_create(
            service_request=locked.service_request,
            kind=EventKind.NOTE,
            actor=actor,
            internal_note=f"Resident comment #{locked.pk} {verb}"
            + (f": {reason.strip()}" if reason.strip() else "."),
            at=now,
        )
    return locked


def resident_comment_publish(
    *, comment: ResidentComment, actor: User, at: datetime | None = None
) -> ResidentComment:
    """Staff approve a pending comment: from now on it may appear in public answers (its
    text only, never its author). 409 when it is not pending."""
    return _moderate(comment=comment, state=CommentState.PUBLISHED, actor=actor, reason="", at=at)


def resident_comment_reject(
    *, comment: ResidentComment, actor: User, reason: str = "", at: datetime | None = None
) -> ResidentComment:
    """Staff turn a pending comment down: it never appears publicly. 409 when not pending."""
    return _moderate(
        comment=comment, state=CommentState.REJECTED, actor=actor, reason=reason, at=at
    )
