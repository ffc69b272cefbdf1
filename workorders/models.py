"""Work orders: the department's work for a service request, and what routes, staffs, times
and checks it.

Status changes only through ``workorders.services`` (one table of transitions, one function
per transition); escalation marks rows set-based in ``workorders.escalation``. Nothing else
writes ``status``, the SLA times or the markers.
"""

from __future__ import annotations

from datetime import time

from django.conf import settings
from django.contrib.gis.db import models as gis_models
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from backend.catalog.models import Department, ServiceType
from backend.photos.models import Photo
from backend.service_requests.models import ServiceRequest, ServiceRequestEvent

MIDNIGHT = time(0, 0)


# --- Areas and routing


class Area(models.Model):
    """A ward, district or other polygon that routing rules can name (``manage.py areas_load``)."""

    kind = models.CharField(max_length=32, default="ward", help_text="e.g. ward, district")
    name = models.CharField(max_length=200)
    # A stable name for URLs (alerts, feeds: ``?area=<slug>``), made from the name when the
    # area is first loaded (``workorders.areas.area_slug_make``) and never changed after.
    slug = models.SlugField(max_length=240, unique=True)
    geometry = gis_models.MultiPolygonField(srid=4326)
    # The GeoJSON feature's properties, as loaded: the source's own codes and labels.
    properties = models.JSONField(default=dict, blank=True)
    loaded_at = models.DateTimeField()

    class Meta:
        ordering = ["kind", "name"]
        constraints = [models.UniqueConstraint(fields=["kind", "name"], name="uniq_area_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.kind})"


class Team(models.Model):
    """A crew (or group of crews) within a department."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="teams")
    name = models.CharField(max_length=200)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["department__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["department", "name"], name="uniq_team_name")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.department.name})"


class TeamRole(models.TextChoices):
    CREW = "crew", "Crew member"
    SUPERVISOR = "supervisor", "Supervisor"


class TeamMember(models.Model):
    """A user's role in a team. A supervisor of any team of a department supervises the
    department's whole queue; a crew member works on the orders of their own team."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    role = models.CharField(max_length=16, choices=TeamRole.choices, default=TeamRole.CREW)

    class Meta:
        ordering = ["team", "role", "user"]
        constraints = [models.UniqueConstraint(fields=["team", "user"], name="uniq_team_member")]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.team.name}"


class RoutingRule(models.Model):
    """Which department (and team) gets the work. Active rules are tried in ``order``; the
    first whose service (empty: any) and area (empty: anywhere) match wins. When none
    matches, the service's own department gets it, unassigned."""

    order = models.PositiveIntegerField(default=100, help_text="Lower numbers are tried first")
    name = models.CharField(max_length=200)
    service_type = models.ForeignKey(
        ServiceType,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty: any service",
    )
    area = models.ForeignKey(
        Area,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="routing_rules",
        help_text="Empty: anywhere. Requests without a map location only match empty areas.",
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    team = models.ForeignKey(
        Team,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="Assign new work to this team straight away",
    )
    assign_automatically = models.BooleanField(
        default=False, help_text="Assign new work to the department's least-loaded team"
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(team__isnull=True) | Q(assign_automatically=False),
                name="routing_team_or_automatic",
            )
        ]

    def __str__(self) -> str:
        return f"{self.order}: {self.name}"

    def clean(self) -> None:
        team = self.team if self.team_id is not None else None
        if (
            team is not None
            and self.department_id is not None
            and team.department_id != self.department_id
        ):
            raise ValidationError({"team": "The team must belong to the rule's department."})
        if self.team_id is not None and self.assign_automatically:
            raise ValidationError(
                {"assign_automatically": "Name a team or assign automatically, not both."}
            )


# --- Business calendars


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class OpeningHours(models.Model):
    """One working interval of a department on a weekday, in the department's time zone.
    Several rows on one day make a split day; ``closes`` 00:00 means midnight. A department
    without any row works Monday to Friday, 08:00-17:00."""

    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="opening_hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    opens = models.TimeField()
    closes = models.TimeField(help_text="00:00 means midnight at the end of the day")

    class Meta:
        ordering = ["department", "weekday", "opens"]
        verbose_name_plural = "opening hours"
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="opening_weekday"),
            models.CheckConstraint(
                condition=Q(closes__gt=F("opens")) | Q(closes=MIDNIGHT),
                name="opening_closes_after_opens",
            ),
            models.UniqueConstraint(
                fields=["department", "weekday", "opens"], name="uniq_opening_start"
            ),
        ]

    def __str__(self) -> str:
        closes = "24:00" if self.closes == MIDNIGHT else f"{self.closes:%H:%M}"
        return f"{self.get_weekday_display()} {self.opens:%H:%M}-{closes}"

    def clean(self) -> None:
        if (
            self.opens is not None
            and self.closes is not None
            and self.closes != MIDNIGHT
            and self.closes <= self.opens
        ):
            raise ValidationError({"closes": "Closing time must be after opening time."})


