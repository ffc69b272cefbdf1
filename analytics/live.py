"""Live counters: every request that arrives, gets its first response, closes or reopens is
pushed, after its transaction commits, to the ``analytics_live`` Channels group that
``/ws/analytics/`` (``analytics.consumers``) passes on to staff pages. A push carries the
event and the request's service type and channel: no ids, no personal data (the consumer
adds the department). Writing one costs the change no query. The
pages add the pushes to counters they read from the API, and re-read them every minute (time
alone makes requests overdue). Pushes are hints: written to the outbox in the change's own
transaction and handed on after it commits (ADR 0015); a client that missed one re-reads.

``analytics_event_recorded`` hears of every event of a request (intake's ``created``
included): ``AnalyticsConfig.ready()`` registers it with the request domain's hooks
(``backend.service_requests.hooks.event_recorded``), which
``service_request_event_create`` calls. Importers write with COPY and never reach it."""

from __future__ import annotations

from typing import Any

from backend.channel_push import group_send
from backend.outbox.services import outbox_call
from backend.service_requests.models import EventKind, ServiceRequestEvent, Status

GROUP = "analytics_live"
MESSAGE_TYPE = "analytics.event"


def live_event_name(*, kind: str, from_status: str, to_status: str) -> str | None:
    """What a request event means for the counters, or None when it changes none."""
    if kind == EventKind.CREATED:
        return "created"
    if kind != EventKind.STATUS_CHANGED:
        return None
    if to_status == Status.CLOSED:
        return "closed"
    if from_status == Status.CLOSED:
        return "reopened"
    if from_status == Status.SUBMITTED:
        return "responded"
    return None


def live_push(message: dict[str, Any]) -> None:
    group_send(GROUP, message)


def analytics_event_recorded(*, event: ServiceRequestEvent) -> None:
    """Writes the counters' push of one request event to the outbox (sent after commit)."""
    name = live_event_name(
        kind=event.kind, from_status=event.from_status, to_status=event.to_status
    )
    if name is None:
        return
    service_request = event.service_request  # the writer's own object: no query
    message = {
        "type": MESSAGE_TYPE,
        "event": name,
        "service_type_id": service_request.service_type_id,
        "channel": service_request.channel,
    }
    outbox_call("analytics.live.live_push", message=message)
