"""The mobile app's own records: the phones registered for push messages and the answers
kept for idempotent replays of crews' offline actions."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Platform(models.TextChoices):
    IOS = "ios", "iOS"
    ANDROID = "android", "Android"
    WEB = "web", "Web push"


class Device(models.Model):
    """A phone that receives push messages for its user. The push token is the key: a
    token registered again (new user, new platform) moves to the latest registration."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mobile_devices"
    )
    platform = models.CharField(max_length=10, choices=Platform.choices)
    push_token = models.CharField(max_length=512, unique=True)
    created_at = models.DateTimeField()
    last_seen_at = models.DateTimeField()

    def __str__(self) -> str:
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