class PublicHoliday(models.Model):
    """A day off: for one department, or for all of them when no department is given."""

    department = models.ForeignKey(
        Department,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="public_holidays",
        help_text="Empty: a holiday of every department",
    )
    date = models.DateField()
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["department", "date"], name="uniq_holiday", nulls_distinct=False
            )
        ]

    def __str__(self) -> str:
        return f"{self.date}: {self.name}"


class DepartmentCalendar(Department):
    """The department seen as its business calendar (opening hours and holidays), for the
    admin."""

    class Meta:
        proxy = True
        verbose_name = "business calendar"


# --- Work orders


class WorkOrderStatus(models.TextChoices):
    NEW = "new", "New"
    ASSIGNED = "assigned", "Assigned"
    IN_PROGRESS = "in_progress", "In progress"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_STATUSES = (
    WorkOrderStatus.NEW,
    WorkOrderStatus.ASSIGNED,
    WorkOrderStatus.IN_PROGRESS,
    WorkOrderStatus.ON_HOLD,
)
# Statuses whose SLA clock runs (on hold pauses it): the ones escalation looks at.
CLOCK_RUNNING_STATUSES = (
    WorkOrderStatus.NEW,
    WorkOrderStatus.ASSIGNED,
    WorkOrderStatus.IN_PROGRESS,
)


class HoldReason(models.TextChoices):
    PARTS = "parts", "Waiting for parts"
    WEATHER = "weather", "Weather"
    ACCESS = "access", "No access to the site"
    CONTRACTOR = "contractor", "Waiting for a contractor or utility"
    OTHER = "other", "Other (see note)"


class ReviewDecision(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    REOPENED = "reopened", "Sent back (request reopened)"


class WorkOrder(models.Model):
    """The table is kept lean in indexes and has free space in its pages (fillfactor 85,
    migration 0003): the escalation markers are in no index, so marking a million-row table
    is a heap-only (HOT) update, not a write to every index (ADR 0008)."""

    service_request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="work_orders"
    )
    # Indexed by wo_dept_queue (department first).
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="work_orders"
    )
    # Indexed for open orders only (wo_assignee_open).
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_work_orders",
        db_index=False,
    )
    routing_rule = models.ForeignKey(
        RoutingRule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    status = models.CharField(
        max_length=20,
        choices=WorkOrderStatus.choices,
        default=WorkOrderStatus.NEW,
        editable=False,
    )
    # The SLA as it was when the order was made (later catalog edits do not move it).
    turnaround_hours = models.PositiveIntegerField(default=0, editable=False)
    turnaround_business_hours = models.BooleanField(default=False, editable=False)
    due_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When twice the turnaround has passed: the second escalation.
    escalate_again_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    assigned_at = models.DateTimeField(null=True, blank=True, editable=False)
    started_at = models.DateTimeField(null=True, blank=True, editable=False)
    completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    cancelled_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Decided once, at completion: completed_at <= due_at (with holds added to due_at).
    on_time = models.BooleanField(null=True, blank=True, editable=False)
    completion_note = models.TextField(blank=True, editable=False)
    # The Idempotency-Key of the completion: a retried completion replays, never 409s.
    completion_key = models.CharField(  # noqa: DJ001
        max_length=128, null=True, blank=True, editable=False
    )
    # Escalation markers: set once each by the beat job.
    overdue_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalated_again_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Proof-photo review: set at completion when no proof photo passed the EXIF checks.
    review_required = models.BooleanField(default=False, editable=False)
    review_reasons = models.JSONField(default=list, blank=True, editable=False)
    reviewed_at = models.DateTimeField(null=True, blank=True, editable=False)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        db_index=False,
    )
    review_decision = models.CharField(
        max_length=16, choices=ReviewDecision.choices, blank=True, editable=False
    )

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["department", "status", "due_at"], name="wo_dept_queue"),
            # The supervisor's queue: a department's open orders by due time.
            models.Index(
                fields=["department", "due_at"],
                name="wo_open_queue",
                condition=Q(status__in=OPEN_STATUSES),
            ),
            # The escalation scans: orders whose clock runs, by due time. The markers
            # (overdue_at, escalated_again_at) must stay out of every index, predicates
            # included, for marking to be a HOT update.
            models.Index(
                fields=["due_at"],
                name="wo_running_due",
                condition=Q(status__in=CLOCK_RUNNING_STATUSES),
            ),
            models.Index(
                fields=["escalate_again_at"],
                name="wo_running_again",
                condition=Q(status__in=CLOCK_RUNNING_STATUSES),
            ),
            models.Index(
                fields=["assignee"], name="wo_assignee_open", condition=Q(status__in=OPEN_STATUSES)
            ),
            # Team load for automatic assignment.
            models.Index(
                fields=["team"], name="wo_team_open", condition=Q(status__in=OPEN_STATUSES)
            ),
            models.Index(
                fields=["department", "completed_at"],
                name="wo_review_queue",
                condition=Q(review_required=True, reviewed_at__isnull=True),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["service_request"],
                condition=~Q(status__in=["completed", "cancelled"]),
                name="uniq_active_work_order",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | Q(completed_at__isnull=False),
                name="wo_completed_has_time",
            ),
            models.CheckConstraint(
                condition=Q(team__isnull=False) | Q(status__in=["new", "cancelled"]),
                name="wo_assigned_has_team",
            ),
        ]

    def __str__(self) -> str:
        return f"WO-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class WorkOrderEventKind(models.TextChoices):
    CREATED = "created", "Created"
    ASSIGNED = "assigned", "Assigned"
    STARTED = "started", "Started"
    HELD = "held", "Put on hold"
    RESUMED = "resumed", "Resumed"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    PROOF_ADDED = "proof_added", "Proof photo added"
    REVIEW_FLAGGED = "review_flagged", "Flagged for proof review"
    REVIEWED = "reviewed", "Proof reviewed"
    OVERDUE = "overdue", "Overdue"
    ESCALATED = "escalated", "Escalated (twice the turnaround)"


