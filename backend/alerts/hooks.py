"""What the alerts ask of the layers above without importing them: pushes to a resident's
phones and browsers. The mobile API registers ``alert_pushes`` in its ``AppConfig.ready()``
(it keeps the devices and sends Web Push); without it, alerts go by e-mail only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class AlertPush:
    """A push of an alert: public words only, the page a tap opens, the tag under which a
    newer one replaces it."""

    title: str
    body: str
    url: str
    tag: str


class AlertPushes(Protocol):
    """Send ``message`` to every device of the account; how many took it."""

    def __call__(self, *, user_id: int, message: AlertPush) -> int: ...


_alert_pushes: list[AlertPushes] = []


def alert_pushes_register(handler: AlertPushes) -> None:
    if handler not in _alert_pushes:
        _alert_pushes.append(handler)


def alert_pushes(*, user_id: int, message: AlertPush) -> int:
    return sum(handler(user_id=user_id, message=message) for handler in _alert_pushes)
