"""The chat bench's messaging gateways (bench/chat.py): a resident's message in through a
provider's signed webhook, the assistant's reply out, with the real Rasa.

- SMS: Twilio's form webhook ``POST /api/v1/chat/twilio``, signed as Twilio signs it
  (HMAC-SHA1 of the URL and the sorted parameters); the reply is the TwiML answer, so the
  time is the request's.
- WhatsApp: Meta's JSON webhook ``POST /api/v1/chat/whatsapp`` (X-Hub-Signature-256); the
  reply goes out through the outbox to the Graph API, here a local fake server, so the time
  runs until the fake has received the reply to that message.

Each conversation comes from a new number, so each is a new conversation."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx

from bench.realtime import percentile

GOAL_P95_MS = 400.0
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "bench-twilio-auth-token"
APP_SECRET = "bench-meta-app-secret"
ACCESS_TOKEN = "bench-meta-access-token"
PHONE_NUMBER_ID = "100000000000311"
TURNS = ["hi", "theres a huge hole on elm st", "3", "no", "yes"]


class FakeGraph:
    """Meta's Graph API messages endpoint: records when each reply arrived, per recipient."""

    def __init__(self) -> None:
        self.arrived: dict[str, list[float]] = {}
        self.changed = threading.Condition()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                authorized = self.headers.get("Authorization") == f"Bearer {ACCESS_TOKEN}"
                self.send_response(200 if authorized else 401)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"messages": [{"id": "wamid.bench"}]}')
                if authorized and self.path.endswith(f"/{PHONE_NUMBER_ID}/messages"):
                    to = str(json.loads(body).get("to", ""))
                    with fake.changed:
                        fake.arrived.setdefault(to, []).append(time.perf_counter())
                        fake.changed.notify_all()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v21.0"

    def replies_after(self, to: str, count: int, *, within: float = 30.0) -> float:
        """When the reply number ``count`` to ``to`` arrived (waits for it)."""
        deadline = time.monotonic() + within
        with self.changed:
            while len(self.arrived.get(to, [])) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no reply {count} to {to}")
                self.changed.wait(left)
            return self.arrived[to][count - 1]

    def start(self) -> FakeGraph:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def fake_graph() -> Iterator[FakeGraph]:
    fake = FakeGraph().start()
    try:
        yield fake
    finally:
        fake.close()


def gateway_env(*, base_url: str, graph: FakeGraph) -> dict[str, str]:
    """The site's settings for both gateways (its environment)."""
    return {
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TWILIO_FROM_NUMBER": "+16175550000",
        "TWILIO_WEBHOOK_BASE_URL": base_url,
        "WHATSAPP_API_BASE_URL": graph.url,
        "WHATSAPP_ACCESS_TOKEN": ACCESS_TOKEN,
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "WHATSAPP_VERIFY_TOKEN": "bench-verify",
        "WHATSAPP_PHONE_NUMBER_ID": PHONE_NUMBER_ID,
    }


def _figures(times: list[float], failures: list[str], replies: int) -> dict[str, Any]:
    return {
        "messages": len(times),
        "replied": replies,
        "failures": failures[:10],
        "p50_ms": round(statistics.median(times), 1) if times else None,
        "p95_ms": round(percentile(times, 95), 1) if times else None,
        "max_ms": round(max(times), 1) if times else None,
    }


@dataclass(frozen=True)
class Turn:
    """One message of a conversation: how long it took (ms; None when it did not get that
    far), whether a reply came, and what went wrong (the conversation stops there)."""

    ms: float | None
    replied: bool = False
    failure: str | None = None


def conversations_run(
    *, conversations: int, first: int, turn: Callable[[httpx.Client, int, int, str], Turn]
) -> dict[str, Any]:
    """TURNS of each conversation ``first`` .. ``first + conversations - 1`` in order, each
    message sent and timed by ``turn(client, conversation, index, body)``."""
    times: list[float] = []
    failures: list[str] = []
    replies = 0
    with httpx.Client(timeout=30) as client:
        for n in range(first, first + conversations):
            for i, body in enumerate(TURNS):
                done = turn(client, n, i, body)
                if done.ms is not None:
                    times.append(done.ms)
                if done.failure is not None:
                    failures.append(done.failure)
                    break
                replies += done.replied
    return _figures(times, failures, replies)


def sms_run(*, base_url: str, conversations: int, first: int = 0) -> dict[str, Any]:
    """Each message posted as Twilio posts it; timed until the TwiML answer."""
    url = f"{base_url}/api/v1/chat/twilio"

    def turn(client: httpx.Client, n: int, i: int, body: str) -> Turn:
        params = {
            "MessageSid": f"SM{n:016d}{i:016d}",
            "AccountSid": ACCOUNT_SID,
            "From": f"+1617555{n:04d}",
            "To": "+16175550000",
            "Body": body,
            "NumMedia": "0",
        }
        signed = url + "".join(k + params[k] for k in sorted(params))
        digest = hmac.new(AUTH_TOKEN.encode(), signed.encode(), hashlib.sha1).digest()
        headers = {"X-Twilio-Signature": base64.b64encode(digest).decode()}
        start = time.perf_counter()
        response = client.post(url, data=params, headers=headers)
        ms = (time.perf_counter() - start) * 1000
        if response.status_code != 200 or "<Response" not in response.text:
            return Turn(ms, failure=f"sms: HTTP {response.status_code} {response.text[:200]}")
        return Turn(ms, replied="<Message>" in response.text)

    return conversations_run(conversations=conversations, first=first, turn=turn)


def whatsapp_run(
    *, base_url: str, graph: FakeGraph, conversations: int, first: int = 0
) -> dict[str, Any]:
    """Each message posted as Meta posts it; timed until the fake Graph API has the reply."""
    url = f"{base_url}/api/v1/chat/whatsapp"

    def turn(client: httpx.Client, n: int, i: int, body: str) -> Turn:
        wa_id = f"1617556{n:04d}"
        message = {
            "from": wa_id,
            "id": f"wamid.bench.{n}.{i}",
            "timestamp": str(int(time.time())),
            "type": "text",
            "text": {"body": body},
        }
        value = {
            "messaging_product": "whatsapp",
            "metadata": {"phone_number_id": PHONE_NUMBER_ID},
            "contacts": [{"wa_id": wa_id}],
            "messages": [message],
        }
        entry = {"id": "bench", "changes": [{"value": value, "field": "messages"}]}
        raw = json.dumps({"object": "whatsapp_business_account", "entry": [entry]})
        signature = hmac.new(APP_SECRET.encode(), raw.encode(), hashlib.sha256)
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": "sha256=" + signature.hexdigest(),
        }
        before = len(graph.arrived.get(wa_id, []))
        start = time.perf_counter()
        response = client.post(url, content=raw, headers=headers)
        if response.status_code != 200:
            return Turn(
                None, failure=f"whatsapp: HTTP {response.status_code} {response.text[:200]}"
            )
        try:
            arrived = graph.replies_after(wa_id, before + 1)
        except TimeoutError as exc:
            return Turn(None, failure=f"whatsapp: {exc}")
        return Turn((arrived - start) * 1000, replied=True)

    return conversations_run(conversations=conversations, first=first, turn=turn)
