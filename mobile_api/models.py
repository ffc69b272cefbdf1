"""The mobile app's own records: the phones and browsers registered for push messages and the
answers kept for idempotent replays of crews' offline actions."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Platform(models.TextChoices):
    IOS = "ios", "iOS"
    ANDROID = "android", "Android"
    WEB = "web", "Web push"


class Device(models.Model):
    """A phone or a browser that receives push messages. The push token is the key: a token
    registered again (new user, new platform) moves to the latest registration.

    A Web Push subscription (platform ``web``) keeps the push service's endpoint URL as its
    token and the browser's keys the payload is encrypted to (``p256dh``, ``auth``). A
    signed-in resident's hears about their requests and those they follow; an anonymous
    reporter's has no user and is bound to the one request it was made for."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="mobile_devices",
        null=True,
        blank=True,
    )
    platform = models.CharField(max_length=10, choices=Platform.choices)
    # Web Push endpoints are URLs, some longer than 512 characters.
    push_token = models.CharField(max_length=2048, unique=True)
    p256dh = models.CharField(max_length=100, blank=True, default="")
    auth = models.CharField(max_length=50, blank=True, default="")
    service_request = models.ForeignKey(
        "service_requests.ServiceRequest",
        on_delete=models.CASCADE,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,  # the partial index below: most devices are bound to no request
    )
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            # A phone belongs to a user; only a browser may instead be bound to one request.
            models.CheckConstraint(
                condition=models.Q(user__isnull=False)
                | models.Q(platform=Platform.WEB, service_request__isnull=False),
                name="mobile_device_has_owner",
            ),
        ]
        indexes = [
            models.Index(
                fields=["service_request"],
                name="mobile_device_request",
                condition=models.Q(service_request__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        if self.user_id is None:
            return f"{self.platform} device of request {self.service_request_id}"
        return f"{self.platform} device of user {self.user_id}"


class ActionReplay(models.Model):
    """The first answer to a crew action sent with an idempotency key: a retry with the same
    key (and the same action) gets it again instead of acting twice."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    action = models.CharField(max_length=200)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="mobile_replay_user_key"),
        ]

    def __str__(self) -> str:
        return f"{self.action} ({self.key})"
