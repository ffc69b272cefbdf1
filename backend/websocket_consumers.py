"""What the project's websocket consumers share.

Channels runs Django's ``close_old_connections`` in a worker thread before every message a
consumer handles (``AsyncConsumer.dispatch``). For a handler that only passes a group
message on to its socket that thread hop is pure cost, and with a thousand watchers of one
request it was most of the time a status change took to reach them all (profiled with
py-spy; bench/realtime.py). Consumers name such handlers' message types in
``database_free_types``; their messages skip the hop. Handlers that touch the database keep
it (connect and the rest go through ``database_sync_to_async``, which closes old
connections itself)."""

from __future__ import annotations

from typing import Any, ClassVar

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer


class PushConsumer(AsyncJsonWebsocketConsumer):
    database_free_types: ClassVar[frozenset[str]] = frozenset()

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") in self.database_free_types:
            await getattr(self, get_handler_name(message))(message)
            return
        await super().dispatch(message)