class WorkOrderEvent(models.Model):
    """Append-only: one row for every change of a work order. Never updated."""

    # Indexed by woe_order_time (work order first); the actor is not indexed (events are many
    # and written set-based by the escalation scan).
    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=20, choices=WorkOrderEventKind.choices)
    created_at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    from_status = models.CharField(max_length=20, choices=WorkOrderStatus.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=WorkOrderStatus.choices, blank=True)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["work_order", "created_at"], name="woe_order_time")]

    def __str__(self) -> str:
        return f"{self.work_order_id} {self.kind} {self.from_status}->{self.to_status}"


class WorkOrderHold(models.Model):
    """One stretch on hold: the SLA clock stops at ``started_at`` and, on resume, the due
    times move by the time paused (business or calendar, as the order's turnaround)."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="holds")
    reason = models.CharField(max_length=16, choices=HoldReason.choices)
    note = models.TextField(blank=True)
    from_status = models.CharField(max_length=20, choices=WorkOrderStatus.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["started_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["work_order"], condition=Q(ended_at__isnull=True), name="uniq_open_hold"
            )
        ]

    def __str__(self) -> str:
        return f"{self.work_order_id} on hold ({self.reason})"


class ProofPhoto(models.Model):
    """A crew's photo of the finished work, and its check against the request.

    ``taken_at`` and ``location`` come from the upload's EXIF data, read when it arrived:
    private, like the photo's own EXIF columns, never part of any answer."""

    work_order = models.ForeignKey(WorkOrder, on_delete=models.CASCADE, related_name="proofs")
    photo = models.OneToOneField(Photo, on_delete=models.CASCADE, related_name="proof")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()
    taken_at = models.DateTimeField(null=True, blank=True)
    location = gis_models.PointField(srid=4326, null=True, blank=True)
    distance_m = models.FloatField(null=True, blank=True)
    verified = models.BooleanField(default=False)
    reasons = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"proof {self.photo_id} of {self.work_order_id}"


class SupervisorAlert(models.Model):
    """The outbox of escalation e-mails: one row per work order and level, inserted by the
    escalation scan, sent (and marked) by ``supervisor_alerts_send``."""

    # Indexed by uniq_alert_level (work order first).
    work_order = models.ForeignKey(
        WorkOrder, on_delete=models.CASCADE, related_name="alerts", db_index=False
    )
    level = models.PositiveSmallIntegerField(help_text="1: past due; 2: twice the turnaround")
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    recipients = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["work_order", "level"], name="uniq_alert_level"),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="alert_unsent", condition=Q(sent_at=None))
        ]

    def __str__(self) -> str:
        return f"level {self.level} alert for {self.work_order_id}"


class Feedback(models.Model):
    """A resident's answer to "Was it fixed?" for one closure of a request."""

    service_request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="feedback"
    )
    close_event = models.OneToOneField(
        ServiceRequestEvent, on_delete=models.CASCADE, related_name="feedback"
    )
    fixed = models.BooleanField()
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True, max_length=2000)
    reopened = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "feedback"
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="feedback_rating_1_5",
            )
        ]

    def __str__(self) -> str:
        return f"feedback on {self.service_request_id}: {'fixed' if self.fixed else 'not fixed'}"
