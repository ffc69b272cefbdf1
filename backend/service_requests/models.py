"""The service request a resident sees, and its append-only history.

Status changes only through ``backend.service_requests.services`` (one function per
transition); nothing else writes ``status``.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models as gis_models
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.contrib.postgres.search import SearchVector
from django.db import models
from django.db.models import Q

from backend.catalog.models import Priority, ServiceType


class Status(models.TextChoices):
    SUBMITTED = "submitted", "Submitted"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    IN_PROGRESS = "in_progress", "In progress"
    CLOSED = "closed", "Closed"


OPEN_STATUSES = (Status.SUBMITTED, Status.ACKNOWLEDGED, Status.IN_PROGRESS)


class CloseReason(models.TextChoices):
    RESOLVED = "resolved", "Resolved"
    DUPLICATE = "duplicate", "Duplicate"
    NOT_CITY_RESPONSIBILITY = "not_city_responsibility", "Not the city's responsibility"
    CANNOT_LOCATE = "cannot_locate", "Cannot locate"
    CANCELLED = "cancelled", "Cancelled"


class Channel(models.TextChoices):
    APP = "app", "Mobile app"
    WEB = "web", "Web"
    CHAT = "chat", "Chatbot"
    OPEN311 = "open311", "Open311 client"
    PHONE = "phone", "Phone (call centre)"
    IMPORT = "import", "Bulk import"


class ServiceRequest(models.Model):
    public_id = models.CharField(max_length=32, unique=True, editable=False)
    # Indexed by sr_type_status (its leading column): a second index would only slow writes.
    service_type = models.ForeignKey(
        ServiceType, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    location = gis_models.PointField(srid=4326, null=True, blank=True)
    address = models.CharField(max_length=500, blank=True)
    description = models.TextField(max_length=4000, blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=20, choices=Status.choices, default=Status.SUBMITTED, editable=False
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    language = models.CharField(max_length=8, default="en")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="service_requests",
        db_index=False,  # sr_reporter: only requests that have one (imports have none)
    )
    # Private contact data: never part of a public answer.
    contact_name = models.CharField(max_length=200, blank=True)
    contact_email = models.EmailField(blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    requested_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    expected_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    close_reason = models.CharField(max_length=32, choices=CloseReason.choices, blank=True)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
        db_index=False,  # sr_duplicate_of: only requests that are duplicates
    )
    # A retried submission with the same key returns the first answer (per channel). NULL, not
    # "", when absent: the partial unique constraint covers only requests that carry a key.
    idempotency_key = models.CharField(  # noqa: DJ001
        max_length=128, null=True, blank=True, editable=False
    )
    idempotency_fingerprint = models.CharField(max_length=64, blank=True, editable=False)
    # A link an Open311 client sent with the request (its `media_url`): stored as a reference,
    # never fetched by the server.
    media_url = models.URLField(max_length=1000, blank=True, editable=False)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [
            models.Index(fields=["service_type", "status", "requested_at"], name="sr_type_status"),
            models.Index(fields=["updated_at"], name="sr_updated_at"),
            # Open311's `q`: full-text search of description and address (the same expression
            # as backend.open311.selectors uses, so the planner picks this index).
            GinIndex(SearchVector("description", "address", config="simple"), name="sr_search"),
            # Partial: most requests have no reporter account or original, and every index
            # entry costs each insert (an import writes tens of thousands a second).
            models.Index(
                fields=["reporter"], condition=Q(reporter__isnull=False), name="sr_reporter"
            ),
            models.Index(
                fields=["duplicate_of"],
                condition=Q(duplicate_of__isnull=False),
                name="sr_duplicate_of",
            ),
            # The duplicate check on every submission: open requests near a point. Partial,
            # so its size follows the backlog rather than the years of closed history (and
            # an import of closed requests does not write to it).
            GistIndex(
                fields=["location"],
                condition=Q(status__in=[status.value for status in OPEN_STATUSES]),
                name="sr_open_location",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="uniq_sr_idempotency_key",
            ),
            models.CheckConstraint(
                condition=Q(location__isnull=False) | ~Q(address=""),
                name="sr_location_or_address",
            ),
            models.CheckConstraint(
                condition=(Q(status="closed") & Q(closed_at__isnull=False) & ~Q(close_reason=""))
                | (~Q(status="closed") & Q(closed_at__isnull=True) & Q(close_reason="")),
                name="sr_closed_consistent",
            ),
        ]

    def __str__(self) -> str:
        return self.public_id

    @property
    def is_open(self) -> bool:
        return self.status != Status.CLOSED


class EventKind(models.TextChoices):
    CREATED = "created", "Created"
    STATUS_CHANGED = "status_changed", "Status changed"
    NOTE = "note", "Note"


class ServiceRequestEvent(models.Model):
    """Append-only: one row for every change of a service request. Never updated."""

    # Indexed by sre_request_time (its leading column).
    service_request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    created_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # sre_actor: only events someone made (not the system's or imports')
    )
    channel = models.CharField(max_length=10, choices=Channel.choices, blank=True)
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    close_reason = models.CharField(max_length=32, choices=CloseReason.choices, blank=True)
    public_note = models.TextField(blank=True)
    internal_note = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["service_request", "created_at"], name="sre_request_time"),
            models.Index(fields=["actor"], condition=Q(actor__isnull=False), name="sre_actor"),
        ]

    def __str__(self) -> str:
        return f"{self.service_request_id} {self.kind} {self.from_status}->{self.to_status}"


class ResidentNotification(models.Model):
    """A message sent to a resident about a request: the sent marker that keeps a retried
    task from sending it twice. One row per message kind (``receipt``, or a status message
    with its event, ``closed:812``), medium (``email``, ``websocket``) and recipient."""

    service_request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=32)
    medium = models.CharField(max_length=16, default="email")
    # The e-mail address written to ("" for the websocket group and for old receipt rows).
    recipient = models.CharField(max_length=254, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["service_request", "kind", "medium", "recipient"],
                name="uniq_resident_notification_to",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.medium} for {self.service_request_id}"


class RequestFollower(models.Model):
    """Someone who gets a request's status messages besides its reporter: the reporter of a
    request merged into it as a duplicate (``source = "duplicate"``)."""

    service_request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="followers"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="followed_requests",
    )
    # Private contact data, like the request's own.
    email = models.EmailField(blank=True)
    source = models.CharField(max_length=16, default="duplicate")
    via = models.ForeignKey(
        ServiceRequest,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The duplicate request that brought this follower",
    )
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(email=""), name="follower_user_or_email"
            ),
            models.UniqueConstraint(
                fields=["service_request", "email"],
                condition=~Q(email=""),
                name="uniq_follower_email",
            ),
            models.UniqueConstraint(
                fields=["service_request", "user"],
                condition=Q(email="", user__isnull=False),
                name="uniq_follower_user",
            ),
        ]

    def __str__(self) -> str:
        return f"follower of {self.service_request_id}"
