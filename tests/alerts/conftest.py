"""What the alerts' tests share: the sample wards (the city), a phone-push recorder, and
subscriptions made through the real service."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from backend.alerts.models import AlertSubscription
from backend.alerts.services import alert_subscription_confirm, alert_subscription_create
from mobile_api.push import PushMessage, _backend
from tests.workorders.factories import sample_wards_load

# City Hall is in Sample Ward 1; Fenway (Sample Ward 2) is about 3 km away.
CITY_HALL = (42.3601, -71.0589)
FENWAY = (42.3467, -71.0972)
WARD_1 = "sample-ward-1-downtown-and-north-end"
WARD_2 = "sample-ward-2-back-bay-and-fenway"


class RecordingPushBackend:
    sent: ClassVar[list[tuple[str, str, PushMessage]]] = []

    def send(self, *, platform: str, push_token: str, message: PushMessage) -> None:
        self.sent.append((platform, push_token, message))


@pytest.fixture
def pushes(settings: Any) -> Iterator[list[tuple[str, str, PushMessage]]]:
    settings.MOBILE_PUSH_BACKEND = f"{__name__}.RecordingPushBackend"
    _backend.cache_clear()
    RecordingPushBackend.sent.clear()
    yield RecordingPushBackend.sent
    _backend.cache_clear()


@pytest.fixture
def wards(catalog: None) -> None:
    sample_wards_load()


def email_alert(email: str = "ann.alert@example.org", **kwargs: Any) -> AlertSubscription:
    """A confirmed e-mail subscription (the double opt-in done)."""
    subscription = alert_subscription_create(user=None, email=email, **kwargs)
    return alert_subscription_confirm(subscription_id=subscription.pk)
