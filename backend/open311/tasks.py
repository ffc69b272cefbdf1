"""Celery tasks of the Open311 server. Thin: each calls a service."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.db import InterfaceError, OperationalError

from backend.open311 import services


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError, ConnectionError),
    max_retries=5,
    retry_backoff=True,
)
def intake_token_process(token_id: int) -> None:
    services.intake_token_process(token_id=token_id)


@shared_task
def intake_tokens_process_pending(older_than_seconds: int = 60) -> int:
    """Files tokens still pending after a while (broker away at submission, lost task).
    Running a token twice is harmless: the second run finds it no longer pending."""
    ids = services.intake_tokens_pending(older_than=timedelta(seconds=older_than_seconds))
    for token_id in ids:
        intake_token_process.delay(token_id)
    return len(ids)
