"""Emergency mode, the writes: a site banner, and services switched off for a while.

Each set and clear locks what it changes, writes an ``EmergencyEvent`` (who, when, until when)
in the same transaction, and after the commit forgets this process's cached emergency state
(``backend.catalog.selectors.emergency_state``), so the switch takes effect at once here and
within ``CATALOG_CACHE_SECONDS`` in the other processes. Nothing else writes these tables:
the admin calls these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Required, TypedDict, TypeVar, Unpack

from django.contrib.auth.models import User as UserModel
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.catalog.models import (
    EmergencyEvent,
    EmergencyEventKind,
    EmergencyNotice,
    ServiceSuspension,
    ServiceType,
    SiteBanner,
)
from backend.catalog.selectors import emergency_cache_clear
from backend.errors import City311Error, ErrorCode, Errors
from backend.users import Actor, actor_user

MESSAGE_MAX = 500


class EmergencyError(City311Error):
    """A banner or a switch-off that cannot be set as given (400 naming the field)."""

    detail_is_message = True


def emergency_window_check(
    *, message: str, starts_at: datetime | None, ends_at: datetime | None, now: datetime
) -> Errors:
    """What is wrong with a message and its time window: ``{field: [message]}``, empty when
    nothing is. The admin's forms show these next to their fields."""
    errors: Errors = {}
    if not message.strip():
        errors.setdefault("message", []).append(_("Enter the message residents will see."))
    elif len(message) > MESSAGE_MAX:
        errors.setdefault("message", []).append(
            _("The message is limited to %(n)d characters.") % {"n": MESSAGE_MAX}
        )
    for name, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        if value is not None and timezone.is_naive(value):
            errors.setdefault(name, []).append(_("Give a date and time with a time zone."))
    if "ends_at" in errors or "starts_at" in errors or ends_at is None:
        return errors
    if ends_at <= now:
        errors.setdefault("ends_at", []).append(_("The end must be in the future."))
    elif starts_at is not None and ends_at <= starts_at:
        errors.setdefault("ends_at", []).append(_("The end must be after the start."))
    return errors


def _checked(
    *, message: str, starts_at: datetime | None, ends_at: datetime | None, now: datetime
) -> str:
    message = (message or "").strip()
    errors = emergency_window_check(message=message, starts_at=starts_at, ends_at=ends_at, now=now)
    if errors:
        raise EmergencyError(errors)
    return message


def _conflict() -> EmergencyError:
    message = _("Someone else changed this at the same moment. Please try again.")
    return EmergencyError({"body": [message]}, code=ErrorCode.CONFLICT)


N = TypeVar("N", SiteBanner, ServiceSuspension)

# What setting and clearing each kind of notice writes in the audit.
_KINDS: dict[type[EmergencyNotice], tuple[EmergencyEventKind, EmergencyEventKind]] = {
    SiteBanner: (EmergencyEventKind.BANNER_SET, EmergencyEventKind.BANNER_CLEARED),
    ServiceSuspension: (EmergencyEventKind.SERVICE_OFF, EmergencyEventKind.SERVICE_ON),
}


def _event_write(
    notice: EmergencyNotice, *, cleared: bool, user: UserModel | None, at: datetime
) -> None:
    about: dict[str, object] = {"banner": notice}
    if isinstance(notice, ServiceSuspension):
        about = {"suspension": notice, "service_type_id": notice.service_type_id}
    EmergencyEvent.objects.create(
        kind=_KINDS[type(notice)][cleared],
        actor=user,
        created_at=at,
        starts_at=notice.starts_at,
        ends_at=notice.ends_at,
        message=notice.message,
        **about,
    )


def _notice_close(notice: EmergencyNotice, *, user: UserModel | None, now: datetime) -> None:
    """The caller holds the notice's row lock."""
    notice.cleared_at = now
    notice.cleared_by = user
    notice.save(update_fields=["cleared_at", "cleared_by"])
    _event_write(notice, cleared=True, user=user, at=now)


class NoticeFields(TypedDict, total=False):
    """What staff give for a banner or a switch-off: the message (required), its translations
    (``{"es": ..., "vi": ...}``) and the time window (start: now; end: until cleared)."""

    message: Required[str]
    message_i18n: dict[str, str] | None
    starts_at: datetime | None
    ends_at: datetime | None


def _notice_open(
    model: type[N], *, scope: Mapping[str, object], actor: Actor, notice: NoticeFields
) -> N:
    """Clears the open notice of ``scope`` (the whole site, or one service) and sets the new
    one, with their events. Concurrent changes of one scope: the caller holds the service's
    row lock; for the banner, the one-open-banner constraint makes the later one a 409."""
    now = timezone.now()
    starts_at, ends_at = notice.get("starts_at"), notice.get("ends_at")
    message = _checked(message=notice["message"], starts_at=starts_at, ends_at=ends_at, now=now)
    user = actor_user(actor)
    try:
        with transaction.atomic():
            for previous in model.objects.select_for_update().filter(cleared_at=None, **scope):
                _notice_close(previous, user=user, now=now)
            created = model.objects.create(
                **scope,
                message=message,
                message_i18n=notice.get("message_i18n") or {},
                starts_at=starts_at or now,
                ends_at=ends_at,
                set_by=user,
                set_at=now,
            )
            _event_write(created, cleared=False, user=user, at=now)
            transaction.on_commit(emergency_cache_clear)
    except IntegrityError as exc:  # set at the same moment by a concurrent call
        raise _conflict() from exc
    return created


def _notice_clear(model: type[N], *, pk: int, actor: Actor) -> N:
    """Ends the notice now. Clearing one already cleared changes nothing."""
    with transaction.atomic():
        locked = model.objects.select_for_update().get(pk=pk)
        if locked.cleared_at is None:
            _notice_close(locked, user=actor_user(actor), now=timezone.now())
            transaction.on_commit(emergency_cache_clear)
    return locked


def site_banner_set(*, actor: Actor, **notice: Unpack[NoticeFields]) -> SiteBanner:
    """Shows ``message`` on every resident page and app from ``starts_at`` (now when not
    given) until ``ends_at`` (until cleared when not given). Replaces the banner shown now."""
    return _notice_open(SiteBanner, scope={}, actor=actor, notice=notice)


def site_banner_clear(*, banner: SiteBanner, actor: Actor) -> SiteBanner:
    """Takes the banner down now."""
    return _notice_clear(SiteBanner, pk=banner.pk, actor=actor)


def service_suspension_set(
    *, service_type: ServiceType, actor: Actor, **notice: Unpack[NoticeFields]
) -> ServiceSuspension:
    """Switches the service off from ``starts_at`` (now) until ``ends_at`` (until switched
    back on): every channel's intake refuses it with ``message`` (404 naming
    ``service_code``) and Open311 leaves it out of ``services``. Replaces the service's open
    switch-off, if any."""
    with transaction.atomic():
        # The service's row orders concurrent switches of one service.
        ServiceType.objects.select_for_update().filter(pk=service_type.pk).first()
        scope = {"service_type": service_type}
        return _notice_open(ServiceSuspension, scope=scope, actor=actor, notice=notice)


def service_suspension_clear(*, suspension: ServiceSuspension, actor: Actor) -> ServiceSuspension:
    """Switches the service back on now."""
    return _notice_clear(ServiceSuspension, pk=suspension.pk, actor=actor)
