"""Twilio's and Meta's APIs faked at HTTP: real servers on loopback ports that check the
credentials the way the providers do (basic auth with the account SID and auth token; a
bearer access token), record what city311 sends, serve media, and can be "down" (503).
Webhooks are signed here the way the providers document it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import jpeg_bytes

ACCOUNT_SID = "AC" + "1" * 32
AUTH_TOKEN = "twilio-auth-token-for-tests"
FROM_NUMBER = "+16175550000"
WEBHOOK_BASE = "https://311.example.org"
ACCESS_TOKEN = "meta-access-token-for-tests"
APP_SECRET = "meta-app-secret-for-tests"
VERIFY_TOKEN = "meta-verify-token-for-tests"
PHONE_NUMBER_ID = "109876543210"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def form(self) -> dict[str, str]:
        return {k: v[0] for k, v in parse_qs(self.body.decode()).items()}

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Served:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    location: str = ""


@dataclass
class FakeProvider:
    url: str
    check: str  # "basic" or "bearer"
    received: list[Received] = field(default_factory=list)
    routes: dict[str, Served] = field(default_factory=dict)
    down: bool = False

    @property
    def port(self) -> int:
        return int(urlsplit(self.url).port or 0)

    def authorized(self, header: str) -> bool:
        if self.check == "bearer":
            return header == f"Bearer {ACCESS_TOKEN}"
        expected = base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
        return header == f"Basic {expected}"

    def sent(self, path_part: str) -> list[Received]:
        return [r for r in self.received if r.method == "POST" and path_part in r.path]


class QuietHandler(BaseHTTPRequestHandler):
    """A fake service's request handler that logs nothing."""

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def http_served(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """``handler`` answering on a free local port, in a thread, until leaving; yields the
    base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _serve(check: str, default_post: Served) -> Iterator[FakeProvider]:
    fake: FakeProvider

    class Handler(QuietHandler):
        def _answer(self, served: Served) -> None:
            self.send_response(served.status)
            self.send_header("Content-Type", served.content_type)
            self.send_header("Content-Length", str(len(served.body)))
            if served.location:
                self.send_header("Location", served.location)
            self.end_headers()
            self.wfile.write(served.body)

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            fake.received.append(Received(method, self.path, headers, body))
            path = urlsplit(self.path).path
            served = fake.routes.get(f"{method} {path}")
            if fake.down:
                return self._answer(Served(503, b'{"message": "down"}'))
            public = served is not None and path.startswith("/cdn/")
            if not public and not fake.authorized(headers.get("authorization", "")):
                return self._answer(Served(401, b'{"code": 20003, "message": "Authenticate"}'))
            if served is None:
                served = default_post if method == "POST" else Served(404, b"{}")
            return self._answer(served)

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

    with http_served(Handler) as url:
        fake = FakeProvider(url=url, check=check)
        yield fake


@pytest.fixture
def fake_twilio(settings: Any) -> Iterator[FakeProvider]:
    for fake in _serve("basic", Served(201, b'{"sid": "SM' + b"2" * 32 + b'"}')):
        settings.TWILIO_ACCOUNT_SID = ACCOUNT_SID
        settings.TWILIO_AUTH_TOKEN = AUTH_TOKEN
        settings.TWILIO_FROM_NUMBER = FROM_NUMBER
        settings.TWILIO_API_BASE_URL = fake.url
        settings.TWILIO_WEBHOOK_BASE_URL = WEBHOOK_BASE
        settings.TWILIO_MEDIA_HOSTS = [f"http://127.0.0.1:{fake.port}"]
        yield fake


@pytest.fixture
def fake_meta(settings: Any) -> Iterator[FakeProvider]:
    for fake in _serve("bearer", Served(200, b'{"messages": [{"id": "wamid.OUT"}]}')):
        settings.WHATSAPP_API_BASE_URL = f"{fake.url}/v21.0"
        settings.WHATSAPP_ACCESS_TOKEN = ACCESS_TOKEN
        settings.WHATSAPP_APP_SECRET = APP_SECRET
        settings.WHATSAPP_VERIFY_TOKEN = VERIFY_TOKEN
        settings.WHATSAPP_PHONE_NUMBER_ID = PHONE_NUMBER_ID
        settings.WHATSAPP_MEDIA_HOSTS = [f"http://127.0.0.1:{fake.port}"]
        yield fake


def twilio_signature(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    """As Twilio documents it: the URL, then each parameter's name and value sorted by name,
    HMAC-SHA1 with the auth token, base64."""
    data = url + "".join(name + params[name] for name in sorted(params))
    return base64.b64encode(hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()).decode()


def meta_signature(body: bytes, secret: str = APP_SECRET) -> str:
    """As Meta documents it: "sha256=" and the hex HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def photo() -> bytes:
    return jpeg_bytes((320, 240))
