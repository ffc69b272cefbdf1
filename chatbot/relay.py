"""Rasa's REST channel (``POST /webhooks/rest/webhook``) as Django sees it: one call per
resident message, sender = the conversation's id. Short timeouts; Rasa on loopback only."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import httpx
from django.conf import settings


class AssistantUnavailable(Exception):
    """Rasa did not answer (not running, timed out, or an error)."""


@lru_cache(maxsize=1)
def _client() -> httpx.Client:
    """One pooled client per process (thread-safe): a new one per message would build an
    SSL context and a connection every time."""
    return httpx.Client()


def rasa_send(*, sender: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
    """The assistant's answers: ``[{"recipient_id", "text"?, "buttons"?, "custom"?}]``."""
    url = settings.CHATBOT_RASA_URL.rstrip("/") + "/webhooks/rest/webhook"
    timeout = httpx.Timeout(settings.CHATBOT_RASA_TIMEOUT_SECONDS, connect=2.0)
    try:
        response = _client().post(
            url, json={"sender": sender, "message": text, "metadata": metadata}, timeout=timeout
        )
    except httpx.HTTPError as exc:
        raise AssistantUnavailable(f"{type(exc).__name__}: {exc}") from exc
    if response.status_code != 200:
        raise AssistantUnavailable(f"HTTP {response.status_code}")
    try:
        messages = response.json()
    except ValueError as exc:
        raise AssistantUnavailable("The answer was not JSON.") from exc
    if not isinstance(messages, list):
        raise AssistantUnavailable("The answer was not a list of messages.")
    return [m for m in messages if isinstance(m, dict)]
