"""Websocket tests: the whole ASGI application (origin check, session and token auth,
routing) driven by ``WebsocketCommunicator`` against the real Redis channel layer, under a
key prefix of each test's own so groups never meet another test's. The database is
transactional: pushes go out only after a real commit, from the service call's thread."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from asgiref.sync import sync_to_async
from channels.layers import BaseChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator
from django.db import connections

ORIGIN = (b"origin", b"http://testserver")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
async def _thread_connection_closed() -> AsyncIterator[None]:
    """Closes the database connection of the thread that runs the consumers' queries."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def layer(settings: Any) -> Iterator[BaseChannelLayer]:
    """The project's channel layer (Redis pub/sub), under a prefix of this test's own."""
    default = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {
        "default": {
            **default,
            "CONFIG": {**default["CONFIG"], "prefix": f"t{uuid.uuid4().hex[:10]}_"},
        }
    }
    found = get_channel_layer()
    assert found is not None
    yield found


def communicator(
    path: str, headers: list[tuple[bytes, bytes]] | None = None, *, origin: bool = True
) -> Any:
    """A client of the whole application; a browser's (with an Origin) unless told not."""
    from backend.asgi import application

    return WebsocketCommunicator(
        application, path, headers=[*([ORIGIN] if origin else []), *(headers or [])]
    )
