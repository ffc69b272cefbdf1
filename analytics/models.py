"""Daily rollups of the service-request history (ADR 0014), and score targets.

Rollups are derived data: ``analytics.rollups`` rebuilds any day of them from the raw tables
(``service_requests_servicerequest`` and its events) and the beat job keeps them within
``ANALYTICS_ROLLUP_INTERVAL_S`` of the raw data. Nothing else writes them."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q

from backend.catalog.models import Department, ServiceType
from workorders.models import Area


class RollupMeasures(models.Model):
    """What one day contributes, for one key (docs/metrics.md names each measure's rule).

    - created: requests submitted that day;
    - closed, ttc_*: requests now closed (not as duplicates) whose close fell on that day, and
      the histogram of their time to close (``analytics.histogram``);
    - closed_with_due / closed_on_time: of those, the ones with a due time / closed by it;
    - responded, ttfr_*: requests whose first response (leaving ``submitted``) fell that day;
    - close_events / reopen_events: status changes into / out of ``closed`` that day (the net
      flow: backlog(day) = backlog(day - 1) + created - close_events + reopen_events)."""

    day = models.DateField()
    service_type = models.ForeignKey(ServiceType, on_delete=models.CASCADE, related_name="+")
    created = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    closed_with_due = models.PositiveIntegerField(default=0)
    closed_on_time = models.PositiveIntegerField(default=0)
    ttc_sum_s = models.BigIntegerField(default=0)
    ttc_hist = ArrayField(models.IntegerField(), default=list)
    responded = models.PositiveIntegerField(default=0)
    ttfr_sum_s = models.BigIntegerField(default=0)
    ttfr_hist = ArrayField(models.IntegerField(), default=list)
    close_events = models.PositiveIntegerField(default=0)
    reopen_events = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class TypeDailyRollup(RollupMeasures):
    """By day, service type (and so department) and channel: the scorecard, the department
    pages, the per-type and per-channel tables."""

    channel = models.CharField(max_length=10)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "service_type", "channel"], name="uniq_type_rollup"
            )
        ]
        indexes = [models.Index(fields=["day"], name="type_rollup_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.service_type_id} {self.channel}"


class ServiceDailyRollup(RollupMeasures):
    """By day and service type only (the channel rollup added up): what the scorecard and the
    department pages read, a fifth of the rows of the channel rollup.

    ``ttc_cum`` / ``ttfr_cum`` are running totals: the histograms of the type's every day up to
    and including this one. A window's histogram is then the difference of two rows per type
    (its last day's, and the one before its first day), however many days it spans (ADR 0023)."""

    ttc_cum = ArrayField(models.IntegerField(), default=list)
    ttfr_cum = ArrayField(models.IntegerField(), default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "service_type"], name="uniq_service_rollup")
        ]
        indexes = [
            models.Index(fields=["day"], name="service_rollup_day"),
            models.Index(fields=["service_type", "day"], name="service_rollup_type_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.service_type_id}"


class AreaDailyRollup(RollupMeasures):
    """By day, service type and area (``ANALYTICS_AREA_KIND``; NULL: outside every area or
    without a location): equity."""

    area = models.ForeignKey(Area, on_delete=models.CASCADE, null=True, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "service_type", "area"],
                name="uniq_area_rollup",
                nulls_distinct=False,
            )
        ]
        indexes = [models.Index(fields=["day"], name="area_rollup_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.service_type_id} area {self.area_id}"


class CellDailyRollup(models.Model):
    """Requests submitted per day, service type and grid cell (``ANALYTICS_CELL_DEGREES``
    square cells, x = floor(long / size), y = floor(lat / size)): the hotspot map."""

    day = models.DateField()
    service_type = models.ForeignKey(ServiceType, on_delete=models.CASCADE, related_name="+")
    cell_x = models.IntegerField()
    cell_y = models.IntegerField()
    created = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "service_type", "cell_x", "cell_y"], name="uniq_cell_rollup"
            )
        ]
        indexes = [models.Index(fields=["service_type", "day"], name="cell_rollup_type_day")]

    def __str__(self) -> str:
        return f"{self.day} {self.service_type_id} ({self.cell_x}, {self.cell_y})"


class RollupState(models.Model):
    """Where the refresh job is: the last event id it has folded in (a singleton row)."""

    name = models.CharField(max_length=32, primary_key=True)
    last_event_id = models.BigIntegerField(default=0)
    # Ids at or below last_event_id that were missing at the last run (a transaction still
    # open then, or rolled back), within OVERLAP_EVENTS of it: read again next time.
    missing_event_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    # The cell size the cell rollup was built with: a change of setting forces a rebuild.
    cell_degrees = models.FloatField(default=0)
    # The bucket ratio the histograms were built with (``analytics.histogram.RATIO``): until
    # the rollups are rebuilt at the current one, reads compute every day from the raw rows
    # and the next refresh rebuilds them all (ADR 0023).
    histogram_ratio = models.FloatField(default=0)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_event_id}"


class Indicator(models.TextChoices):
    ON_TIME = "on_time", "Closed on time (share)"
    FIRST_RESPONSE_P85 = "first_response_p85", "Time to first response, p85 (hours)"
    CLOSE_RATE = "close_rate", "Closed / created"


class ScoreTarget(models.Model):
    """The target of one scorecard indicator, for a department or (department empty) the
    city. Without a row the defaults in ``analytics.scorecard.DEFAULT_TARGETS`` apply."""

    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    indicator = models.CharField(max_length=32, choices=Indicator.choices)
    target = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["department", "indicator"],
                name="uniq_score_target",
                nulls_distinct=False,
            ),
            models.CheckConstraint(condition=Q(target__gt=0), name="score_target_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.target}"
