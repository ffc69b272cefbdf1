"""Push messages to phones, through a backend chosen by the ``MOBILE_PUSH_BACKEND`` setting
(a dotted path). The console backend (development, tests) logs each message; a production
backend (APNs, FCM...) implements the same one method."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PushMessage:
    title: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)


class PushBackend(Protocol):
    def send(self, *, platform: str, push_token: str, message: PushMessage) -> None: ...


class ConsolePushBackend:
    """Writes the message to the log instead of sending it."""

    def send(self, *, platform: str, push_token: str, message: PushMessage) -> None:
        logger.info(
            "push to %s %s…: %s — %s %s",
            platform,
            push_token[:8],
            message.title,
            message.body,
            message.data,
        )


@lru_cache(maxsize=4)
def _backend(path: str) -> PushBackend:
    backend: PushBackend = import_string(path)()
    return backend


def push_backend_get() -> PushBackend:
    return _backend(settings.MOBILE_PUSH_BACKEND)


def push_deliver(*, devices: list[list[str]], message: dict[str, Any]) -> None:
    """Sends ``message`` (a ``PushMessage`` as a dict) to each ``[platform, push_token]``:
    the outbox's call for pushes queued by ``mobile_api.services.push_send``."""
    backend = push_backend_get()
    push = PushMessage(**message)
    for platform, push_token in devices:
        backend.send(platform=platform, push_token=push_token, message=push)
