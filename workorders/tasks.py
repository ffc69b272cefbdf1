"""Celery tasks for work orders. Thin: each calls a service."""

from __future__ import annotations

from celery import shared_task
from django.db import InterfaceError, OperationalError

from backend.task_retry import retried
from workorders import escalation


@shared_task(**retried(on=(OperationalError, InterfaceError), max_retries=3))
def work_orders_escalate() -> dict[str, int]:
    """Beat, every few minutes: mark what became overdue, then e-mail the supervisors.
    An e-mail that fails stays in the outbox for the next run."""
    result = escalation.work_orders_escalate()
    sent = escalation.supervisor_alerts_send()
    return {"overdue": result.overdue, "escalated": result.escalated, "alerts_sent": sent}
