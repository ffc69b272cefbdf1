"""Celery tasks of the Open311 server. Thin: each calls a service."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from backend.open311 import services
from backend.task_retry import requeue, retried


@shared_task(**retried())
def intake_token_process(token_id: int) -> None:
    services.intake_token_process(token_id=token_id)


@shared_task
def intake_tokens_process_pending(older_than_seconds: int = 60) -> int:
    """Files tokens still pending after a while (broker away at submission, lost task)."""
    pending = services.intake_tokens_pending(older_than=timedelta(seconds=older_than_seconds))
    return requeue(intake_token_process, pending)
