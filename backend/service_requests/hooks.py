"""What the request domain tells the layers above it, without importing them.

Requests sit below work orders, the mobile API and analytics (docs/architecture.md, "Layers";
ADR 0020): this package never imports them, not even inside a function. Where a request's
change concerns them, or its messages need something only they know, they register a handler
here, in their ``AppConfig.ready()`` (which every process runs: web, Celery workers, the
outbox dispatcher, management commands, the tests):

- ``event_recorded``: every ``ServiceRequestEvent`` as it is written, in the change's own
  transaction (analytics: the live counters' push, written to the outbox);
- ``closing_photo_urls`` and ``feedback_link``: what the message of a request closed as
  resolved shows, the finished work's photos and the "Was it fixed?" link (work orders);
- ``status_pushes``: who else hears a status message, and how (the mobile API: the phones
  and browsers of the reporter and the followers, and those bound to the request).
- ``contact_erase``, ``accounts_active`` and ``account_erase``: the retention run
  (``retention.py``) erases what the layers above keep of a reporter (the mobile API: push
  subscriptions bound to the request; the chatbot: the conversation's log and photos; work
  orders: the proof photos' EXIF) and of an anonymised account, and leaves alone the accounts
  they saw active; ``retention_sweep``: what else a layer above keeps past its time (alerts:
  e-mail subscriptions never confirmed), swept once per run.

One function registers each kind, one calls them; handlers run in the order registered.
A handler registered twice runs once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from backend.service_requests.models import ServiceRequestEvent


class EventRecorded(Protocol):
    def __call__(self, *, event: ServiceRequestEvent) -> None: ...


class ClosingPhotoUrls(Protocol):
    """The processed photos of the work a closure ended, as URLs (relative to the site
    unless on a CDN), oldest first."""

    def __call__(self, *, close_event: ServiceRequestEvent) -> list[str]: ...


class FeedbackLink(Protocol):
    """The closure's "Was it fixed?" link (absolute), or "" when there is none."""

    def __call__(self, *, close_event: ServiceRequestEvent) -> str: ...


@dataclass(frozen=True)
class Delivery:
    """One more copy of a status message: ``recipient`` names it in its sent marker
    (``ResidentNotification``, medium ``push``), ``send`` sends it (raising to be retried)."""

    recipient: str
    send: Callable[[], object]


class StatusPushes(Protocol):
    """The pushes of the status message of ``event``, whose title is ``subject``."""

    def __call__(self, *, event: ServiceRequestEvent, subject: str) -> list[Delivery]: ...


H = TypeVar("H")

_event_recorded: list[EventRecorded] = []
_closing_photo_urls: list[ClosingPhotoUrls] = []
_feedback_link: list[FeedbackLink] = []
_status_pushes: list[StatusPushes] = []


def _add(handlers: list[H], handler: H) -> None:
    if handler not in handlers:
        handlers.append(handler)


def event_recorded_register(handler: EventRecorded) -> None:
    _add(_event_recorded, handler)


def closing_photo_urls_register(handler: ClosingPhotoUrls) -> None:
    _add(_closing_photo_urls, handler)


def feedback_link_register(handler: FeedbackLink) -> None:
    _add(_feedback_link, handler)


def status_pushes_register(handler: StatusPushes) -> None:
    _add(_status_pushes, handler)


def event_recorded(*, event: ServiceRequestEvent) -> None:
    """Tells every handler of a request event just written (in its transaction)."""
    for handler in _event_recorded:
        handler(event=event)


def closing_photo_urls(*, close_event: ServiceRequestEvent) -> list[str]:
    """Every handler's photo URLs for a closure, in the order registered."""
    return [url for handler in _closing_photo_urls for url in handler(close_event=close_event)]


def feedback_link(*, close_event: ServiceRequestEvent) -> str:
    """The first feedback link a handler gives for a closure, or ""."""
    for handler in _feedback_link:
        link = handler(close_event=close_event)
        if link:
            return link
    return ""


def status_pushes(*, event: ServiceRequestEvent, subject: str) -> list[Delivery]:
    """Every handler's pushes of a status message, in the order registered."""
    return [
        delivery for handler in _status_pushes for delivery in handler(event=event, subject=subject)
    ]


# --- Retention (backend/service_requests/retention.py): the layers above erase what they keep
# of a request's reporter, and of an account, in the retention run's transaction. Each
# handler returns how many rows it erased per kind (the run's report); it must be idempotent
# (a second run finds nothing left) and must not record the erased data anywhere.


class ContactErase(Protocol):
    """Erase what this layer keeps of the reporters of these requests (closed past the
    window, not on legal hold): their ids and public ids, and the contact e-mails and phones
    that were on them (to find copies, never to be stored)."""

    def __call__(
        self, *, service_request_ids: list[int], public_ids: list[str], contacts: list[str]
    ) -> dict[str, int]: ...


class AccountsActive(Protocol):
    """Of these accounts, those this layer saw active since ``since`` (or that are not
    residents' accounts at all): the retention run leaves them alone."""

    def __call__(self, *, user_ids: list[int], since: datetime) -> set[int]: ...


class AccountErase(Protocol):
    """Erase what this layer keeps of these residents' accounts, being anonymised."""

    def __call__(self, *, user_ids: list[int]) -> dict[str, int]: ...


_contact_erase: list[ContactErase] = []
_accounts_active: list[AccountsActive] = []
_account_erase: list[AccountErase] = []


def contact_erase_register(handler: ContactErase) -> None:
    _add(_contact_erase, handler)


def accounts_active_register(handler: AccountsActive) -> None:
    _add(_accounts_active, handler)


def account_erase_register(handler: AccountErase) -> None:
    _add(_account_erase, handler)


def _counts_add(total: dict[str, int], counts: dict[str, int]) -> None:
    for kind, number in counts.items():
        total[kind] = total.get(kind, 0) + number


def contact_erase(
    *, service_request_ids: list[int], public_ids: list[str], contacts: list[str]
) -> dict[str, int]:
    """Every handler's erasure of these requests' reporters; the counts per kind, summed."""
    total: dict[str, int] = {}
    for handler in _contact_erase:
        _counts_add(
            total,
            handler(
                service_request_ids=service_request_ids, public_ids=public_ids, contacts=contacts
            ),
        )
    return total


def accounts_active(*, user_ids: list[int], since: datetime) -> set[int]:
    """The accounts any handler saw active since ``since``."""
    return {
        found for handler in _accounts_active for found in handler(user_ids=user_ids, since=since)
    }


def account_erase(*, user_ids: list[int]) -> dict[str, int]:
    """Every handler's erasure of these accounts; the counts per kind, summed."""
    total: dict[str, int] = {}
    for handler in _account_erase:
        _counts_add(total, handler(user_ids=user_ids))
    return total


class RetentionSweep(Protocol):
    """Delete (or, on a dry run, only count) what this layer keeps of people past its time,
    apart from requests and accounts; how many rows per kind."""

    def __call__(self, *, now: datetime, dry_run: bool) -> dict[str, int]: ...


_retention_sweep: list[RetentionSweep] = []


def retention_sweep_register(handler: RetentionSweep) -> None:
    _add(_retention_sweep, handler)


def retention_sweep(*, now: datetime, dry_run: bool) -> dict[str, int]:
    """Every handler's sweep; the counts per kind, summed."""
    total: dict[str, int] = {}
    for handler in _retention_sweep:
        _counts_add(total, handler(now=now, dry_run=dry_run))
    return total
