"""Retention: personal data is kept only as long as it serves (docs/reliability.md, "Privacy").

``retention_apply`` (``manage.py retention_apply``, and Celery beat nightly) does two things:

- **Requests closed for ``RETENTION_CLOSED_DAYS``** and not on legal hold lose their
  reporter's contact data everywhere it lives: the request's name, e-mail and phone, the
  recipients of its ``ResidentNotification`` sent markers, its ``RequestFollower`` rows, the
  authors' names and e-mails of its ``ResidentComment`` rows (partners' updates), the
  outbox rows whose payload carries one of those addresses, the raw uploads of its photos and
  their private EXIF (the processed photos, which carry no metadata, stay; so do the proof
  checks' verdicts). The layers above erase their own copies through the request domain's
  hooks (``hooks.contact_erase``: the mobile API's push subscriptions bound to the request,
  the chatbot's conversation log, the work orders' proof EXIF). ``contact_erased_at`` marks
  the request, and an ``erased`` event (internal, never public) says what kinds were erased
  and how many, never the data.
- **Resident accounts inactive for ``RETENTION_ACCOUNT_MONTHS``** (no log-in, request, follow
  or activity any layer above saw: ``hooks.accounts_active``) are anonymised, not deleted:
  the user name becomes ``anonymised-<id>``, the e-mail and names empty, the password
  unusable, the account inactive; their requests keep their reporter, so their history stays
  whole, but lose their contact data (with an ``erased`` event). An ``AccountErasure`` row
  marks each one.

Batched: the requests are read ``batch_size`` at a time in the order of a partial index
(``sr_retention_due``: closed, not erased) and each batch is one transaction, so a million
due rows never sit in memory and a stopped run keeps what it finished. Idempotent: what was
erased is marked, a second run finds nothing. A dry run does the same work in each batch's
transaction and rolls it back (files are deleted only after a commit), so its report is
exactly what a real run would do, and nothing changes.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import models, transaction
from django.db.models import Q, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.errors import City311Error
from backend.outbox.services import outbox_payloads_erase
from backend.photos.models import Photo
from backend.photos.services import private_files_delete_on_commit, private_path
from backend.service_requests import hooks
from backend.service_requests.models import (
    AccountErasure,
    EventKind,
    RequestFollower,
    ResidentComment,
    ResidentNotification,
    ServiceRequest,
    ServiceRequestEvent,
    Status,
)
from backend.users import actor_user

BATCH_SIZE = 500
ANONYMISED_PREFIX = "anonymised-"
# Sent markers that name no person keep their recipient (the websocket group's "", a device).
_IMPERSONAL_RECIPIENTS = Q(recipient="") | Q(recipient__startswith="device:")
_ERASED_RECIPIENT = "erased:"


@dataclass
class RetentionReport:
    """What a run did (or, dry, would do): rows per kind, for requests and for accounts."""

    dry_run: bool
    closed_before: datetime
    inactive_since: datetime
    requests: dict[str, int] = field(default_factory=dict)
    accounts: dict[str, int] = field(default_factory=dict)
    # What the layers above keep past its time apart from those (``hooks.retention_sweep``).
    other: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        mode = "dry run, nothing changed" if self.dry_run else "applied"
        out = [f"Retention ({mode})"]
        for title, counts in (
            (f"Requests closed before {self.closed_before:%Y-%m-%d %H:%M %Z}", self.requests),
            (
                f"Resident accounts inactive since {self.inactive_since:%Y-%m-%d %H:%M %Z}",
                self.accounts,
            ),
            ("Other personal data past its time", self.other),
        ):
            out.append(f"{title}:")
            out += [f"  {kind}: {number}" for kind, number in sorted(counts.items())]
            if not counts:
                out.append("  nothing to erase")
        return out


def _add(total: dict[str, int], counts: dict[str, int]) -> None:
    for kind, number in counts.items():
        total[kind] = total.get(kind, 0) + number


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time ``months`` calendar months earlier (the month's last day when
    that month is shorter)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def _events_write(*, service_request_ids: list[int], note: str, at: datetime) -> None:
    """One ``erased`` event per request: internal (never a public event), naming the kinds
    erased, never the data."""
    events = ServiceRequestEvent.objects.bulk_create(
        ServiceRequestEvent(
            service_request_id=pk, kind=EventKind.ERASED, internal_note=note, created_at=at
        )
        for pk in service_request_ids
    )
    for event in events:
        hooks.event_recorded(event=event)


CLOSED_NOTE = (
    "Reporter contact data erased by the retention run: contact fields, notification "
    "recipients, followers, comment authors, outbox payloads, raw uploads, photo EXIF, push "
    "subscriptions, chat log and proof EXIF."
)
ACCOUNT_NOTE = (
    "Reporter contact data erased: the reporter's account was anonymised by the retention run."
)


# --- Legal hold


def service_request_legal_hold_set(
    *,
    service_request: ServiceRequest,
    hold: bool,
    reason: str = "",
    actor: AbstractBaseUser | AnonymousUser | None = None,
) -> ServiceRequest:
    """Staff put a request on legal hold (with the reason: 400 naming ``legal_hold_reason``
    without one) or lift it. The retention run never erases a request on hold. A change
    writes an internal ``note`` event (who, when, the reason); setting what is already set
    writes nothing."""
    reason = reason.strip()
    if hold and not reason:
        raise City311Error(
            {"legal_hold_reason": [_("A legal hold needs a reason.")]}, field="legal_hold_reason"
        )
    if not hold:
        reason = ""
    with transaction.atomic():
        locked = ServiceRequest.objects.select_for_update().get(pk=service_request.pk)
        if (locked.legal_hold, locked.legal_hold_reason) != (hold, reason):
            locked.legal_hold, locked.legal_hold_reason = hold, reason
            locked.save(update_fields=["legal_hold", "legal_hold_reason"])
            event = ServiceRequestEvent.objects.create(
                service_request=locked,
                kind=EventKind.NOTE,
                actor=actor_user(actor),
                internal_note=f"Legal hold set: {reason}" if hold else "Legal hold lifted.",
                created_at=timezone.now(),
            )
            hooks.event_recorded(event=event)
    service_request.legal_hold, service_request.legal_hold_reason = hold, reason
    return service_request


# --- Requests closed past the window


def do_requests_contact_erase(*, service_request_ids: list[int], now: datetime) -> dict[str, int]:
    """Erases the reporters' contact data of these requests, everywhere it lives, and marks
    them. The caller holds the requests' row locks (in primary-key order) and has checked they
    are due (closed past the window, not on legal hold, not erased)."""
    requests = ServiceRequest.objects.filter(pk__in=service_request_ids)
    counts: dict[str, int] = {"requests": len(service_request_ids)}
    rows = list(requests.values_list("public_id", "contact_email", "contact_phone"))
    public_ids = [public_id for public_id, _email, _phone in rows]
    contacts = {value for _id, email, phone in rows for value in (email, phone) if value}
    counts["request_contacts"] = requests.filter(
        ~Q(contact_name="") | ~Q(contact_email="") | ~Q(contact_phone="")
    ).count()
    requests.update(contact_name="", contact_email="", contact_phone="", contact_erased_at=now)

    counts["notification_recipients"] = (
        ResidentNotification.objects.filter(service_request_id__in=service_request_ids)
        .exclude(_IMPERSONAL_RECIPIENTS)
        .exclude(recipient__startswith=_ERASED_RECIPIENT)
        .update(recipient=Concat(Value(_ERASED_RECIPIENT), Cast("pk", models.CharField())))
    )
    followers = RequestFollower.objects.filter(service_request_id__in=service_request_ids)
    contacts |= {email for email in followers.values_list("email", flat=True) if email}
    counts["followers"], _ = followers.delete()
    # Partners' residents' comments: their names and e-mails (the words stay, moderated).
    comments = ResidentComment.objects.filter(service_request_id__in=service_request_ids).exclude(
        author_name="", author_email=""
    )
    contacts |= {email for email in comments.values_list("author_email", flat=True) if email}
    counts["comment_authors"] = comments.update(author_name="", author_email="")

    photos = Photo.objects.filter(service_request_id__in=service_request_ids)
    raw_paths = list(photos.exclude(raw_path="").values_list("raw_path", flat=True))
    counts["raw_uploads"] = sum(1 for relative in raw_paths if private_path(relative).is_file())
    photos.exclude(raw_path="").update(raw_path="")
    private_files_delete_on_commit(paths=raw_paths)
    counts["photo_exif"] = photos.filter(
        Q(exif_taken_at__isnull=False) | Q(exif_location__isnull=False)
    ).update(exif_taken_at=None, exif_location=None)

    counts["outbox_payloads"] = outbox_payloads_erase(needles=sorted(contacts))
    _add(
        counts,
        hooks.contact_erase(
            service_request_ids=service_request_ids,
            public_ids=public_ids,
            contacts=sorted(contacts),
        ),
    )
    _events_write(service_request_ids=service_request_ids, note=CLOSED_NOTE, at=now)
    return counts


def _batch_run(
    *,
    due: models.QuerySet[Any],
    ids: list[int],
    erase: Callable[[list[int]], dict[str, int]],
    dry_run: bool,
    total: dict[str, int],
) -> None:
    """One batch, in its own transaction: the rows of ``ids`` still in ``due``, locked in
    primary-key order (so checked again under the lock), go to ``erase``, whose counts are
    added to ``total``. A dry run rolls the batch back (and with it the files' deletion)."""
    with transaction.atomic():
        locked = list(
            due.filter(pk__in=ids).order_by("pk").select_for_update().values_list("pk", flat=True)
        )
        if locked:
            _add(total, erase(locked))
        if dry_run:
            transaction.set_rollback(True)


def _due(*, closed_before: datetime) -> models.QuerySet[ServiceRequest]:
    return ServiceRequest.objects.filter(
        status=Status.CLOSED,
        contact_erased_at__isnull=True,
        closed_at__lt=closed_before,
        legal_hold=False,
    )


def requests_contact_erase(
    *, closed_before: datetime, now: datetime, dry_run: bool, batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """Erases, a batch per transaction, the contact data of every request closed before
    ``closed_before`` and not on legal hold; the counts per kind. A dry run rolls each batch
    back."""
    total: dict[str, int] = {}
    after: tuple[datetime | None, int] | None = None  # closed_at: never None when closed
    while True:
        candidates = _due(closed_before=closed_before)
        if after is not None:
            closed_at, pk = after
            candidates = candidates.filter(
                Q(closed_at__gt=closed_at) | Q(closed_at=closed_at, pk__gt=pk)
            )
        page = list(
            candidates.order_by("closed_at", "pk").values_list("closed_at", "pk")[:batch_size]
        )
        if not page:
            return total
        after = page[-1]
        # Checked again under the lock: staff may have put one on hold since it was read.
        _batch_run(
            due=_due(closed_before=closed_before),
            ids=[pk for _at, pk in page],
            erase=lambda ids: do_requests_contact_erase(service_request_ids=ids, now=now),
            dry_run=dry_run,
            total=total,
        )


# --- Resident accounts inactive past the window


def _accounts_inactive(*, user_ids: list[int], since: datetime) -> list[int]:
    """Of these candidates, those that filed or followed nothing since ``since`` and that no
    layer above saw active."""
    busy = set(
        ServiceRequest.objects.filter(reporter_id__in=user_ids, requested_at__gte=since)
        .values_list("reporter_id", flat=True)
        .distinct()
    )
    busy |= set(
        RequestFollower.objects.filter(user_id__in=user_ids, created_at__gte=since).values_list(
            "user_id", flat=True
        )
    )
    rest = [pk for pk in user_ids if pk not in busy]
    if not rest:
        return []
    active = hooks.accounts_active(user_ids=rest, since=since)
    return [pk for pk in rest if pk not in active]


def _accounts_anonymise_inactive(
    *, user_ids: list[int], since: datetime, now: datetime
) -> dict[str, int]:
    inactive = _accounts_inactive(user_ids=user_ids, since=since)
    return do_accounts_anonymise(user_ids=inactive, now=now) if inactive else {}


def do_accounts_anonymise(*, user_ids: list[int], now: datetime) -> dict[str, int]:
    """Anonymises these resident accounts and erases their contact data on their requests.
    The caller holds the users' row locks and has checked they are inactive and not yet
    anonymised."""
    user_model = get_user_model()
    counts: dict[str, int] = {"accounts": len(user_ids)}
    followers = RequestFollower.objects.filter(user_id__in=user_ids)
    counts["followers"], _ = followers.delete()
    with_contact = ServiceRequest.objects.filter(reporter_id__in=user_ids).filter(
        ~Q(contact_name="") | ~Q(contact_email="") | ~Q(contact_phone="")
    )
    request_ids = list(with_contact.order_by("pk").select_for_update().values_list("pk", flat=True))
    contacts = {
        value
        for row in ServiceRequest.objects.filter(pk__in=request_ids).values_list(
            "contact_email", "contact_phone"
        )
        for value in row
        if value
    }
    contacts |= {
        email
        for email in user_model.objects.filter(pk__in=user_ids).values_list("email", flat=True)
        if email
    }
    ServiceRequest.objects.filter(pk__in=request_ids).update(
        contact_name="", contact_email="", contact_phone=""
    )
    counts["request_contacts"] = len(request_ids)
    _events_write(
        service_request_ids=request_ids,
        note=ACCOUNT_NOTE,
        at=now,
    )
    counts["outbox_payloads"] = outbox_payloads_erase(needles=sorted(contacts))
    _add(counts, hooks.account_erase(user_ids=user_ids))
    user_model.objects.filter(pk__in=user_ids).update(
        username=Concat(Value(ANONYMISED_PREFIX), Cast("pk", models.CharField())),
        email="",
        first_name="",
        last_name="",
        password=UNUSABLE_PASSWORD_PREFIX,  # nobody can sign in
        is_active=False,
    )
    AccountErasure.objects.bulk_create(AccountErasure(user_id=pk, erased_at=now) for pk in user_ids)
    return counts


def _account_candidates(*, inactive_since: datetime) -> models.QuerySet[models.Model]:
    user_model = get_user_model()
    return (
        user_model.objects.filter(is_staff=False, is_superuser=False)
        .exclude(pk__in=AccountErasure.objects.values("user_id"))
        .alias(last_seen=Coalesce("last_login", "date_joined"))
        .filter(last_seen__lt=inactive_since)
    )


def accounts_anonymise(
    *, inactive_since: datetime, now: datetime, dry_run: bool, batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """Anonymises, a batch per transaction, every resident account inactive since
    ``inactive_since``; the counts per kind. A dry run rolls each batch back."""
    total: dict[str, int] = {}
    after = 0
    while True:
        page = list(
            _account_candidates(inactive_since=inactive_since)
            .filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not page:
            return total
        after = page[-1]
        _batch_run(
            due=_account_candidates(inactive_since=inactive_since),
            ids=page,
            erase=lambda ids: _accounts_anonymise_inactive(
                user_ids=ids, since=inactive_since, now=now
            ),
            dry_run=dry_run,
            total=total,
        )


def retention_apply(
    *, dry_run: bool = False, now: datetime | None = None, batch_size: int = BATCH_SIZE
) -> RetentionReport:
    """The whole policy, once: requests closed past ``RETENTION_CLOSED_DAYS``, then accounts
    inactive past ``RETENTION_ACCOUNT_MONTHS``. The report says what was (or would be)
    erased, per kind."""
    now = now or timezone.now()
    report = RetentionReport(
        dry_run=dry_run,
        closed_before=now - timedelta(days=settings.RETENTION_CLOSED_DAYS),
        inactive_since=months_before(now, settings.RETENTION_ACCOUNT_MONTHS),
    )
    report.requests = requests_contact_erase(
        closed_before=report.closed_before, now=now, dry_run=dry_run, batch_size=batch_size
    )
    report.accounts = accounts_anonymise(
        inactive_since=report.inactive_since, now=now, dry_run=dry_run, batch_size=batch_size
    )
    report.other = hooks.retention_sweep(now=now, dry_run=dry_run)
    return report
