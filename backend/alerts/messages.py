"""The words of the alerts: the confirmation e-mail, an alert (one request's news), a daily
digest, and a subscription described for its manager. Public fields only — the service's
name, the public id, the status, the address (its street only for a sensitive service), the
public description or note, the link — never the reporter's contact data; each message in the
subscriber's language, with its one-click unsubscribe link."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backend.alerts.models import AlertSubscription, Frequency
from backend.alerts.tokens import CONFIRM, MANAGE, UNSUBSCRIBE, alert_token_make
from backend.service_requests.models import EventKind, ServiceRequest, ServiceRequestEvent, Status

STATUS_WORDS = {
    Status.SUBMITTED: gettext_lazy("Submitted"),
    Status.ACKNOWLEDGED: gettext_lazy("Acknowledged"),
    Status.IN_PROGRESS: gettext_lazy("In progress"),
    Status.CLOSED: gettext_lazy("Closed"),
}
FREQUENCY_WORDS = {
    Frequency.IMMEDIATE: gettext_lazy("At once"),
    Frequency.DAILY: gettext_lazy("Daily digest"),
}
_HOUSE_NUMBER = re.compile(r"^\s*\d+[\w-]*\s+")


def absolute(path: str) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + path


def unsubscribe_url(subscription: AlertSubscription) -> str:
    token = alert_token_make(subscription_id=subscription.pk, purpose=UNSUBSCRIBE)
    return absolute(reverse("alerts:unsubscribe", args=[token]))


def manage_url(subscription: AlertSubscription) -> str:
    if subscription.user_id is not None:
        return absolute(reverse("accounts:me") + "#alerts")
    token = alert_token_make(subscription_id=subscription.pk, purpose=MANAGE)
    return absolute(reverse("alerts:manage", args=[token]))


@dataclass(frozen=True)
class AlertItem:
    """One request's news, in public words."""

    public_id: str
    headline: str
    address: str
    text: str
    url: str

    def lines(self) -> list[str]:
        return [line for line in (self.headline, self.address, self.text, self.url) if line]


def public_address(service_request: ServiceRequest) -> str:
    if service_request.service_type.sensitive_location:
        return _HOUSE_NUMBER.sub("", service_request.address, count=1)
    return service_request.address


def alert_item(*, service_request: ServiceRequest, event: ServiceRequestEvent) -> AlertItem:
    """In the active language."""
    values = {
        "id": service_request.public_id,
        "service": service_request.service_type.localized_name(),
        "status": STATUS_WORDS.get(Status(event.to_status or service_request.status), ""),
    }
    if event.kind == EventKind.CREATED:
        headline = _("New: %(service)s, %(id)s") % values
        text = service_request.description
    elif event.kind == EventKind.STATUS_CHANGED:
        headline = _("%(service)s, %(id)s: now %(status)s") % values
        text = event.public_note
    else:
        headline = _("%(service)s, %(id)s: a new note") % values
        text = event.public_note
    url = absolute(reverse("web:track", kwargs={"public_id": service_request.public_id}))
    return AlertItem(
        service_request.public_id, headline, public_address(service_request), text, url
    )


def subscription_describe(subscription: AlertSubscription) -> str:
    """What and where, in the active language: "New requests within 500 m of 42.36000,
    -71.06000 (Pothole)"."""
    if subscription.notify_new and subscription.notify_updates:
        what = _("New requests and their updates")
    elif subscription.notify_new:
        what = _("New requests")
    else:
        what = _("Updates of requests")
    if subscription.point is not None:
        where = _("within %(radius)d m of %(lat).5f, %(long).5f") % {
            "radius": subscription.radius_m or 0,
            "lat": subscription.point.y,
            "long": subscription.point.x,
        }
    elif subscription.area is not None:
        where = _("in %(area)s") % {"area": subscription.area.name}
    else:
        where = _("anywhere in the city")
    text = f"{what} {where}"
    if subscription.service_type is not None:
        text += f" ({subscription.service_type.localized_name()})"
    return text


@dataclass(frozen=True)
class AlertEmail:
    subject: str
    body: str
    headers: dict[str, str]


def _footer(subscription: AlertSubscription) -> list[str]:
    return [
        "--",
        subscription_describe(subscription),
        _("Change how often you hear: %(url)s") % {"url": manage_url(subscription)},
        _("Stop these alerts (one click): %(url)s") % {"url": unsubscribe_url(subscription)},
    ]


def _headers(subscription: AlertSubscription) -> dict[str, str]:
    """RFC 2369 and RFC 8058: mail programs show an unsubscribe button that POSTs the link."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(subscription)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def alert_email(*, subscription: AlertSubscription, items: list[AlertItem]) -> AlertEmail:
    """One alert (one item) or a daily digest (several), in the subscriber's language."""
    with translation.override(subscription.language or "en"):
        if len(items) == 1 and subscription.frequency == Frequency.IMMEDIATE:
            subject = _("city311 alert: %(headline)s") % {"headline": items[0].headline}
        else:
            subject = _("city311 daily alerts: %(count)d requests") % {"count": len(items)}
        lines: list[str] = []
        for item in items:
            lines += [*item.lines(), ""]
        body = "\n".join([*lines, *_footer(subscription)])
        return AlertEmail(subject, body, _headers(subscription))


def confirmation_email(*, subscription: AlertSubscription) -> AlertEmail:
    token = alert_token_make(subscription_id=subscription.pk, purpose=CONFIRM)
    url = absolute(reverse("alerts:confirm", args=[token]))
    with translation.override(subscription.language or "en"):
        subject = _("city311: confirm your alert")
        body = "\n".join(
            [
                _("Someone, we hope you, asked for city311 alerts at this address:"),
                subscription_describe(subscription),
                "",
                _("To start them, open this link within %(days)d days: %(url)s")
                % {"days": settings.ALERTS_UNCONFIRMED_DAYS, "url": url},
                "",
                _("If it was not you, do nothing: nothing more will be sent."),
            ]
        )
        return AlertEmail(subject, body, {})
