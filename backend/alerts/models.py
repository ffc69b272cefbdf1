"""Area alerts: who hears of new requests and their public updates, where, and how.

A subscription's place is one of: a circle (a point and a radius, stored as the circle's
polygon in ``region``, GiST-indexed), an area (``workorders.Area``, matched through the area's
own GiST-indexed polygon, so a reloaded area needs no copy refreshed), or anywhere in the city
(a service type alone). A service type narrows any of them. ``backend.alerts.selectors``
matches a request's point against all of them in one statement."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models as gis_models
from django.contrib.postgres.indexes import GistIndex
from django.db import models
from django.db.models import Q

from backend.catalog.models import ServiceType
from backend.service_requests.models import ServiceRequestEvent
from workorders.models import Area


class Frequency(models.TextChoices):
    IMMEDIATE = "immediate", "At once"
    DAILY = "daily", "Daily digest"


# What the match reads of an area's or a city-wide subscription, kept in its index.
COVERING = ["id", "notify_new", "notify_updates"]


class AlertSubscription(models.Model):
    """A signed-in resident's (``user``; no opt-in needed) or an e-mail address's (``email``,
    double opt-in: nothing is sent before ``confirmed_at``) wish to hear of requests."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="alert_subscriptions",
    )
    # Only for subscribers without an account; a resident's messages go to the account's.
    email = models.EmailField(blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    language = models.CharField(max_length=8, default="en")
    notify_new = models.BooleanField(default=True)
    notify_updates = models.BooleanField(default=False)
    frequency = models.CharField(
        max_length=10, choices=Frequency.choices, default=Frequency.IMMEDIATE
    )
    by_email = models.BooleanField(default=True)
    by_push = models.BooleanField(default=False)
    # Where: a circle, an area, or nowhere in particular (a service type alone).
    point = gis_models.PointField(srid=4326, null=True, blank=True)
    radius_m = models.PositiveIntegerField(null=True, blank=True)
    region = gis_models.MultiPolygonField(srid=4326, null=True, blank=True, spatial_index=False)
    area = models.ForeignKey(
        Area, on_delete=models.CASCADE, null=True, blank=True, related_name="+", db_index=False
    )
    service_type = models.ForeignKey(
        ServiceType,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    last_digest_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The match: circles containing a request's point...
            GistIndex(
                fields=["region"],
                condition=Q(confirmed_at__isnull=False),
                name="alert_region",
            ),
            # ...subscriptions of the areas containing it (covering: an index-only scan)...
            models.Index(
                fields=["area", "service_type"],
                include=COVERING,
                condition=Q(confirmed_at__isnull=False, area__isnull=False),
                name="alert_area",
            ),
            # ...and the city-wide ones of its service type.
            models.Index(
                fields=["service_type"],
                include=COVERING,
                condition=Q(confirmed_at__isnull=False, region__isnull=True, area__isnull=True),
                name="alert_citywide",
            ),
            models.Index(fields=["user"], condition=Q(user__isnull=False), name="alert_user"),
            # The retention run: unconfirmed e-mail subscriptions past their time.
            models.Index(
                fields=["created_at"],
                condition=Q(confirmed_at__isnull=True),
                name="alert_unconfirmed",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | ~Q(email=""), name="alert_has_recipient"
            ),
            models.CheckConstraint(
                condition=Q(notify_new=True) | Q(notify_updates=True), name="alert_has_what"
            ),
            models.CheckConstraint(
                condition=Q(by_email=True) | Q(by_push=True), name="alert_has_medium"
            ),
            models.CheckConstraint(
                condition=(
                    Q(point__isnull=False, radius_m__isnull=False, region__isnull=False)
                    & Q(area__isnull=True)
                )
                | Q(point__isnull=True, radius_m__isnull=True, region__isnull=True),
                name="alert_circle_whole",
            ),
            models.CheckConstraint(
                condition=Q(region__isnull=False)
                | Q(area__isnull=False)
                | Q(service_type__isnull=False),
                name="alert_has_where",
            ),
        ]

    def __str__(self) -> str:
        return f"alert {self.pk}"


class AlertDelivery(models.Model):
    """One event matched to one subscription: the sent marker of an immediate message, the
    queue of a daily digest. Sent rows are purged after a while (``delivery.py``)."""

    subscription = models.ForeignKey(
        AlertSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(
        ServiceRequestEvent, on_delete=models.CASCADE, related_name="+", db_index=False
    )
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "subscription"], name="uniq_alert_delivery")
        ]
        indexes = [
            models.Index(
                fields=["subscription"], condition=Q(sent_at__isnull=True), name="alert_pending"
            ),
            models.Index(fields=["sent_at"], condition=Q(sent_at__isnull=False), name="alert_sent"),
        ]

    def __str__(self) -> str:
        return f"{self.subscription_id}:{self.event_id}"
