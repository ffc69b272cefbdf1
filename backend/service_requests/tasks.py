"""Celery tasks for service requests. Thin: each calls a service."""

from __future__ import annotations

from celery import shared_task

from backend.service_requests import messaging


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), max_retries=5, retry_backoff=True)
def service_request_send_receipt(service_request_id: int) -> None:
    messaging.receipt_send(service_request_id=service_request_id)
