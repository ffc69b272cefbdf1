"""Writes of the Open311 server: issuing and revoking API keys, and filing a request through
the one intake pipeline (at once, or through a token when ``OPEN311_ASYNC_INTAKE`` is on)."""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from backend.cases.resident_update import ResidentSays, resident_update_submit
from backend.catalog.models import ServiceType
from backend.catalog.selectors import service_type_get_for_intake
from backend.intake.services import (
    IntakeError,
    PhotoUpload,
    service_request_submit,
)
from backend.intake.validation import (
    Errors,
    add_error,
    attributes_check,
    contact_check,
    location_check,
    media_url_check,
    service_available_check,
    text_check,
)
from backend.open311.errors import Open311Error, intake_errors
from backend.open311.models import ApiKey, IntakeToken, PartnerUpdate, TokenState
from backend.open311.parameters import (
    UPDATE_STATUSES_FIXED,
    UPDATE_STATUSES_NOT_FIXED,
    PartnerUpdateIn,
)
from backend.outbox.services import outbox_task
from backend.service_requests.models import Channel, ServiceRequest
from backend.service_requests.selectors import service_request_get_visible

logger = logging.getLogger(__name__)

KEY_PREFIX_LENGTH = 8
KEY_MIN_LENGTH = 8
LAST_USED_RESOLUTION = timedelta(minutes=1)


# --- API keys


def api_key_hash(raw: str) -> str:
    """Keys are long random strings, so one unsalted SHA-256 is enough to keep a database
    leak from handing out working keys (docs/adr/0005-open311-api-keys-hashed.md)."""
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    raw: str
    created: bool


def api_key_create(
    *, name: str, channel: str, raw: str | None = None, may_post_updates: bool = False
) -> IssuedKey:
    """Issues a key for a client. With ``raw`` (a key chosen by the caller, such as the
    development key of ``make run``) it is idempotent: the same name, channel and key again
    return the existing key. ``may_post_updates`` lets it post residents' updates
    (``servicerequestupdates``); given for an existing key, it is granted to it."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValueError("A key needs a name of 1 to 100 characters.")
    if channel not in Channel.values:
        raise ValueError(f"Unknown channel {channel!r}; one of: {', '.join(Channel.values)}.")
    if raw is not None:
        raw = raw.strip()
        if len(raw) < KEY_MIN_LENGTH:
            raise ValueError(f"A key needs at least {KEY_MIN_LENGTH} characters.")
        existing = ApiKey.objects.filter(key_hash=api_key_hash(raw)).first()
        if existing is not None:
            if (existing.name, existing.channel) != (name, channel):
                raise ValueError(
                    f"That key is already issued, to {existing.name!r} ({existing.channel})."
                )
            if may_post_updates and not existing.may_post_updates:
                ApiKey.objects.filter(pk=existing.pk).update(may_post_updates=True)
                existing.may_post_updates = True
            return IssuedKey(api_key=existing, raw=raw, created=False)
    else:
        raw = "c311_" + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            api_key = ApiKey.objects.create(
                name=name,
                channel=channel,
                key_hash=api_key_hash(raw),
                prefix=raw[:KEY_PREFIX_LENGTH],
                may_post_updates=may_post_updates,
            )
    except IntegrityError as exc:
        raise ValueError(f"There is already a key named {name!r}.") from exc
    return IssuedKey(api_key=api_key, raw=raw, created=True)


def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    ApiKey.objects.filter(pk=api_key.pk).update(active=False)
    api_key.active = False
    return api_key


def api_key_updates_allow(*, api_key: ApiKey, allowed: bool) -> ApiKey:
    """Grants (or withdraws) the permission to post residents' updates."""
    ApiKey.objects.filter(pk=api_key.pk).update(may_post_updates=allowed)
    api_key.may_post_updates = allowed
    return api_key


def api_key_authenticate(*, raw: str | None) -> ApiKey | None:
    """The active key with this value, or None. ``last_used_at`` is written at most once a
    minute per key, not on every request."""
    if not raw:
        return None
    api_key = ApiKey.objects.filter(key_hash=api_key_hash(raw), active=True).first()
    if api_key is None:
        return None
    now = timezone.now()
    if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


# --- Filing a request


