"""Celery tasks for photos. Thin: each calls a service."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from backend.photos import services
from backend.photos.models import Photo, ProcessingState
from backend.task_retry import requeue, retried


# The database or the broker away for a moment: try again. A bad image is not retried, the
# service marks it failed.
@shared_task(**retried())
def photo_process(photo_id: int) -> None:
    services.photo_process(photo_id=photo_id)


@shared_task
def photos_process_pending(older_than_seconds: int = 120) -> int:
    """Re-queues photos still pending after a while (broker away at submission, lost task)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    ids = list(
        Photo.objects.filter(state=ProcessingState.PENDING, created_at__lt=cutoff)
        .order_by("created_at", "pk")
        .values_list("pk", flat=True)[:500]
    )
    return requeue(photo_process, ids)


@shared_task
def raw_uploads_sweep() -> int:
    """Deletes raw uploads no photo is waiting for (``services.raw_uploads_sweep``)."""
    return services.raw_uploads_sweep()
