"""Live counters: every request that arrives, gets its first response, closes or reopens is
pushed, after its transaction commits, to the ``analytics_live`` Channels group that
``/ws/analytics/`` (``analytics.consumers``) passes on to staff pages. A push carries the
event and the request's service type and channel: no ids, no personal data (the consumer
adds the department). Writing one costs the change no query. The
pages add the pushes to counters they read from the API, and re-read them every minute (time
alone makes requests overdue). Pushes are hints: written to the outbox in the change's own
transaction and handed on after it commits (ADR 0015); a client that missed one re-reads.

The one call point in other apps is ``analytics_event_recorded``, called by
``backend.service_requests.services.service_request_event_create`` (every event of a request,
intake's ``created`` included). Importers write with COPY and never reach it."""

from __future__ import annotations

from typing import Any

from backend.channel_push import group_send
from backend.outbox.services import outbox_call

GROUP = "analytics_live"
MESSAGE_TYPE = "analytics.event"


def live_event_name(*, kind: str, from_status: str, to_status: str) -> str | None:
    """What a request event means for the counters, or None when it changes none."""
    if kind == "created":
        return "created"
    if kind != "status_changed":
        return None
    if to_status == "closed":
        return "closed"
    if from_status == "closed":
        return "reopened"
    if from_status == "submitted":
        return "responded"
    return None


def live_push(message: dict[str, Any]) -> None:
    group_send(GROUP, message)


def analytics_event_recorded(
    *, service_type_id: int, channel: str, kind: str, from_status: str, to_status: str
) -> None:
    """Writes the counters' push of one request event to the outbox (sent after commit)."""
    name = live_event_name(kind=kind, from_status=from_status, to_status=to_status)
    if name is None:
        return
    message = {
        "type": MESSAGE_TYPE,
        "event": name,
        "service_type_id": service_type_id,
        "channel": channel,
    }
    outbox_call("analytics.live.live_push", message=message)