@dataclass(frozen=True)
class Submission:
    """A POST requests, in the intake pipeline's terms. Values stay as the client sent them:
    the pipeline checks them all."""

    service_code: str
    lat: str | None = None
    long: str | None = None
    address: str = ""
    address_id: str = ""
    description: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    media_url: str = ""

    def intake_arguments(self) -> dict[str, Any]:
        arguments = asdict(self)
        del arguments["address_id"]
        return arguments

    @property
    def address_id_only(self) -> bool:
        return bool(self.address_id) and not self.address and self.lat is None and self.long is None


ADDRESS_ID_MESSAGE = "This server keeps no address registry; give lat and long, or address_string."


@dataclass(frozen=True)
class Filed:
    """What the client is told: the request, or the token it will become."""

    service_request: ServiceRequest | None = None
    token: IntakeToken | None = None


def _intake_error(exc: IntakeError, submission: Submission) -> IntakeError:
    errors = intake_errors(exc.errors)
    if submission.address_id_only:
        errors = {"address_id": [ADDRESS_ID_MESSAGE], **errors}
    return IntakeError(errors, status=exc.status)


def open311_request_submit(
    *, api_key: ApiKey, submission: Submission, photos: list[PhotoUpload] | None = None
) -> Filed:
    """Files the request through the intake pipeline under the key's channel. Raises
    ``IntakeError`` with the errors under Open311's parameter names.

    With ``OPEN311_ASYNC_INTAKE`` (and no photo in the POST) the submission is checked
    against the catalog now and stored with a token; a worker files it
    (``intake_token_process``) and ``tokens/{token}`` then names the request."""
    if settings.OPEN311_ASYNC_INTAKE and not photos:
        return Filed(token=_token_create(api_key=api_key, submission=submission))
    try:
        result = service_request_submit(
            channel=api_key.channel, photos=photos or [], **submission.intake_arguments()
        )
    except IntakeError as exc:
        raise _intake_error(exc, submission) from exc
    return Filed(service_request=result.service_request)


# The catalog as the asynchronous precheck sees it, per process: (monotonic time, service).
# Advisory only: the worker files with the fresh catalog and records a rejection on the token.
PRECHECK_CATALOG_SECONDS = 10.0
_precheck_catalog: dict[str, tuple[float, ServiceType | None]] = {}


def _precheck_service_type(service_code: str) -> ServiceType | None:
    now = time.monotonic()
    cached = _precheck_catalog.get(service_code)
    if cached is not None and now - cached[0] < PRECHECK_CATALOG_SECONDS:
        return cached[1]
    service_type = service_type_get_for_intake(service_code=service_code)
    if len(_precheck_catalog) > 1000:  # unknown codes must not grow it without end
        _precheck_catalog.clear()
    _precheck_catalog[service_code] = (now, service_type)
    return service_type


def precheck_catalog_clear() -> None:
    _precheck_catalog.clear()


def _precheck(submission: Submission) -> None:
    """The intake pipeline's catalog checks, run before a submission is queued, so that a
    client hears about every wrong field at once even in asynchronous mode. The catalog may
    be up to ``PRECHECK_CATALOG_SECONDS`` old here; the worker runs the whole pipeline again
    on the fresh one, and a rejection there is recorded on the token."""
    errors: Errors = {}
    service_type = _precheck_service_type(submission.service_code)
    if service_type is None:
        add_error(
            errors, "service_code", f"There is no active service {submission.service_code!r}."
        )
        raise IntakeError(errors, status=404 if submission.service_code else 400)
    if not service_available_check(service_type=service_type, errors=errors):
        raise IntakeError(errors, status=404)
    address = submission.address.strip()
    location_check(
        lat=submission.lat,
        long=submission.long,
        address=address,
        service_type=service_type,
        errors=errors,
    )
    attributes_check(service_type=service_type, answers=submission.attributes, errors=errors)
    text_check(description=submission.description, address=address, errors=errors)
    contact_check(
        name=submission.contact_name.strip(),
        email=submission.contact_email.strip(),
        phone=submission.contact_phone.strip(),
        errors=errors,
    )
    media_url_check(media_url=submission.media_url.strip(), errors=errors)
    if errors:
        raise IntakeError(errors)


