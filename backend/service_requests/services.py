"""Writes to service requests. The status state machine lives here: one table of allowed
transitions and one function per transition. Each locks the row, checks the current status,
saves with ``update_fields`` and writes an event, all in one transaction.

Closing and reopening are ``do_*``: alone they would leave a request and its work order out
of step, so outside the use cases the edges call ``backend.cases`` (close by staff, merge,
reopen for work), which lock the request and move its work order in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict, Unpack

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction
from django.utils import timezone

from backend.errors import IllegalTransition as IllegalTransition
from backend.service_requests import hooks
from backend.service_requests.models import (
    OPEN_STATUSES,
    CloseReason,
    EventKind,
    RequestFollower,
    ServiceRequest,
    ServiceRequestEvent,
    Status,
)
from backend.service_requests.notifications import service_request_status_enqueue
from backend.users import actor_user


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str


TRANSITIONS: dict[str, Transition] = {
    "acknowledge": Transition(frozenset({Status.SUBMITTED}), Status.ACKNOWLEDGED),
    "start": Transition(frozenset({Status.SUBMITTED, Status.ACKNOWLEDGED}), Status.IN_PROGRESS),
    "close": Transition(frozenset(OPEN_STATUSES), Status.CLOSED),
    "reopen": Transition(frozenset({Status.CLOSED}), Status.IN_PROGRESS),
}

User = AbstractBaseUser | AnonymousUser | None


class TransitionFields(TypedDict, total=False):
    """Who moves a request and what they say: the actor (None: the system), the channel it
    came by, a note the resident sees and one only staff see, and when (now when not given)."""

    actor: User
    channel: str
    public_note: str
    internal_note: str
    at: datetime | None


class EventFields(TransitionFields, total=False):
    """An event's own values besides its kind: those of a transition, and for a status change
    the statuses before and after and the close reason."""

    from_status: str
    to_status: str
    close_reason: str


def service_request_event_create(
    *, service_request: ServiceRequest, kind: str, **fields: Unpack[EventFields]
) -> ServiceRequestEvent:
    event = ServiceRequestEvent.objects.create(
        service_request=service_request,
        kind=kind,
        actor=actor_user(fields.get("actor")),
        channel=fields.get("channel", ""),
        from_status=fields.get("from_status", ""),
        to_status=fields.get("to_status", ""),
        close_reason=fields.get("close_reason", ""),
        public_note=fields.get("public_note", ""),
        internal_note=fields.get("internal_note", ""),
        created_at=fields.get("at") or timezone.now(),
    )
    # The layers above hear of it in the same transaction (analytics: the live counters).
    hooks.event_recorded(event=event)
    return event


def _transition(
    *,
    action: str,
    service_request: ServiceRequest,
    close_reason: str = "",
    duplicate_of: ServiceRequest | None = None,
    **fields: Unpack[TransitionFields],
) -> ServiceRequest:
    rule = TRANSITIONS[action]
    with transaction.atomic():
        locked = ServiceRequest.objects.select_for_update().get(pk=service_request.pk)
        if locked.status not in rule.sources:
            raise IllegalTransition(
                action=action, current_status=locked.status, entity="request", raw=True
            )
        now = fields["at"] = fields.get("at") or timezone.now()
        from_status = locked.status
        locked.status = rule.target
        locked.updated_at = now
        update = ["status", "updated_at"]
        if rule.target == Status.CLOSED:
            locked.closed_at = now
            locked.close_reason = close_reason
            update += ["closed_at", "close_reason"]
            if duplicate_of is not None:
                locked.duplicate_of = duplicate_of
                update.append("duplicate_of")
        elif from_status == Status.CLOSED:
            locked.closed_at = None
            locked.close_reason = ""
            update += ["closed_at", "close_reason"]
        locked.save(update_fields=update)
        event = service_request_event_create(
            service_request=locked,
            kind=EventKind.STATUS_CHANGED,
            from_status=from_status,
            to_status=rule.target,
            close_reason=close_reason,
            **fields,
        )
        # The resident (and followers) hear of it after commit, once.
        service_request_status_enqueue(service_request=locked, event=event)
    return locked


def service_request_acknowledge(
    *, service_request: ServiceRequest, **fields: Unpack[TransitionFields]
) -> ServiceRequest:
    return _transition(action="acknowledge", service_request=service_request, **fields)


def service_request_start(
    *, service_request: ServiceRequest, **fields: Unpack[TransitionFields]
) -> ServiceRequest:
    return _transition(action="start", service_request=service_request, **fields)


def do_service_request_close(
    *,
    service_request: ServiceRequest,
    reason: str,
    duplicate_of: ServiceRequest | None = None,
    **fields: Unpack[TransitionFields],
) -> ServiceRequest:
    """Closes the request with ``reason`` and nothing else. The caller holds the request's
    row lock in its transaction and has already ended its work order, or it has none;
    otherwise use ``backend.cases.close.service_request_close_for_staff`` (or
    ``backend.cases.merge.service_request_merge`` for a duplicate), which do both."""
    if reason not in CloseReason.values:
        raise ValueError(f"Unknown close reason {reason!r}")
    if (reason == CloseReason.DUPLICATE) != (duplicate_of is not None):
        raise ValueError("A duplicate close needs the original request, and only it does")
    if duplicate_of is not None and duplicate_of.pk == service_request.pk:
        raise ValueError("A request cannot be a duplicate of itself")
    return _transition(
        action="close",
        service_request=service_request,
        close_reason=reason,
        duplicate_of=duplicate_of,
        **fields,
    )


def do_service_request_reopen(
    *, service_request: ServiceRequest, **fields: Unpack[TransitionFields]
) -> ServiceRequest:
    """Reopens the closed request and nothing else. The caller holds the request's row lock
    in its transaction and gives it a work order in the same transaction; otherwise use
    ``backend.cases.reopen.service_request_reopen_for_work``, which does both."""
    return _transition(action="reopen", service_request=service_request, **fields)


def service_request_follower_add(
    *,
    service_request: ServiceRequest,
    user: User = None,
    email: str = "",
    via: ServiceRequest | None = None,
    source: str = "duplicate",
    at: datetime | None = None,
) -> RequestFollower | None:
    """Someone now gets the request's status messages too. Adding the same person again
    (same e-mail, or same user without e-mail) adds nothing; None when there is nobody."""
    email = (email or "").strip().lower()
    account = actor_user(user)
    if not email and account is None:
        return None
    existing = RequestFollower.objects.filter(service_request=service_request)
    existing = existing.filter(email=email) if email else existing.filter(user=account, email="")
    found = existing.first()
    if found is not None:
        return found
    return RequestFollower.objects.create(
        service_request=service_request,
        user=account,
        email=email,
        via=via,
        source=source,
        created_at=at or timezone.now(),
    )


def service_request_contact_phone_add(*, service_request_id: int, phone: str) -> bool:
    """The reporter's phone number as the channel they filed on gave it (the assistant's SMS
    and WhatsApp gateways), kept with the request's other contact data: private, and erased
    by the retention run. Only on a request without a phone whose contact data was never
    erased; True when it was stored."""
    phone = phone.strip()[: ServiceRequest._meta.get_field("contact_phone").max_length]
    if not phone:
        return False
    updated = ServiceRequest.objects.filter(
        pk=service_request_id, contact_phone="", contact_erased_at__isnull=True
    ).update(contact_phone=phone)
    return bool(updated)
