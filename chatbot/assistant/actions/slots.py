"""Reading what the widget sends (message metadata) and what the conversation holds."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.texts import language_of

REPORT_SLOTS = (
    "service",
    "location",
    "description",
    "attribute_answer",
    "attributes",
    "contact",
    "review_step",
    "duplicate_id",
    "photo",
    "lat",
    "long",
)
REQUEST_ID = re.compile(r"\b[Ss][Rr][-\s]?(\d{4})[-\s]?(\d{6})\b")
PHOTO_REF = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def language(tracker: Tracker) -> str:
    return language_of(tracker.get_slot("language"))


def metadata(tracker: Tracker) -> dict[str, Any]:
    found = (tracker.latest_message or {}).get("metadata") or {}
    return found if isinstance(found, dict) else {}


def shared_location(tracker: Tracker) -> tuple[float, float] | None:
    """``metadata.location = {"lat": .., "long": ..}`` from the widget's "share my location"."""
    location = metadata(tracker).get("location")
    if not isinstance(location, dict):
        return None
    try:
        lat, long = float(location["lat"]), float(location["long"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= long <= 180):
        return None
    return lat, long


def photo_reference(tracker: Tracker) -> str | None:
    """``metadata.photo``: the reference of a photo the widget uploaded to the backend."""
    photo = metadata(tracker).get("photo")
    return photo if isinstance(photo, str) and PHOTO_REF.match(photo) else None


def request_id_find(value: Any) -> str | None:
    match = REQUEST_ID.search(str(value or ""))
    return f"SR-{match[1]}-{match[2]}" if match else None


def intent(tracker: Tracker) -> str:
    return str(((tracker.latest_message or {}).get("intent") or {}).get("name") or "")


def normalized(value: Any) -> str:
    """Lower case, accents and punctuation gone, single spaces: for matching answers."""
    decomposed = unicodedata.normalize("NFKD", str(value or "").lower().replace("đ", "d"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w@.+]+", " ", plain).split())


def report_reset() -> list[EventType]:
    return [SlotSet(name, None) for name in REPORT_SLOTS]
