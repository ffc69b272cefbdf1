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
