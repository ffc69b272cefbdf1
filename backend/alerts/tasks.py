"""Celery entry points of the alerts. Thin: each calls ``delivery``."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task

from backend.alerts import delivery
from backend.task_retry import retried

# The mail server away for a moment: try again; the sent markers keep what went out.
RETRY_ON = (OSError, SMTPException)


@shared_task(**retried(on=RETRY_ON, max_retries=8))
def alerts_event_deliver(event_id: int) -> int:
    return delivery.alerts_event_deliver(event_id=event_id).sent


@shared_task(**retried(on=RETRY_ON, max_retries=8))
def alert_confirmation_send(subscription_id: int) -> bool:
    return delivery.alert_confirmation_send(subscription_id=subscription_id)


@shared_task
def alerts_digest_send() -> int:
    """The daily digests (beat, ALERTS_DIGEST_HOUR)."""
    return delivery.alerts_digest_send()
