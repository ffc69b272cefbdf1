"""Celery tasks for photos. Thin: each calls a service."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from backend.photos import services
from backend.photos.models import Photo, ProcessingState


@shared_task(acks_late=True, autoretry_for=(ConnectionError,), max_retries=5, retry_backoff=True)
def photo_process(photo_id: int) -> None:
    services.photo_process(photo_id=photo_id)


@shared_task
def photos_process_pending(older_than_seconds: int = 120) -> int:
    """Re-queues photos still pending after a while (broker away at submission, lost task)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        Photo.objects.filter(state=ProcessingState.PENDING, created_at__lt=cutoff).values_list(
            "pk", flat=True
        )[:500]
    )
    for photo_id in ids:
        photo_process.delay(photo_id)
    return len(ids)
