"""Celery tasks for service requests. Thin: each calls a service."""

from __future__ import annotations

import logging
from smtplib import SMTPException

from celery import shared_task
from redis.exceptions import RedisError

from backend.service_requests import messaging, retention
from backend.task_retry import retried

logger = logging.getLogger(__name__)

# The mail server or the channel layer away for a moment: try again. The sent markers keep
# a retry from repeating what already went out.
RETRY_ON = (OSError, SMTPException, RedisError)


@shared_task(**retried(on=(ConnectionError,)))
def service_request_send_receipt(service_request_id: int) -> None:
    messaging.receipt_send(service_request_id=service_request_id)


@shared_task(**retried(on=RETRY_ON, max_retries=8))
def service_request_notify(event_id: int) -> None:
    messaging.status_notify(event_id=event_id)


@shared_task
def retention_apply() -> dict[str, dict[str, int]]:
    """The nightly retention run (beat): what it erased, per kind (also in the task's log)."""
    report = retention.retention_apply()
    logger.info("%s", "; ".join(report.lines()))
    return {"requests": report.requests, "accounts": report.accounts}
