"""What the actions' tests share: a tracker as Rasa hands one to an action after a message,
and running an action on it."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher


def tracker(
    *,
    slots: dict[str, Any] | None = None,
    text: str = "",
    language: str = "en",
    intent: str = "inform",
    metadata: dict[str, Any] | None = None,
    active_loop: str | None = None,
) -> Tracker:
    return Tracker(
        sender_id="conversation-1",
        slots={"language": language, **(slots or {})},
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 0.9},
            "intent_ranking": [],
            "entities": [],
            "metadata": metadata or {},
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": active_loop} if active_loop else {},
        latest_action_name="action_listen",
    )


def run(action: Any, t: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The messages the action says and the events it returns."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, t, {}))
    return dispatcher.messages, events
