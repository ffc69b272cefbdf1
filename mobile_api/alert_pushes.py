"""Pushes of area alerts (``backend.alerts``) to a signed-in resident's phones and browsers.

``MobileApiConfig.ready()`` registers ``alert_pushes`` with the alerts' hook
(``backend.alerts.hooks``): the alerts sit below the mobile API and cannot import it. Best
effort, like ``push.push_deliver``: a busy push service is logged, not retried (a retry would
repeat the alert on the devices that had it)."""

from __future__ import annotations

import logging

from backend.alerts.hooks import AlertPush
from mobile_api.models import Device
from mobile_api.push import PushMessage, PushServiceBusy, PushTarget, push_to_device

logger = logging.getLogger(__name__)


def alert_pushes(*, user_id: int, message: AlertPush) -> int:
    """One push of ``message`` to each device of the account; how many were sent."""
    push = PushMessage(
        title=message.title,
        body=message.body,
        data={"type": "alert"},
        url=message.url,
        tag=message.tag,
    )
    rows = (
        Device.objects.filter(user_id=user_id)
        .order_by("pk")
        .values_list("pk", "platform", "push_token", "p256dh", "auth")
    )
    sent = 0
    for row in rows:
        try:
            push_to_device(target=PushTarget(*row), message=push)
            sent += 1
        except PushServiceBusy as exc:
            logger.warning("alert push not delivered: %s", exc)
    return sent
