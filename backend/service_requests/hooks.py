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

One function registers each kind, one calls them; handlers run in the order registered.
A handler registered twice runs once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
