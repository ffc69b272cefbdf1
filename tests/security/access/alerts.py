"""Access cases of the area alerts (backend/alerts): subscribing, the signed links
(confirm, one-click unsubscribe, manage) and the feeds are for anyone — a link's token is
its own proof; a resident's changes from ``/me/`` are for that resident only (another's
alert is 404, as if it did not exist; signed out, the sign-in page)."""

from __future__ import annotations

from collections.abc import Callable

from backend.alerts.models import AlertSubscription
from backend.alerts.services import alert_subscription_create
from backend.alerts.tokens import CONFIRM, MANAGE, UNSUBSCRIBE, alert_token_make
from tests.security.access import Case, Endpoint, expect
from tests.security.conftest import World


def _residents_alert(world: World) -> AlertSubscription:
    return alert_subscription_create(user=world.resident, service_code="pothole")


def _emailed_alert(world: World) -> AlertSubscription:
    return alert_subscription_create(user=None, email="ann@example.org", service_code="pothole")


def _link(kind: str, purpose: str) -> Callable[[World], str]:
    return lambda world: (
        f"/alerts/{kind}/"
        + alert_token_make(subscription_id=_emailed_alert(world).pk, purpose=purpose)
    )


def anyone(path: str | Callable[[World], str], ok: int = 200, method: str = "GET") -> Endpoint:
    return Endpoint(
        Case("anonymous", method, path, expect(ok), browser=True),
        Case("other_resident", method, path, expect(ok), browser=True),
        Case("resident", method, path, expect(ok), browser=True),
    )


def residents(action: str, data: dict[str, str] | None = None) -> Endpoint:
    def path(world: World) -> str:
        return f"/me/alerts/{_residents_alert(world).pk}/{action}"

    return Endpoint(
        Case("anonymous", "POST", path, expect(302), data=data or {}, browser=True),
        Case("other_resident", "POST", path, expect(404), data=data or {}, browser=True),
        Case("resident", "POST", path, expect(302), data=data or {}, browser=True),
    )


ENTRIES: dict[str, Endpoint] = {
    "alerts/subscribe": anyone("/alerts/subscribe?service_code=pothole"),
    "alerts/confirm/<str:token>": anyone(_link("confirm", CONFIRM)),
    "alerts/unsubscribe/<str:token>": anyone(_link("unsubscribe", UNSUBSCRIBE)),
    "alerts/manage/<str:token>": anyone(_link("manage", MANAGE)),
    "me/alerts/<int:subscription_id>/delete": residents("delete"),
    "me/alerts/<int:subscription_id>/frequency": residents("frequency", {"frequency": "daily"}),
    "feeds/requests.atom": anyone("/feeds/requests.atom?service_code=pothole"),
}
