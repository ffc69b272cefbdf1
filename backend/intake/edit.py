"""The reporter corrects a fresh request: a new description, more photos, within
``EDIT_WINDOW_MINUTES`` of filing and while no crew has started on it.

Who the reporter is: the signed-in account that filed it, or whoever holds the request's
edit token, a signed, single-purpose token made at filing (``edit_token_make``): the app
without an account gets it in the 201 answer and sends it back as ``Edit-Token``; the web
keeps it in the session of the browser that filed. Anyone else does not see the request to
edit (404), as if it did not exist.

Each edit that changes something writes one ``edited`` event in the same transaction: its
public note says what changed in kind ("corrected the description", "added 2 photos"),
never the old text, which only the internal note keeps for staff. Photos go through the
intake's checks and the one photo pipeline (attach, then processing through the outbox)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.errors import City311Error, ErrorCode, found, not_found
from backend.intake.services import IntakeError
from backend.intake.validation import Errors, add_error, text_check
from backend.photos.models import Photo, PhotoKind
from backend.photos.processing import PhotoRejected
from backend.photos.services import (
    CheckedUpload,
    photo_attach,
    photo_process_enqueue,
    photo_upload_check,
)
from backend.service_requests.models import (
    EventKind,
    ServiceRequest,
    ServiceRequestEvent,
    Status,
)
from backend.service_requests.services import service_request_event_create
from backend.users import Actor, actor_user

EDIT_SIGNING_SALT = "city311.request-edit"
# No crew has started on it: a correction still reaches whoever picks it up first.
EDITABLE_STATUSES = frozenset({Status.SUBMITTED, Status.ACKNOWLEDGED})


def edit_token_make(*, public_id: str) -> str:
    """The reporter's proof of having filed ``public_id``: signed, good for editing only
    (its own salt), and for this request only. The edit window, not the token, limits when."""
    return signing.dumps({"edit": public_id}, salt=EDIT_SIGNING_SALT)


def edit_token_matches(*, token: str, public_id: str) -> bool:
    if not token:
        return False
    try:
        data = signing.loads(token, salt=EDIT_SIGNING_SALT)
    except signing.BadSignature:
        return False
    return isinstance(data, dict) and data.get("edit") == public_id


def edit_window_ends(service_request: ServiceRequest) -> datetime:
    return service_request.requested_at + timedelta(minutes=settings.EDIT_WINDOW_MINUTES)


def edit_window_open(service_request: ServiceRequest, *, at: datetime | None = None) -> bool:
    """Whether the reporter may still change the request (the window and its status)."""
    now = at or timezone.now()
    return service_request.status in EDITABLE_STATUSES and now < edit_window_ends(service_request)


def service_request_for_reporter_edit(
    *, public_id: str, user: Actor = None, edit_token: str = ""
) -> ServiceRequest:
    """The visible request the caller filed (their account, or the request's edit token);
    anything else a 404 naming ``public_id``. Whether it may still change is the edit's
    own check (409)."""
    service_request = (
        ServiceRequest.objects.visible()
        .select_related("service_type")
        .filter(public_id=public_id)
        .first()
    )
    account = actor_user(user)
    mine = service_request is not None and (
        (account is not None and service_request.reporter_id == account.pk)
        or edit_token_matches(token=edit_token, public_id=public_id)
    )
    if service_request is None or not mine:
        raise not_found(public_id, field="public_id", what="request")
    return service_request


@dataclass(frozen=True)
class EditResult:
    service_request: ServiceRequest
    # What changed, in kind: "description", "photos" (empty: the same text and photos again).
    changed: list[str] = field(default_factory=list)
    photo_ids: list[int] = field(default_factory=list)


def _input_check(
    *, service_request: ServiceRequest, description: str | None, photos: list[bytes]
) -> list[CheckedUpload]:
    errors: Errors = {}
    status = 400
    if description is None and not photos:
        add_error(errors, "description", _("Send a new description or photos to add."))
    if description is not None:
        text_check(description=description, address="", errors=errors)
        if "\x00" in description:
            # PostgreSQL stores no NUL in text (as backend.parsers says to the JSON APIs).
            add_error(errors, "description", "NUL characters are not allowed.")
    have = Photo.objects.filter(service_request=service_request, kind=PhotoKind.REPORT).count()
    room = settings.PHOTO_MAX_PER_REQUEST - have
    if len(photos) > room:
        message = _("At most %(max)d photos per request: %(room)d more can be added.") % {
            "max": settings.PHOTO_MAX_PER_REQUEST,
            "room": max(room, 0),
        }
        add_error(errors, "photos", message)
    uploads = []
    for index, data in enumerate(photos[: max(room, 0)]):
        try:
            uploads.append(photo_upload_check(data=data))
        except PhotoRejected as exc:
            add_error(errors, "photos", f"Photo {index + 1}: {exc.message}")
            status = max(status, exc.status)
    if errors:
        raise IntakeError(errors, status=status)
    return uploads


def _still_editable(*, locked: ServiceRequest, fields: list[str], now: datetime) -> None:
    """409 naming each field the caller meant to change, once the request may no longer."""
    if locked.status not in EDITABLE_STATUSES:
        message = _("Work on this request has started: it can no longer be changed.")
    elif now >= edit_window_ends(locked):
        message = _(
            "Changes were possible for %(minutes)d minutes after filing; that time is over."
        ) % {"minutes": settings.EDIT_WINDOW_MINUTES}
    else:
        return
    raise City311Error(
        {name: [message] for name in fields}, code=ErrorCode.CONFLICT, detail=message
    )


def _redacted(locked: ServiceRequest) -> bool:
    """Staff removed part of the description (moderation): the reporter may not write it
    back."""
    return ServiceRequestEvent.objects.filter(
        service_request=locked, kind=EventKind.REDACTED
    ).exists()


def _public_note(*, description: bool, photos: int) -> str:
    parts = []
    if description:
        parts.append("corrected the description")
    if photos:
        parts.append("added 1 photo" if photos == 1 else f"added {photos} photos")
    return f"The reporter {' and '.join(parts)}."


def service_request_edit(
    *,
    service_request: ServiceRequest,
    actor: Actor = None,
    channel: str,
    description: str | None = None,
    photos: list[bytes] | None = None,
    at: datetime | None = None,
) -> EditResult:
    """The reporter's correction: ``description`` (None: unchanged) and ``photos`` to add
    (checked as at filing, at most ``PHOTO_MAX_PER_REQUEST`` in all). The caller found the
    request with ``service_request_for_reporter_edit``. Refused with 409 naming the fields
    once the window closed or work started (or, for the description, once staff redacted
    it); hidden meanwhile: 404; a bad description or photo: 400/413 naming it."""
    photos = photos or []
    uploads = _input_check(service_request=service_request, description=description, photos=photos)
    fields = [name for name, given in (("description", description), ("photos", photos)) if given]
    fields = fields or ["description"]
    now = at or timezone.now()
    with transaction.atomic():
        # Hidden meanwhile: gone for the reporter too.
        locked = found(
            ServiceRequest.objects.visible()
            .select_for_update()
            .filter(pk=service_request.pk)
            .first(),
            service_request.public_id,
            field="public_id",
            what="request",
        )
        _still_editable(locked=locked, fields=fields, now=now)
        if description is not None and _redacted(locked):
            message = _("Staff have edited the description: it can no longer be changed.")
            raise City311Error({"description": [message]}, code=ErrorCode.CONFLICT, detail=message)
        old_description = locked.description
        description_changed = description is not None and description != old_description
        photo_ids = []
        for upload in uploads:
            photo, created = photo_attach(service_request=locked, upload=upload)
            if created:
                photo_ids.append(photo.pk)
        changed = (["description"] if description_changed else []) + (
            ["photos"] if photo_ids else []
        )
        if not changed:
            return EditResult(service_request=locked)
        update = ["updated_at"]
        if description_changed:
            assert description is not None
            locked.description = description
            update.append("description")
        locked.updated_at = now
        locked.save(update_fields=update)
        service_request_event_create(
            service_request=locked,
            kind=EventKind.EDITED,
            actor=actor,
            channel=channel,
            public_note=_public_note(description=description_changed, photos=len(photo_ids)),
            internal_note=(
                f"Description before the edit:\n{old_description}" if description_changed else ""
            ),
            at=now,
        )
        photo_process_enqueue(photo_ids=photo_ids)
    return EditResult(service_request=locked, changed=changed, photo_ids=photo_ids)
