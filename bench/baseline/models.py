from __future__ import annotations

from typing import ClassVar

from django.db import models


class BenchRow(models.Model):
    """One row per baseline request: the floor a real write path is compared with."""

    text = models.CharField(max_length=200)
    number = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    # Spelled out for mypy: the app is installed only with CITY311_BENCH=1, so the Django
    # plugin does not see it.
    objects: ClassVar[models.Manager[BenchRow]] = models.Manager()

    class Meta:
        db_table = "bench_row"

    def __str__(self) -> str:
        return self.text
