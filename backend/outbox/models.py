from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxKind(models.TextChoices):
    TASK = "task", "Celery task"
    CALL = "call", "Call in the dispatcher"


class OutboxMessage(models.Model):
    """One side effect of a committed change, waiting to be handed on (``services.py``).

    Written in the change's transaction; ``dispatched_at`` is stamped once the task is in
    the broker or the call has returned. A failed attempt leaves the row pending with a
    later ``available_at`` (backoff). Handing on is at least once: the targets are
    idempotent (sent markers, processing states)."""

    kind = models.CharField(max_length=4, choices=OutboxKind.choices)
    target = models.CharField(max_length=120, help_text="A name from backend/outbox/registry.py")
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["available_at", "id"],
                name="outbox_pending",
                condition=Q(dispatched_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.target} #{self.pk}"
