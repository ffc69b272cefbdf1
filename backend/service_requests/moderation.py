"""Moderation: staff hide a request from every public answer, or remove part of its
description (a photo's region is blurred by ``backend.photos.services.photo_blur``).

Each action locks the request, writes an event (who, when, and the reason in its internal
note: never the removed text) and raises ``ModerationVersion``, which the per-process memos
of public lists key their entries by, in the same transaction. ``ServiceRequest.objects.
visible()`` leaves hidden requests out of every public read; a redaction rewrites
``description`` itself (the text as filed kept in the private ``description_original``), so
public readers need nothing more. Who may moderate is the callers' affair (the admin's
permission, ``workorders.access`` in the console)."""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backend.errors import City311Error, ErrorCode
from backend.outbox.services import outbox_call
from backend.service_requests.models import (
    EventKind,
    ModerationVersion,
    ServiceRequest,
    ServiceRequestEvent,
)
from backend.service_requests.services import service_request_event_create
from backend.users import Actor

# What a removed part of a description becomes, stored in English; the pages that show a
# description put it in the reader's language (``description_shown``).
REDACTION_MARKER = "[removed by moderator]"
REDACTION_MARKER_SHOWN = gettext_lazy("[removed by moderator]")
REASON_MAX = 500


def description_shown(description: str) -> str:
    """A description as a page shows it: the redaction marker in the reader's language."""
    return description.replace(REDACTION_MARKER, str(REDACTION_MARKER_SHOWN))


def moderation_reason_check(reason: str) -> str:
    """The reason, stripped; empty or too long: 400 naming ``reason``."""
    reason = (reason or "").strip()
    if not reason:
        raise City311Error(_("Give the reason for this moderation."), field="reason")
    if len(reason) > REASON_MAX:
        raise City311Error(_("At most %(max)s characters.") % {"max": REASON_MAX}, field="reason")
    return reason


def moderation_version_bump() -> None:
    """Raises the moderation version by one, in the caller's transaction (one upsert of the
    single row: concurrent moderations wait for each other, so the number only grows in
    commit order)."""
    table = ModerationVersion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (id, version) VALUES (1, 1) "  # noqa: S608 - the table name
            f"ON CONFLICT (id) DO UPDATE SET version = {table}.version + 1"
        )


def moderation_event_write(
    *, service_request: ServiceRequest, kind: EventKind, reason: str, actor: Actor, at: datetime
) -> ServiceRequestEvent:
    """Does the bookkeeping every moderation shares, for a request its caller holds locked:
    the event (the reason as its internal note: no public view shows it), the request's
    update time (Open311's ``updated_datetime``: sync clients fetch it again) and the
    version the public lists' memos are keyed by."""
    event = service_request_event_create(
        service_request=service_request, kind=kind, actor=actor, internal_note=reason, at=at
    )
    ServiceRequest.objects.filter(pk=service_request.pk, updated_at__lt=at).update(updated_at=at)
    moderation_version_bump()
    return event


def _locked(service_request: ServiceRequest) -> ServiceRequest:
    return ServiceRequest.objects.select_for_update().get(pk=service_request.pk)


def _hidden_set(
    *, service_request: ServiceRequest, hide: bool, reason: str, actor: Actor
) -> ServiceRequest:
    reason = moderation_reason_check(reason)
    with transaction.atomic():
        locked = _locked(service_request)
        if (locked.hidden_at is not None) == hide:
            return locked  # already so: no second event
        at = timezone.now()
        locked.hidden_at = at if hide else None
        locked.hidden_reason = reason if hide else ""
        locked.save(update_fields=["hidden_at", "hidden_reason"])
        kind = EventKind.HIDDEN if hide else EventKind.UNHIDDEN
        moderation_event_write(service_request=locked, kind=kind, reason=reason, actor=actor, at=at)
        if hide:
            # Whoever watches it live (the public websocket) is disconnected at commit.
            outbox_call(
                "backend.service_requests.messaging.watchers_close", public_id=locked.public_id
            )
    return locked


def service_request_hide(
    *, service_request: ServiceRequest, reason: str, actor: Actor = None
) -> ServiceRequest:
    """Takes the request out of every public answer. Hiding a hidden request changes
    nothing (no second event). 400 naming ``reason`` without one."""
    return _hidden_set(service_request=service_request, hide=True, reason=reason, actor=actor)


def service_request_unhide(
    *, service_request: ServiceRequest, reason: str, actor: Actor = None
) -> ServiceRequest:
    """Shows a hidden request again (a visible one: nothing changes). 400 naming
    ``reason`` without one."""
    return _hidden_set(service_request=service_request, hide=False, reason=reason, actor=actor)


def service_request_redact(
    *, service_request: ServiceRequest, text: str, reason: str, actor: Actor = None
) -> ServiceRequest:
    """Replaces every occurrence of ``text`` in the description with the redaction marker.
    The description as first filed stays in ``description_original`` (staff only; a second
    redaction keeps the first original). 400 naming ``text`` when it is empty or not in the
    description, naming ``reason`` without one."""
    reason = moderation_reason_check(reason)
    if not text or not text.strip():
        raise City311Error(_("Give the part of the description to remove."), field="text")
    with transaction.atomic():
        locked = _locked(service_request)
        if text not in locked.description:
            raise City311Error(
                _("The description does not contain this text."),
                field="text",
                code=ErrorCode.INVALID,
            )
        if not locked.description_original:
            locked.description_original = locked.description
        locked.description = locked.description.replace(text, REDACTION_MARKER)
        locked.save(update_fields=["description", "description_original"])
        moderation_event_write(
            service_request=locked,
            kind=EventKind.REDACTED,
            reason=reason,
            actor=actor,
            at=timezone.now(),
        )
    return locked
