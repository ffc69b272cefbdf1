"""Writes of the alerts: subscribe (double opt-in for an e-mail address, none for a signed-in
resident), confirm, unsubscribe, change frequency; the request domain's ``event_recorded``
handler, which queues the matching after the change commits; and what the retention run
deletes."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from backend.alerts.models import AlertSubscription, Frequency
from backend.alerts.places import place_check
from backend.alerts.selectors import area_by_slug, circle_make
from backend.catalog.models import ServiceType
from backend.errors import City311Error, ErrorCode, Errors
from backend.outbox.services import outbox_task
from backend.service_requests.models import Channel, EventKind, ServiceRequestEvent
from backend.users import Actor, actor_user


class AlertError(City311Error):
    """A subscription refused: 400 naming each wrong field."""


def alert_subscription_create(
    *,
    user: Actor,
    email: str = "",
    lat: float | None = None,
    long: float | None = None,
    radius_m: int | None = None,
    area_slug: str = "",
    service_code: str = "",
    notify_new: bool = True,
    notify_updates: bool = False,
    frequency: str = Frequency.IMMEDIATE,
    by_email: bool = True,
    by_push: bool = False,
    language: str = "en",
) -> AlertSubscription:
    """A new subscription. A signed-in resident's is live at once (their account's e-mail);
    an e-mail address's waits for its confirmation link, which goes out after the commit.
    Every wrong field is named in one ``AlertError``."""
    errors: Errors = {}
    account = actor_user(user)
    signed_in = account is not None
    email = email.strip()
    if not signed_in:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [_("Give the e-mail address the alerts should go to.")]
        if by_push:
            errors["by_push"] = [_("Sign in to get alerts on your phone or browser.")]
    elif by_email and account is not None and not account.email:
        errors["by_email"] = [_("Your account has no e-mail address.")]
    point = place_check(lat=lat, long=long, radius_m=radius_m, errors=errors)
    area = None
    if area_slug:
        area = area_by_slug(slug=area_slug)
        if area is None:
            errors["area"] = [_("No area %(slug)s.") % {"slug": area_slug}]
        elif point is not None:
            errors["area"] = [_("Choose a point or an area, not both.")]
    service_type = None
    if service_code:
        service_type = ServiceType.objects.filter(service_code=service_code).first()
        if service_type is None:
            errors["service_code"] = [_("No service %(code)s.") % {"code": service_code}]
    if point is None and not area_slug and not service_code and not errors:
        errors["location"] = [_("Choose a place, an area or a service.")]
    if not (notify_new or notify_updates):
        errors["notify_new"] = [_("Choose new requests, their updates, or both.")]
    if frequency not in Frequency.values:
        errors["frequency"] = [_("Choose at once or a daily digest.")]
    if not (by_email or by_push):
        errors["by_email"] = [_("Choose e-mail, push, or both.")]
    if errors:
        raise AlertError(errors)
    now = timezone.now()
    with transaction.atomic():
        subscription = AlertSubscription.objects.create(
            user=account,
            email="" if signed_in else email,
            confirmed_at=now if signed_in else None,
            created_at=now,
            language=language[:8] or "en",
            notify_new=notify_new,
            notify_updates=notify_updates,
            frequency=frequency,
            by_email=by_email,
            by_push=by_push,
            point=point,
            radius_m=radius_m if point is not None else None,
            region=circle_make(point=point, radius_m=radius_m or 1) if point is not None else None,
            area=area,
            service_type=service_type,
        )
        if not signed_in:
            outbox_task("backend.alerts.tasks.alert_confirmation_send", subscription.pk)
    return subscription


def _subscription(subscription_id: int) -> AlertSubscription:
    subscription = AlertSubscription.objects.filter(pk=subscription_id).first()
    if subscription is None:
        raise City311Error({"token": [_("This alert no longer exists.")]}, code=ErrorCode.NOT_FOUND)
    return subscription


def alert_subscription_confirm(*, subscription_id: int) -> AlertSubscription:
    """The double opt-in's second step (idempotent: confirming twice keeps the first time)."""
    subscription = _subscription(subscription_id)
    if subscription.confirmed_at is None:
        AlertSubscription.objects.filter(pk=subscription.pk, confirmed_at__isnull=True).update(
            confirmed_at=timezone.now()
        )
        subscription.refresh_from_db(fields=["confirmed_at"])
    return subscription


def alert_subscription_delete(*, subscription: AlertSubscription) -> None:
    subscription.delete()


def alert_subscription_unsubscribe(*, subscription_id: int) -> None:
    """One-click unsubscribe: the subscription is deleted (404 if it already is)."""
    alert_subscription_delete(subscription=_subscription(subscription_id))


def alert_subscription_frequency_set(
    *, subscription: AlertSubscription, frequency: str
) -> AlertSubscription:
    """At once or a daily digest; an e-mail address's only once confirmed."""
    if subscription.confirmed_at is None:
        raise AlertError({"email": [_("Confirm your e-mail address first.")]})
    if frequency not in Frequency.values:
        raise AlertError({"frequency": [_("Choose at once or a daily digest.")]})
    subscription.frequency = frequency
    subscription.save(update_fields=["frequency"])
    return subscription


# --- Hooks of the request domain (registered in AlertsConfig.ready())


def alerts_event_recorded(*, event: ServiceRequestEvent) -> None:
    """A new request, a status change or a public note: queue the matching and sending for
    after the commit (outbox), never in the filing transaction. Imported history, internal
    notes and erasures are no news."""
    if event.service_request.channel == Channel.IMPORT:
        return
    news = event.kind in (EventKind.CREATED, EventKind.STATUS_CHANGED) or (
        event.kind == EventKind.NOTE and bool(event.public_note)
    )
    if not news:
        return
    outbox_task("backend.alerts.tasks.alerts_event_deliver", event.pk)


def alerts_account_erase(*, user_ids: list[int]) -> dict[str, int]:
    """An anonymised account's subscriptions go (the retention run)."""
    _, per_model = AlertSubscription.objects.filter(user_id__in=user_ids).delete()
    deleted = per_model.get(AlertSubscription._meta.label, 0)
    return {"alert subscriptions": deleted} if deleted else {}


def alerts_unconfirmed_purge(*, now: datetime, dry_run: bool) -> dict[str, int]:
    """E-mail subscriptions left unconfirmed for ``ALERTS_UNCONFIRMED_DAYS`` are deleted."""
    stale = AlertSubscription.objects.filter(
        confirmed_at__isnull=True,
        created_at__lt=now - timedelta(days=settings.ALERTS_UNCONFIRMED_DAYS),
    )
    count = stale.count() if dry_run else stale.delete()[1].get(AlertSubscription._meta.label, 0)
    return {"alert subscriptions unconfirmed": count} if count else {}
