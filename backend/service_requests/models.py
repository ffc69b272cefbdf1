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
from django.utils.translation import gettext_lazy as _

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


# Raw SQL's form of ``visible()`` (open data, the intake's duplicate check), for a query
# whose request table is aliased ``alias``: kept beside the queryset so the two say the same.
def visible_sql(alias: str = "") -> str:
    return f"{alias + '.' if alias else ''}hidden_at IS NULL"


class ServiceRequestQuerySet(models.QuerySet["ServiceRequest"]):
    def visible(self) -> ServiceRequestQuerySet:
        """The requests any public answer may show (Open311, pages, feeds, alerts, open data,
        websocket payloads): all but those staff hid (``backend.service_requests.moderation``).
        Every public read starts here."""
        return self.filter(hidden_at__isnull=True)


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
    # Retention (backend/service_requests/retention.py, docs/reliability.md "Privacy"): staff
    # put a request on legal hold, with the reason, to keep its contact data past the window;
    # ``contact_erased_at`` is when the retention run erased it (never set again). Database
    # defaults: bulk loaders leave them out.
    legal_hold = models.BooleanField(
        default=False,
        db_default=False,
        help_text="Keeps the reporter's contact data past the retention window",
    )
    legal_hold_reason = models.CharField(max_length=500, blank=True, default="", db_default="")
    contact_erased_at = models.DateTimeField(null=True, blank=True, editable=False)
    # "Me too": how many people reported this too (``RequestSupporter`` rows), kept by
    # ``backend.service_requests.support`` in the supporter's transaction, so lists read and
    # sort by it without counting. A database default: bulk loaders leave it out.
    supporters_count = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    # Moderation (``backend.service_requests.moderation``): a hidden request is in no public
    # answer (``visible()``); a redaction rewrites ``description`` and keeps the text as filed
    # in ``description_original``, private (staff only), like the contact data.
    hidden_at = models.DateTimeField(null=True, blank=True, editable=False)
    hidden_reason = models.CharField(
        max_length=500, blank=True, default="", db_default="", editable=False
    )
    description_original = models.TextField(blank=True, default="", db_default="", editable=False)

    objects = ServiceRequestQuerySet.as_manager()

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
            # The retention run's scan: closed requests not erased yet, by closing time.
            # Partial, so erased history leaves it.
            models.Index(
                fields=["closed_at", "id"],
                condition=Q(status="closed", contact_erased_at__isnull=True),
                name="sr_retention_due",
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
            models.CheckConstraint(
                condition=Q(legal_hold=False) | ~Q(legal_hold_reason=""),
                name="sr_legal_hold_reason",
                violation_error_message=_("A legal hold needs a reason."),
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
    # The retention run erased the reporter's contact data (the note says what, never the data).
    ERASED = "erased", "Contact data erased"
    # Moderation: the reason in ``internal_note``, never the removed text.
    HIDDEN = "hidden", "Hidden from the public"
    UNHIDDEN = "unhidden", "Shown to the public again"
    REDACTED = "redacted", "Description redacted"
    PHOTO_BLURRED = "photo_blurred", "Photo blurred"
    # The reporter corrected the description or added photos within the edit window
    # (backend/intake/edit.py); the public note says what changed, never the old text.
    EDITED = "edited", "Edited by the reporter"


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


class RequestSupporter(models.Model):
    """Someone who reported a request too ("me too"): a signed-in resident, or an app without
    an account by its device id, stored hashed (``device_hash``, SHA-256 hex) and never shown.
    One row per person and request; ``ServiceRequest.supporters_count`` counts them. An
    account deleted later leaves its row behind, anonymous, still counted."""

    service_request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="supporters", db_index=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # supporter_user: only rows of accounts
    )
    device_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["service_request", "created_at"], name="supporter_request"),
            models.Index(fields=["user"], condition=Q(user__isnull=False), name="supporter_user"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["service_request", "user"],
                condition=Q(user__isnull=False),
                name="uniq_supporter_user",
            ),
            models.UniqueConstraint(
                fields=["service_request", "device_hash"],
                condition=~Q(device_hash=""),
                name="uniq_supporter_device",
            ),
        ]

    def __str__(self) -> str:
        return f"supporter of {self.service_request_id}"


class CommentState(models.TextChoices):
    PENDING = "pending", "Awaiting moderation"
    PUBLISHED = "published", "Published"
    REJECTED = "rejected", "Rejected"


class CommentFlag(models.TextChoices):
    """What staff must look at beyond the text: a resident cannot close or reopen city work
    from outside, so their claim is a flag on the comment."""

    NONE = "", "None"
    SAYS_FIXED = "says_fixed", "The resident says it is fixed"
    ASKS_REOPEN = "asks_reopen", "The resident says it is not fixed (too late to reopen)"


class ResidentComment(models.Model):
    """A resident's comment on a request, sent from outside the city's own apps (a partner
    front end's update through Open311 ``servicerequestupdates``). Moderated: no public view
    shows it until staff publish it (``state``)."""

    service_request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="comments"
    )
    channel = models.CharField(max_length=10, choices=Channel.choices)
    text = models.TextField(max_length=4000, blank=True)
    # A link the partner sent along: stored as a reference, never fetched by the server.
    media_url = models.URLField(max_length=1000, blank=True)
    # The status the resident's front end said (FixMyStreet's FIXED, REOPEN...), as sent.
    claimed_status = models.CharField(max_length=40, blank=True)
    flag = models.CharField(max_length=16, choices=CommentFlag.choices, blank=True)
    # True when the comment reopened the closed request (within FEEDBACK_REOPEN_DAYS).
    reopened = models.BooleanField(default=False)
    # Private contact data, like the request's own: never part of a public answer.
    author_name = models.CharField(max_length=200, blank=True)
    author_email = models.EmailField(blank=True)
    state = models.CharField(
        max_length=10, choices=CommentState.choices, default=CommentState.PENDING, editable=False
    )
    created_at = models.DateTimeField()
    moderated_at = models.DateTimeField(null=True, blank=True, editable=False)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The public feed: published comments by the time they were published.
            models.Index(
                fields=["moderated_at"],
                condition=Q(state="published"),
                name="comment_published",
            ),
            # The moderation queue.
            models.Index(
                fields=["created_at"], condition=Q(state="pending"), name="comment_pending"
            ),
        ]

    def __str__(self) -> str:
        return f"comment {self.pk} on {self.service_request_id}"


class AccountErasure(models.Model):
    """A resident account the retention run anonymised after ``RETENTION_ACCOUNT_MONTHS``
    without activity: the account stays (its requests' history keeps its reporter), its name,
    e-mail and password are gone. Append-only; what was erased is never recorded."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    erased_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"account {self.user_id} anonymised"


class ModerationVersion(models.Model):
    """One row: a number every moderation raises in its own transaction. The per-process
    memos of public lists (Open311's) key their entries by it, so no process serves a list
    cached before a request was hidden or redacted, whichever process moderated it."""

    version = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"moderation version {self.version}"
