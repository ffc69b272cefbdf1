"""API keys of Open311 clients and the tokens of submissions accepted for later intake."""

from __future__ import annotations

from django.db import models

from backend.service_requests.models import Channel, ResidentComment, ServiceRequest


class ApiKey(models.Model):
    """One Open311 client (a partner app, the chatbot, a FixMyStreet install).

    Only the SHA-256 digest of the key is stored; the raw key is shown once, when it is
    issued. ``prefix`` (its first characters) lets staff tell keys apart."""

    name = models.CharField(max_length=100, unique=True)
    channel = models.CharField(
        max_length=10,
        choices=Channel.choices,
        default=Channel.OPEN311,
        help_text="The channel requests filed with this key get",
    )
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=12, editable=False)
    active = models.BooleanField(default=True)
    may_post_updates = models.BooleanField(
        default=False,
        help_text="May post residents' updates (servicerequestupdates), held for moderation",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class TokenState(models.TextChoices):
    PENDING = "pending", "Pending"
    DONE = "done", "Request created"
    REJECTED = "rejected", "Rejected by intake"


class IntakeToken(models.Model):
    """A POST accepted for asynchronous intake (``OPEN311_ASYNC_INTAKE``). A worker runs the
    intake pipeline on ``payload`` and links the request; ``tokens/{token}`` resolves it. The
    payload (which holds the reporter's contact data) is emptied once it has been used."""

    token = models.CharField(max_length=40, unique=True, editable=False)
    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    payload = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        max_length=10, choices=TokenState.choices, default=TokenState.PENDING, editable=False
    )
    service_request = models.ForeignKey(
        ServiceRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    errors = models.JSONField(default=dict, blank=True)
    error_status = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(state="pending"),
                name="open311_token_pending",
            )
        ]

    def __str__(self) -> str:
        return self.token


class PartnerUpdate(models.Model):
    """A partner's update posted to ``servicerequestupdates`` (FixMyStreet's resident
    updates): the partner's ``update_id`` per key, so that a replay gets the first answer,
    and the resident comment it became (city311's own update id)."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.PROTECT, related_name="+")
    update_id = models.CharField(max_length=100)
    comment = models.ForeignKey(ResidentComment, on_delete=models.CASCADE, related_name="+")
    # The partner's own time of the update (``updated_datetime``), when it sent one.
    partner_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["api_key", "update_id"], name="uniq_partner_update")
        ]

    def __str__(self) -> str:
        return f"{self.update_id} from key {self.api_key_id}"
