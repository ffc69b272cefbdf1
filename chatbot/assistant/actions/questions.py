"""Questions answered from data, not only reports: how long a kind of problem takes (the
catalog's turnaround, from the mobile API's public ``services``), what happens next (the
department in charge, a crew, the expected time), the status of the resident's own requests
(``ActionCheckStatus`` in actions/conversation.py, from the ids Django sends), and the call
centre's hours (``/api/v1/chat/hours``); "talk to a person" too (``ActionHumanHandoff``).

Django sends with each message, as metadata, what only it knows: ``requests`` (the public ids
of the requests this resident filed: in this conversation, from this account or this phone
number, newest first) and ``channel`` (the conversation's source)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.backend import client, web_form_url
from actions.base import CityReply
from actions.slots import language, metadata, normalized, request_id_find
from actions.texts import text

# Words residents use for each service besides the catalog's names and keywords (accents
# folded, as ``normalized`` leaves them): English, Spanish, Vietnamese.
SERVICE_WORDS: dict[str, tuple[str, ...]] = {
    "pothole": ("pothole", "potholes", "hole", "bache", "baches", "hoyo", "o ga"),
    "streetlight": (
        "streetlight",
        "streetlights",
        "street light",
        "light out",
        "lamp",
        "lampara",
        "luminaria",
        "farola",
        "den duong",
    ),
    "graffiti": ("graffiti", "grafiti", "tag", "tags", "pintas", "ve bay", "hinh ve bay"),
    "illegal_dumping": (
        "dumping",
        "dumped",
        "basura tirada",
        "tiradero",
        "do trom",
        "rac do trom",
    ),
    "abandoned_vehicle": (
        "abandoned car",
        "abandoned vehicle",
        "carro abandonado",
        "auto abandonado",
        "xe bo hoang",
    ),
    "missed_collection": (
        "missed trash",
        "missed collection",
        "trash pickup",
        "garbage pickup",
        "recoleccion",
        "basura que no pasaron",
        "thu gom",
    ),
    "sidewalk_damage": ("sidewalk", "sidewalks", "banqueta", "acera", "via he", "le duong"),
    "tree_hazard": ("tree", "fallen tree", "arbol", "cay do", "cay"),
    "traffic_signal": (
        "traffic light",
        "traffic signal",
        "semaforo",
        "den giao thong",
    ),
    "water_leak": ("water leak", "leak", "fuga", "fuga de agua", "ro ri nuoc", "ro ri"),
    "rodents": ("rat", "rats", "rodents", "mice", "ratas", "raton", "chuot"),
    "dead_animal": (
        "dead animal",
        "dead deer",
        "roadkill",
        "dead",
        "animal muerto",
        "xac dong vat",
    ),
}


def service_find(said: Any, catalog: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The catalog service the message names (its name, its keywords or a resident's word
    for it); the longest match wins ("traffic light" over "light out")."""
    words = f" {normalized(said)} "
    best: tuple[int, dict[str, Any]] | None = None
    for service in catalog:
        phrases = [service.get("name") or "", *(service.get("keywords") or [])]
        phrases += list(SERVICE_WORDS.get(str(service.get("service_code")), ()))
        for phrase in phrases:
            folded = normalized(phrase)
            if folded and f" {folded} " in words and (best is None or len(folded) > best[0]):
                best = (len(folded), service)
    return best[1] if best else None


