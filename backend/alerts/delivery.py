"""Matching a request's news against the subscriptions, and sending it: at once (one message
per subscription) or in the daily digest. Runs in Celery after the change committed (the
outbox hands ``tasks.alerts_event_deliver`` on), never in the filing transaction.

``AlertDelivery`` rows are the sent markers (one per event and subscription): a retried task
matches again, inserts nothing new and sends only what is still unsent. Every request is read
through ``ServiceRequest.objects.visible()`` when it is sent, so one hidden in the meantime
never goes out."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.mail import EmailMessage
from django.utils import timezone, translation

from backend.alerts import hooks
from backend.alerts.messages import AlertItem, alert_email, alert_item, confirmation_email
from backend.alerts.models import AlertDelivery, AlertSubscription, Frequency
from backend.alerts.selectors import alert_subscription_ids_for_event
from backend.service_requests.models import (
    Channel,
    ServiceRequest,
    ServiceRequestEvent,
)

logger = logging.getLogger(__name__)

# Sent markers are kept this long (a retried task within it sends nothing twice).
SENT_KEPT = timedelta(days=30)


@dataclass(frozen=True)
class DeliverResult:
    matched: int
    sent: int


def _public_requests(ids: set[int]) -> dict[int, ServiceRequest]:
    """The public, live requests among ``ids`` (hidden and imported ones left out)."""
    rows = (
        ServiceRequest.objects.visible()
        .exclude(channel=Channel.IMPORT)
        .filter(pk__in=ids)
        .select_related("service_type")
        .only(
            "public_id",
            "service_type__name",
            "service_type__name_i18n",
            "service_type__sensitive_location",
            "location",
            "address",
            "description",
            "status",
        )
    )
    return {row.pk: row for row in rows}


def _recipient(subscription: AlertSubscription) -> str:
    if subscription.user_id is not None:
        return str(getattr(subscription.user, "email", "") or "")
    return subscription.email


def _send(*, subscription: AlertSubscription, items: list[AlertItem]) -> None:
    """E-mail and/or push, as the subscriber chose. A mail server away raises (the task
    retries; what was marked sent stays sent)."""
    address = _recipient(subscription)
    if subscription.by_email and address:
        message = alert_email(subscription=subscription, items=items)
        EmailMessage(
            subject=message.subject, body=message.body, to=[address], headers=message.headers
        ).send()
    if subscription.by_push and subscription.user_id is not None:
        with translation.override(subscription.language or "en"):
            email = alert_email(subscription=subscription, items=items)
            first = items[0]
            push = hooks.AlertPush(
                title=email.subject,
                body=first.text or first.headline if len(items) == 1 else email.subject,
                url=first.url if len(items) == 1 else "",
                tag=f"city311-alert-{subscription.pk}",
            )
        hooks.alert_pushes(user_id=subscription.user_id, message=push)


def alerts_event_deliver(*, event_id: int) -> DeliverResult:
    """Match one event's request against every subscription (one indexed statement), record
    a delivery for each, send the immediate ones."""
    # The match first, with the event's request read in the same statement: most events
    # match no subscription, and then nothing more is read (the load bench's Celery
    # profile: this task was 42 % of the worker with no subscription at all).
    ids = alert_subscription_ids_for_event(event_id=event_id)
    if not ids:
        return DeliverResult(0, 0)
    event = ServiceRequestEvent.objects.filter(pk=event_id).first()
    if event is None:
        return DeliverResult(0, 0)
    service_request = _public_requests({event.service_request_id}).get(event.service_request_id)
    if service_request is None:
        return DeliverResult(0, 0)
    now = timezone.now()
    AlertDelivery.objects.bulk_create(
        [AlertDelivery(subscription_id=pk, event=event, created_at=now) for pk in ids],
        ignore_conflicts=True,
        batch_size=1000,
    )
    pending = AlertDelivery.objects.filter(
        event=event, sent_at__isnull=True, subscription__frequency=Frequency.IMMEDIATE
    ).select_related("subscription__user", "subscription__area", "subscription__service_type")
    sent = 0
    for delivery in pending:
        subscription = delivery.subscription
        with translation.override(subscription.language or "en"):
            item = alert_item(service_request=service_request, event=event)
        _send(subscription=subscription, items=[item])
        AlertDelivery.objects.filter(pk=delivery.pk).update(sent_at=timezone.now())
        sent += 1
    return DeliverResult(len(ids), sent)


def alerts_digest_send(*, now: datetime | None = None) -> int:
    """The daily digests: each subscription's unsent deliveries in one message (those whose
    request was hidden since are dropped); then old sent markers are purged. How many
    digests went out."""
    now = now or timezone.now()
    subscriptions = (
        AlertSubscription.objects.filter(
            frequency=Frequency.DAILY,
            confirmed_at__isnull=False,
            pk__in=AlertDelivery.objects.filter(sent_at__isnull=True).values("subscription_id"),
        )
        .select_related("user", "area", "service_type")
        .order_by("pk")
    )
    sent = 0
    for subscription in subscriptions:
        deliveries = list(
            AlertDelivery.objects.filter(subscription=subscription, sent_at__isnull=True)
            .select_related("event")
            .order_by("event__created_at", "event_id")
        )
        requests = _public_requests({d.event.service_request_id for d in deliveries})
        with translation.override(subscription.language or "en"):
            items = [
                alert_item(service_request=requests[d.event.service_request_id], event=d.event)
                for d in deliveries
                if d.event.service_request_id in requests
            ]
        if items:
            _send(subscription=subscription, items=items)
            sent += 1
        AlertDelivery.objects.filter(pk__in=[d.pk for d in deliveries]).update(sent_at=now)
        AlertSubscription.objects.filter(pk=subscription.pk).update(last_digest_at=now)
    AlertDelivery.objects.filter(sent_at__lt=now - SENT_KEPT).delete()
    return sent


def alert_confirmation_send(*, subscription_id: int) -> bool:
    """The double opt-in's link, to an e-mail subscription not confirmed yet."""
    subscription = AlertSubscription.objects.filter(
        pk=subscription_id, confirmed_at__isnull=True, user__isnull=True
    ).first()
    if subscription is None:
        return False
    message = confirmation_email(subscription=subscription)
    EmailMessage(subject=message.subject, body=message.body, to=[subscription.email]).send()
    return True
