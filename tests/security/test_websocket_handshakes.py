"""Websocket handshakes no client of city311 sends (backend/websocket_auth.py,
``HandshakeValidator``): a NUL character or bytes that are not UTF-8 in the path or the query
string, a NUL in the credentials, a token longer than any key. Every route refuses them
cleanly, before accepting (the ASGI server answers 403, as for a foreign Origin), never with
an exception: through the whole application with ``WebsocketCommunicator``, and once against
a real uvicorn. The routes come from backend/routing.py, so a new one is covered too."""

from __future__ import annotations

import os
import re
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import URLPattern

from backend.routing import websocket_urlpatterns
from tests.processes import database_url, running
from tests.realtime.conftest import communicator

# No database: a refused handshake reaches no query (one would fail the test).
pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _paths(value: str) -> list[str]:
    """Each websocket route with ``value`` for every path parameter."""
    routes = [str(p.pattern) for p in websocket_urlpatterns if isinstance(p, URLPattern)]
    return ["/" + re.sub(r"<[^>]+>", value, route) for route in routes]


ROUTES = _paths("SR-1")
JUNK_QUERIES = [
    "token=%00",
    "token=abc%00def",
    "token=%ff",
    "token=%c3%28",
    "token=" + "a" * 41,
    "token=" + "a" * 5000,
    "other=%00",
]
JUNK = [
    *[f"{path}?{query}" for path in ROUTES for query in JUNK_QUERIES],
    *[path for path in _paths("%00") + _paths("SR-%00-1") + _paths("%ff") if "%" in path],
]
JUNK_HEADERS = [
    [(b"authorization", b"Token \x00")],
    [(b"authorization", b"Token abc\x00def")],
    [(b"authorization", b"Token " + b"a" * 41)],
    [(b"cookie", b"sessionid=abc\x00defghijk")],
]


def test_the_cases_cover_every_route() -> None:
    assert len(ROUTES) == len(websocket_urlpatterns) >= 4
    assert {p.split("?")[0] for p in JUNK} >= set(ROUTES)


async def _refused(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> None:
    client = communicator(path, headers)
    # An exception in the application would be raised here, by connect or disconnect.
    connected, _ = await client.connect(timeout=5)
    assert connected is False, path
    await client.disconnect(timeout=5)


@pytest.mark.parametrize("path", JUNK)
async def test_a_junk_handshake_is_refused_cleanly(path: str) -> None:
    await _refused(path)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("headers", JUNK_HEADERS, ids=["nul", "nul-inside", "long", "cookie"])
async def test_junk_credentials_are_refused_cleanly(
    route: str, headers: list[tuple[bytes, bytes]]
) -> None:
    await _refused(route, headers)


async def test_a_clean_handshake_still_connects() -> None:
    client = communicator("/ws/chat/?token=&lang=es")
    connected, _ = await client.connect(timeout=5)
    assert connected is True
    await client.disconnect()


@pytest.fixture(scope="module")
def uvicorn_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """uvicorn serving ``backend.asgi:application`` on a free port; always stopped."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    env = {**os.environ, "DATABASE_URL": database_url(), "DB_POOL": "0", "DEBUG": "1"}
    command = [
        sys.executable, "-m", "uvicorn", "backend.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    log: Path = tmp_path_factory.mktemp("uvicorn") / "uvicorn.log"
    with running(command, env=env, log=log) as server:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, log.read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield port


def _upgrade_status(port: int, target: str) -> int:
    """The HTTP status a real server answers a websocket upgrade of ``target`` with."""
    request = (
        f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request.encode("ascii"))
        status_line = sock.makefile("rb").readline().decode("latin-1")
    return int(status_line.split()[1])


REAL_JUNK = [
    "/ws/crew/?token=%00",
    "/ws/requests/%00/",
    "/ws/analytics/?token=%00",
    "/ws/chat/?token=%00",
    "/ws/requests/%ff/",
    "/ws/crew/?token=" + "a" * 41,
]


@pytest.mark.parametrize("target", REAL_JUNK)
def test_a_real_server_refuses_a_junk_upgrade_with_403(uvicorn_port: int, target: str) -> None:
    assert _upgrade_status(uvicorn_port, target) == 403, target


def test_a_real_server_upgrades_a_clean_handshake(uvicorn_port: int) -> None:
    assert _upgrade_status(uvicorn_port, "/ws/chat/") == 101
