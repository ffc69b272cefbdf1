"""The signed links of the alerts, one purpose each: a confirmation link does not
unsubscribe, an unsubscribe link does not confirm. A link carries the subscription's id and
the purpose's salt; a forged, altered or wrong-purpose token is refused (400 naming
``token``), one whose subscription is gone is 404."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.utils.translation import gettext as _

from backend.errors import City311Error

CONFIRM = "city311.alerts.confirm"
UNSUBSCRIBE = "city311.alerts.unsubscribe"
MANAGE = "city311.alerts.manage"


def alert_token_make(*, subscription_id: int, purpose: str) -> str:
    return signing.dumps({"s": subscription_id}, salt=purpose, compress=False)


def alert_token_read(*, token: str, purpose: str) -> int:
    """The subscription id a token of ``purpose`` names; a confirmation link only within
    ``ALERTS_UNCONFIRMED_DAYS``."""
    max_age = timedelta(days=settings.ALERTS_UNCONFIRMED_DAYS) if purpose == CONFIRM else None
    try:
        data = signing.loads(token, salt=purpose, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise City311Error({"token": [_("This link has expired.")]}) from exc
    except signing.BadSignature as exc:
        raise City311Error({"token": [_("This link is not valid.")]}) from exc
    if not isinstance(data, dict) or not isinstance(data.get("s"), int):
        raise City311Error({"token": [_("This link is not valid.")]})
    return int(data["s"])
