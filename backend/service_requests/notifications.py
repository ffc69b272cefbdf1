"""Messages to residents about their requests. Written to the outbox in the change's
transaction; sent after commit by Celery tasks and the outbox's calls.

The receipt ("we have your request, expected by ...") is queued by the intake pipeline. The
status messages (acknowledged, in progress, closed, reopened) are queued by the request's
transition services for every status change, whoever caused it: the reporter and the
request's followers get an e-mail, and the request's websocket group a push."""

from __future__ import annotations

from backend.outbox.services import outbox_call, outbox_task
from backend.service_requests.models import ServiceRequest, ServiceRequestEvent, Status

ACKNOWLEDGED = "acknowledged"
IN_PROGRESS = "in_progress"
CLOSED = "closed"
REOPENED = "reopened"
STATUS_MESSAGE_KINDS = (ACKNOWLEDGED, IN_PROGRESS, CLOSED, REOPENED)


def status_message_kind(*, from_status: str, to_status: str) -> str | None:
    """Which status message a change of status sends, if any."""
    if to_status == Status.ACKNOWLEDGED:
        return ACKNOWLEDGED
    if to_status == Status.IN_PROGRESS:
        return REOPENED if from_status == Status.CLOSED else IN_PROGRESS
    if to_status == Status.CLOSED:
        return CLOSED
    return None


def websocket_group(*, public_id: str) -> str:
    """The Channels group that hears a request's status changes."""
    return f"request_{public_id}"


def service_request_receipt_enqueue(*, service_request: ServiceRequest) -> None:
    if not service_request.contact_email:
        return
    outbox_task("backend.service_requests.tasks.service_request_send_receipt", service_request.pk)


def service_request_status_enqueue(
    *, service_request: ServiceRequest, event: ServiceRequestEvent
) -> None:
    """Writes the status message of ``event`` to the outbox, in the change's transaction:
    first the push to the request's websocket group, which this process makes as soon as
    the change commits (live pages hear it at once), then the status message task
    (e-mails, phone pushes, and the websocket push if that one did not go out). Always
    written, even without e-mail recipients."""
    if status_message_kind(from_status=event.from_status, to_status=event.to_status) is None:
        return
    outbox_call("backend.service_requests.messaging.status_push", event_id=event.pk)
    outbox_task("backend.service_requests.tasks.service_request_notify", event.pk)