def duration(hours: Any, business: Any, lang: str) -> str:
    """A turnaround in words: whole days when it is a calendar multiple of 24 hours."""
    n = int(hours or 0)
    if business:
        return text("duration_business_hours", lang, n=n)
    if n >= 48 and n % 24 == 0:
        return text("duration_days", lang, n=n // 24)
    return text("duration_hours", lang, n=n)


def _turnaround(service: dict[str, Any], lang: str) -> str:
    return duration(
        service.get("expected_turnaround_hours"),
        service.get("turnaround_in_business_hours"),
        lang,
    )


def _service_meant(
    named: dict[str, Any] | None, catalog: list[dict[str, Any]], tracker: Tracker
) -> dict[str, Any] | None:
    """The service named in the message, else the one of the report under way."""
    code = tracker.get_slot("service")
    if named is None and code:
        return next((s for s in catalog if s.get("service_code") == code), None)
    return named


def _service_words(service: dict[str, Any], lang: str) -> dict[str, Any]:
    """A service's name, department and turnaround for the texts that answer about it."""
    return {
        "service": service.get("name") or service.get("service_code"),
        "department": service.get("department") or "",
        "duration": _turnaround(service, lang),
    }


def own_requests(tracker: Tracker) -> list[str]:
    """The ids Django says this resident filed (metadata ``requests``), newest first."""
    found = metadata(tracker).get("requests")
    if not isinstance(found, list):
        return []
    ids = [request_id_find(value) for value in found]
    return [value for value in ids if value][:3]


class ActionAnswerTurnaround(CityReply):
    """ "How long does a pothole take?": the catalog's turnaround of the service named in the
    message (or of the report under way)."""

    action_name = "action_answer_turnaround"

    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        lang = language(tracker)
        catalog = client().catalog(language=lang)
        said = (tracker.latest_message or {}).get("text")
        service = _service_meant(service_find(said, catalog), catalog, tracker)
        if service is None:
            dispatcher.utter_message(text=text("turnaround_which", lang))
            return []
        dispatcher.utter_message(text=text("turnaround", lang, **_service_words(service, lang)))
        return []


class ActionAnswerNextSteps(CityReply):
    """ "What happens next?": for the resident's latest request, its department and expected
    date; for a service named (or being reported), its department and turnaround; else the
    steps in general."""

    action_name = "action_answer_next_steps"

    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        lang = language(tracker)
        said = (tracker.latest_message or {}).get("text")
        catalog = client().catalog(language=lang)
        service = service_find(said, catalog)
        mine = own_requests(tracker)
        if service is None and mine:
            found = client().request_status(service_request_id=mine[0], language=lang)
            if found is not None:
                dispatcher.utter_message(text=_request_steps(mine[0], found, catalog, lang))
                return []
        service = _service_meant(service, catalog, tracker)
        if service is None:
            dispatcher.utter_message(text=text("next_steps", lang))
            return []
        dispatcher.utter_message(
            text=text("next_steps_service", lang, **_service_words(service, lang))
        )
        return []


def _request_steps(
    request_id: str, found: dict[str, Any], catalog: list[dict[str, Any]], lang: str
) -> str:
    code = found.get("service_code")
    service = next((s for s in catalog if s.get("service_code") == code), {})
    department = found.get("agency_responsible") or service.get("department") or ""
    if found.get("status") == "closed":
        expected = text("expected_closed", lang)
    elif found.get("expected_datetime"):
        expected = text("expected_by", lang, date=str(found["expected_datetime"])[:10])
    elif service:
        expected = text("expected_within", lang, duration=_turnaround(service, lang))
    else:
        expected = ""
    said = text(
        "next_steps_request",
        lang,
        id=request_id,
        service=found.get("service_name") or service.get("name") or code or "",
        department=department,
        expected=expected,
    )
    return re.sub(r" {2,}", " ", said)


# --- The call centre's hours


def _clock(value: str) -> str:
    return value[:5]


def schedule(hours: list[dict[str, Any]], lang: str) -> str:
    """The weekly hours in few words: days with the same hours run together
    ("Mon-Fri 08:00-17:00, Sat 09:00-12:00")."""
    names = text("weekdays", lang).split(",")
    by_day: dict[int, list[str]] = {}
    for row in hours:
        day = int(row["weekday"])
        by_day.setdefault(day, []).append(f"{_clock(row['opens'])}-{_clock(row['closes'])}")
    parts: list[str] = []
    day = 0
    while day < 7:
        if day not in by_day:
            day += 1
            continue
        end = day
        while end + 1 < 7 and by_day.get(end + 1) == by_day[day]:
            end += 1
        days = names[day] if end == day else f"{names[day]}-{names[end]}"
        parts.append(f"{days} {', '.join(by_day[day])}")
        day = end + 1
    return "; ".join(parts)


def when_words(moment: datetime, now: datetime, lang: str) -> str:
    """ "today", "tomorrow" or "on Monday" (the call centre's local days)."""
    days = (moment.date() - now.astimezone(moment.tzinfo).date()).days
    if days <= 0:
        return text("today", lang)
    if days == 1:
        return text("tomorrow", lang)
    return text("weekdays_on", lang).split(",")[moment.weekday()]


def _next_open(hours: dict[str, Any]) -> datetime | None:
    try:
        return datetime.fromisoformat(str(hours.get("next_open")))
    except ValueError:
        return None


class ActionAnswerHours(CityReply):
    action_name = "action_answer_hours"

    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        lang = language(tracker)
        hours = client().hours(language=lang)
        dispatcher.utter_message(text=hours_text(hours, lang, now=datetime.now().astimezone()))
        return []


def hours_text(hours: dict[str, Any], lang: str, *, now: datetime) -> str:
    weekly = hours.get("hours") or []
    if not weekly:
        return text("hours_none", lang, url=web_form_url())
    if hours.get("open_now") and hours.get("closes_at"):
        closes = datetime.fromisoformat(str(hours["closes_at"]))
        current = text("hours_open_now", lang, time=f"{closes:%H:%M}")
    else:
        opens = _next_open(hours)
        current = (
            text(
                "hours_closed_now",
                lang,
                when=when_words(opens, now, lang),
                time=f"{opens:%H:%M}",
            )
            if opens
            else ""
        )
    zone = re.sub(r"^.*/", "", str(hours.get("time_zone") or "")).replace("_", " ")
    return text("hours", lang, schedule=schedule(weekly, lang), zone=zone, now=current).strip()
