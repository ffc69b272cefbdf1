"""Messages to residents about their requests. Queued after commit; sent by Celery tasks.

Here: the receipt ("we have your request, expected by ..."). The work-order issue adds the
messages for acknowledged, in progress, closed and reopened."""

from __future__ import annotations

from django.db import transaction

from backend.service_requests.models import ServiceRequest


def service_request_receipt_enqueue(*, service_request: ServiceRequest) -> None:
    if not service_request.contact_email:
        return
    from backend.service_requests.tasks import service_request_send_receipt

    transaction.on_commit(
        lambda: service_request_send_receipt.delay(service_request.pk), robust=True
    )