def _token_create(*, api_key: ApiKey, submission: Submission) -> IntakeToken:
    try:
        _precheck(submission)
    except IntakeError as exc:
        raise _intake_error(exc, submission) from exc
    token = IntakeToken.objects.create(
        token=secrets.token_urlsafe(18),
        api_key=api_key,
        channel=api_key.channel,
        payload=submission.intake_arguments(),
        created_at=timezone.now(),
    )
    outbox_task("backend.open311.tasks.intake_token_process", token.pk)
    return token


def intake_token_process(*, token_id: int) -> IntakeToken | None:
    """Runs the intake pipeline for a pending token, once: the token row is locked (a second
    worker skips it) and the request and the token's new state commit together. Returns the
    token, or None when there was nothing to do."""
    with transaction.atomic():
        token = (
            IntakeToken.objects.select_for_update(skip_locked=True)
            .filter(pk=token_id, state=TokenState.PENDING)
            .first()
        )
        if token is None:
            return None
        try:
            with transaction.atomic():
                result = service_request_submit(
                    channel=token.channel, requested_at=token.created_at, **token.payload
                )
        except IntakeError as exc:
            logger.info("open311 token %s rejected by intake: %s", token.pk, exc)
            token.state = TokenState.REJECTED
            token.errors = intake_errors(exc.errors)
            token.error_status = exc.status
        else:
            token.state = TokenState.DONE
            token.service_request = result.service_request
        token.payload = {}  # the reporter's contact data is not kept twice
        token.processed_at = timezone.now()
        token.save(
            update_fields=[
                "state",
                "errors",
                "error_status",
                "service_request",
                "payload",
                "processed_at",
            ]
        )
    return token


def intake_tokens_pending(*, older_than: timedelta, limit: int = 500) -> list[int]:
    cutoff = timezone.now() - older_than
    return list(
        IntakeToken.objects.filter(state=TokenState.PENDING, created_at__lt=cutoff)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


# --- Residents' updates from a partner front end (POST servicerequestupdates)


def api_key_updates_check(*, api_key: ApiKey) -> None:
    """403 unless the key was given the "updates" permission."""
    if not api_key.may_post_updates:
        raise Open311Error(
            {"api_key": ["This api_key may not post updates; ask the city for that permission."]},
            status=403,
        )


def _says(status: str) -> ResidentSays:
    if status in UPDATE_STATUSES_FIXED:
        return ResidentSays.FIXED
    if status in UPDATE_STATUSES_NOT_FIXED:
        return ResidentSays.NOT_FIXED
    return ResidentSays.COMMENT


def partner_update_submit(*, api_key: ApiKey, update: PartnerUpdateIn) -> PartnerUpdate:
    """Stores a partner's update as a resident comment held for moderation (and, for "not
    fixed" on a recently closed request, reopens it: ``backend.cases.resident_update``).
    Idempotent on the partner's ``update_id`` per key: a replay returns the first record,
    whatever it carries this time. 404 (``service_request_id``) for an unknown request."""
    replay = PartnerUpdate.objects.filter(api_key=api_key, update_id=update.update_id).first()
    if replay is not None:
        return replay
    # Unknown and hidden alike: 404, as if it did not exist.
    service_request = service_request_get_visible(public_id=update.service_request_id)
    if service_request is None:
        raise Open311Error(
            {"service_request_id": [f"There is no request {update.service_request_id!r}."]},
            status=404,
        )
    try:
        with transaction.atomic():
            comment = resident_update_submit(
                service_request=service_request,
                says=_says(update.status),
                text=update.description,
                channel=api_key.channel,
                media_url=update.media_url,
                claimed_status=update.status,
                author_name=update.author_name,
                author_email=update.author_email,
                source=api_key.name,
            )
            return PartnerUpdate.objects.create(
                api_key=api_key,
                update_id=update.update_id,
                comment=comment,
                partner_updated_at=update.updated_at,
                created_at=comment.created_at,
            )
    except IntegrityError:
        # The same update_id, posted twice at once: the other one won; answer as it did.
        first = PartnerUpdate.objects.filter(api_key=api_key, update_id=update.update_id).first()
        if first is None:
            raise
        return first
