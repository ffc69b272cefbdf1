"""Messages to residents about their requests. Queued after commit; sent by Celery tasks.

The receipt ("we have your request, expected by ...") is queued by the intake pipeline. The
status messages (acknowledged, in progress, closed, reopened) are queued by the request's
transition services for every status change, whoever caused it: the reporter and the
request's followers get an e-mail, and the request's websocket group a push."""

from __future__ import annotations

from functools import partial

from django.db import transaction

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
    from backend.service_requests.tasks import service_request_send_receipt

    transaction.on_commit(
        lambda: service_request_send_receipt.delay(service_request.pk), robust=True
    )


def service_request_status_enqueue(
    *, service_request: ServiceRequest, event: ServiceRequestEvent
) -> None:
    """Once the transaction commits: pushes the status change to the request's websocket
    group from this process (live pages hear it at once; a failure is logged and left to
    the task), then queues the status message task (e-mails, phone pushes, and the
    websocket push if this one did not go out). Always queued, even without e-mail
    recipients."""
    if status_message_kind(from_status=event.from_status, to_status=event.to_status) is None:
        return
    from backend.service_requests.messaging import status_push
    from backend.service_requests.tasks import service_request_notify

    transaction.on_commit(partial(status_push, event_id=event.pk), robust=True)
    transaction.on_commit(partial(service_request_notify.delay, event.pk), robust=True)
