"""Rasa faked at its HTTP boundary: a real HTTP server on a loopback port answering the REST
channel's webhook with scripted messages and recording what Django sent."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.chatbot.providers import QuietHandler, http_served

Answer = Callable[[dict[str, Any]], tuple[int, Any]]


@dataclass
class FakeRasa:
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)
    answer: Answer = lambda body: (200, [{"recipient_id": body["sender"], "text": "Hi!"}])

    def replies(self, *messages: dict[str, Any]) -> None:
        """Answer every message with these (``recipient_id`` added)."""
        self.answer = lambda body: (
            200,
            [{"recipient_id": body["sender"], **m} for m in messages],
        )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def fake_rasa(settings: Any) -> Iterator[FakeRasa]:
    fake: FakeRasa

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            fake.received.append({"path": self.path, **body})
            status, data = fake.answer(body)
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    with http_served(Handler) as url:
        fake = FakeRasa(url=url)
        settings.CHATBOT_RASA_URL = fake.url
        settings.CHATBOT_WEB_FORM_URL = "https://311.example.org/report"
        yield fake


@pytest.fixture
def rasa_down(settings: Any) -> None:
    """Nothing listens where Django looks for Rasa."""
    settings.CHATBOT_RASA_URL = f"http://127.0.0.1:{free_port()}"
    settings.CHATBOT_WEB_FORM_URL = "https://311.example.org/report"


# The messaging gateways' providers (Twilio, Meta), faked the same way.
from tests.chatbot.providers import fake_meta, fake_twilio  # noqa: E402, F401
