"""Group sends to the Channels layer from synchronous code (the outbox's calls, Celery tasks,
management commands), over one long-lived event loop per process.

``async_to_sync(layer.group_send)`` outside an ASGI request makes a new event loop for each
call, and the Redis pub/sub layer a new connection for each loop: every push paid for a
connection. Here a daemon thread runs one loop for the process, so the layer keeps one
connection and a push costs one PUBLISH (bench/realtime.py). A process that forks after
using it (none does today) gets a loop of its own."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

from channels.layers import get_channel_layer

SEND_TIMEOUT_S = 5.0

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None


def _push_loop() -> asyncio.AbstractEventLoop:
    global _loop, _loop_pid
    with _lock:
        if _loop is None or _loop_pid != os.getpid() or _loop.is_closed():
            _loop = asyncio.new_event_loop()
            _loop_pid = os.getpid()
            threading.Thread(target=_loop.run_forever, name="channel-push", daemon=True).start()
        return _loop


def group_send(group: str, message: dict[str, Any]) -> None:
    """Sends ``message`` to ``group`` and waits until it has gone (errors are raised)."""
    layer = get_channel_layer()
    if layer is None:
        return
    future = asyncio.run_coroutine_threadsafe(layer.group_send(group, message), _push_loop())
    future.result(timeout=SEND_TIMEOUT_S)
