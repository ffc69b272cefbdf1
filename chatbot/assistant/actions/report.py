"""Reporting a problem: the report form (its questions, checks and the service's required
attributes), the review (a likely duplicate nearby, then a summary) and filing on "yes"."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend import BackendRejected, BackendUnavailable, client, web_form_url
from actions.base import Reply, ask_again
from actions.fallback import fallback_events
from actions.slots import (
    intent,
    language,
    normalized,
    report_reset,
    shared_location,
)
from actions.texts import rejection_reasons, service_notice, text

SERVICE_CODES = (
    "pothole",
    "streetlight",
    "graffiti",
    "illegal_dumping",
    "abandoned_vehicle",
    "missed_collection",
    "sidewalk_damage",
    "tree_hazard",
    "traffic_signal",
    "water_leak",
    "rodents",
    "dead_animal",
)
# Words residents use for a service when the form asks "what kind of problem?" and the
# answer was not understood as a report (the NLU handles whole sentences).
SERVICE_WORDS: dict[str, tuple[str, ...]] = {
    "pothole": ("pothole", "hole", "bache", "hoyo", "o ga", "o voi"),
    "streetlight": ("light", "lamp", "luz", "farola", "alumbrado", "poste", "den duong"),
    "graffiti": ("graffiti", "grafiti", "tag", "pintas", "spray", "ve bay", "son"),
    "illegal_dumping": ("dump", "dumping", "tiradero", "tiraron", "basura tirada", "do rac"),
    "abandoned_vehicle": ("car", "vehicle", "carro", "coche", "auto", "vehiculo", "xe bo"),
    "missed_collection": (
        *("trash", "garbage", "recycling", "pickup", "recoger", "reciclaje"),
        *("lay rac", "thu gom"),
    ),
    "sidewalk_damage": ("sidewalk", "banqueta", "acera", "vereda", "via he", "le duong"),
    "tree_hazard": ("tree", "branch", "arbol", "rama", "cay", "canh cay"),
    "traffic_signal": ("signal", "traffic", "semaforo", "stoplight", "den giao thong"),
    "water_leak": ("water", "leak", "hydrant", "agua", "fuga", "hidrante", "nuoc", "ong nuoc"),
    "rodents": (
        *("rat", "rats", "mice", "rodent", "rata", "ratas", "raton", "ratones"),
        "chuot",
    ),
    "dead_animal": ("dead", "roadkill", "muerto", "muerta", "chet", "xac"),
}
# "elm st", "5th ave", "main street", "calle juarez", "avenida reforma": a place named in
# the first message is offered as the location (the summary lets the resident correct it).
ADDRESS = re.compile(
    r"\b(?:\d+\s+)?(?:[a-z0-9]+\s+){1,3}(?:st|street|ave|avenue|rd|road|blvd|dr|drive|ln|lane|"
    r"way|ct|court|pl|place|hwy|highway)\b(?:\s+(?:and|&|at)\s+(?:[a-z0-9]+\s?){1,3})?"
    r"|\b(?:calle|avenida|av|calzada|boulevard|esquina de)\s+(?:[a-z0-9]+\s?){1,3}",
)
# "đường Lê Lợi", "duong Tran Hung Dao", "hẻm 51 Nguyễn Trãi": in Vietnamese the word for a
# street also means "the road" ("o ga tren duong"), so only a name written with capitals (or
# an alley's number) counts; read on the message as written, folded afterwards.
STREET_VI = re.compile(r"\b(?:[Đđ]ường|[Dd]uong|[Pp]hố|[Pp]ho|[Hh]ẻm|[Hh]em)\s+(.+)")
LEADING_WORDS = {"on", "at", "in", "near", "behind", "by", "the", "of", "front", "outside"}
# A very short message ("report dumping", "báo ổ gà") that the classifier was unsure of, and
# that names a problem or asks to report one, is asked which service instead of falling back.
SHORT_WORDS = 4
REPORT_WORDS = {"report", "reporting", "reportar", "reporte", "queja", "bao", "phan anh"}
NUMBER = re.compile(r"^-?\d+(?:[.,]\d+)?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NO_CONTACT = {
    *("no", "nope", "nah", "no thanks", "no thank you", "none", "skip", "no gracias"),
    *("khong", "ko", "k", "khong can", "khong cam on", "thoi"),
}
YES_WORDS = {"yes", "y", "yeah", "yep", "si", "sip", "claro", "co", "u", "da", "vang", "dung"}
NO_WORDS = {"no", "n", "nope", "nah", "nel", "khong", "ko", "k"}
SIZE_WORDS = {
    "large": ("big", "huge", "large", "grande", "enorme", "to", "lon", "bu"),
    "small": ("small", "little", "tiny", "chico", "pequeno", "nho"),
    "medium": ("medium", "mediano", "regular", "vua", "trung binh"),
}


def service_names(*, language_code: str) -> dict[str, str]:
    try:
        services = client().services(language=language_code)
    except BackendUnavailable:
        services = []
    names = {s["service_code"]: s["service_name"] for s in services if "service_code" in s}
    return {code: names.get(code, code.replace("_", " ")) for code in SERVICE_CODES}


def service_from_words(value: Any) -> str | None:
    words = f" {normalized(value)} "
    for code, keywords in SERVICE_WORDS.items():
        if any(f" {k} " in words or f" {k}s " in words for k in keywords):
            return code
    return None


def street_in(message: str) -> str | None:
    """The street a message names ("theres a huge hole on elm st" → "elm st"), if any."""
    for found in STREET_VI.finditer(message):
        name: list[str] = []
        for word in re.split(r"[\s,.;!?]+", found[1]):
            if not word or not (word[0].isupper() or (word.isdigit() and not name)):
                break
            name.append(word)
        if any(not w.isdigit() for w in name):
            return found[0][: found[0].index(found[1])] + " ".join(name)
    match = ADDRESS.search(normalized(message))
    if match is None:
        return None
    words = match[0].split()
    # "hole on elm st": the street starts after the last preposition.
    cut = max((i for i, w in enumerate(words) if w in LEADING_WORDS), default=-1)
    words = words[cut + 1 :]
    return " ".join(words) if len(words) >= 2 else None


def service_guesses(tracker: Tracker) -> list[str]:
    """The services a short message may mean: one its words name, then the report intents
    the classifier ranked highest (a guess it was not sure enough of)."""
    message = tracker.latest_message or {}
    guesses: list[str] = []
    named = service_from_words(message.get("text"))
    if named:
        guesses.append(named)
    for ranked in message.get("intent_ranking") or []:
        code = str(ranked.get("name") or "").removeprefix("report_")
        if (
            code in SERVICE_CODES
            and code not in guesses
            and float(ranked.get("confidence") or 0) >= 0.1
        ):
            guesses.append(code)
    return guesses[:3]


def problem_choice(
    dispatcher: CollectingDispatcher, tracker: Tracker, *, named_only: bool = False
) -> list[EventType] | None:
    """Instead of "not understood": a very short message that names a problem or asks to
    report one gets the question "which service?" with buttons — the likely services and
    "something else" (the report form then lists them all) — or None. ``named_only``: only
    when its words name a service (a "cancel my report" is no problem named)."""
    said = str((tracker.latest_message or {}).get("text") or "")
    words = normalized(said).split()
    if not words or len(words) > SHORT_WORDS or said.startswith("/"):
        return None
    padded = f" {' '.join(words)} "
    guesses = service_guesses(tracker)
    asks_to_report = not named_only and any(f" {w} " in padded for w in REPORT_WORDS)
    if service_from_words(said) is None and not asks_to_report:
        return None
    lang = language(tracker)
    names = service_names(language_code=lang)
    buttons = [{"title": names[code], "payload": f"/report_{code}"} for code in guesses]
    buttons.append({"title": text("other_service", lang), "payload": "/report_problem"})
    dispatcher.utter_message(text=text("which_service", lang), buttons=buttons)
    return []


def report_pending(tracker: Tracker) -> bool:
    """A report is being made or waits for its yes or no."""
    started = ("service", "location", "description", "review_step")
    return bool(tracker.active_loop_name) or any(tracker.get_slot(s) for s in started)


def required_attributes(*, service_code: str, language_code: str) -> list[dict[str, Any]]:
    try:
        definition = client().service_definition(service_code=service_code, language=language_code)
    except BackendUnavailable:
        return []
    attributes = (definition or {}).get("attributes") or []
    wanted = [a for a in attributes if a.get("required") and a.get("variable", True)]
    return sorted(wanted, key=lambda a: a.get("order") or 0)


def pending_attribute(tracker: Tracker) -> dict[str, Any] | None:
    service = tracker.get_slot("service")
    if not service:
        return None
    answers = tracker.get_slot("attributes") or {}
    for attribute in required_attributes(service_code=service, language_code=language(tracker)):
        if attribute["code"] not in answers:
            return attribute
    return None


def attribute_parse(attribute: dict[str, Any], answer: Any) -> Any:
    """The value to send for the answer, or None when it does not fit the attribute."""
    datatype = attribute.get("datatype")
    said = normalized(answer)
    if not said:
        return None
    if datatype == "number":
        return said.replace(",", ".") if NUMBER.match(said) else None
    if datatype in ("string", "text", "datetime"):
        return str(answer).strip()[:200]
    values = attribute.get("values") or []
    found: list[str] = []
    for value in values:
        key, name = str(value.get("key")), normalized(value.get("name"))
        options = {normalized(key), normalized(key.replace("_", " ")), name}
        if key == "yes":
            options |= YES_WORDS
        if key == "no":
            options |= NO_WORDS
        options |= set(SIZE_WORDS.get(key, ()))
        if said in options:
            return [key] if datatype == "multivaluelist" else key
        padded = f" {said} "
        if any(f" {o} " in padded for o in options if len(o) > 2):
            found.append(key)
    if datatype == "multivaluelist":
        return found or None
    return found[0] if len(found) == 1 else None


def value_name(attribute: dict[str, Any], value: Any) -> str:
    names = {str(v.get("key")): str(v.get("name")) for v in attribute.get("values") or []}
    if isinstance(value, list):
        return ", ".join(names.get(str(v), str(v)) for v in value)
    return names.get(str(value), str(value))


class ValidateReportForm(FormValidationAction):
    def name(self) -> str:
        return "validate_report_form"

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        slots = ["service", "location", "description", "contact"]
        if tracker.get_slot("lat") is not None and not tracker.get_slot("location"):
            slots.remove("location")
        if pending_attribute(tracker) is not None:
            slots.insert(slots.index("contact"), "attribute_answer")
        return slots

    async def extract_location(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """At the start of a report: a street named in the first message."""
        if tracker.get_slot("location") or tracker.get_slot("requested_slot"):
            return {}
        if not intent(tracker).startswith("report_"):
            return {}
        location = street_in(str((tracker.latest_message or {}).get("text") or ""))
        if location is None:
            return {}
        # Said back, so the resident knows it was taken (the summary lets them change it).
        dispatcher.utter_message(text=text("location_taken", language(tracker), location=location))
        return {"location": location}

    async def extract_description(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """At the start of a report: the resident's own first sentence, when it says more
        than the kind of problem."""
        if tracker.get_slot("description") or tracker.get_slot("requested_slot"):
            return {}
        name = intent(tracker)
        said = str((tracker.latest_message or {}).get("text") or "").strip()
        if name.startswith("report_") and name != "report_problem" and len(said.split()) >= 4:
            return {"description": said[:4000]}
        return {}

    def validate_service(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = value if value in SERVICE_CODES else service_from_words(value)
        if code is None:
            return ask_again(dispatcher, tracker, "service", "service_unknown")
        events: dict[str, Any] = {"service": code}
        if code != tracker.get_slot("service"):
            events["attributes"] = {}
        return events

    def validate_location(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        shared = shared_location(tracker)
        if shared is not None:
            return {"location": "", "lat": shared[0], "long": shared[1]}
        said = str(value or "").strip()
        vague = normalized(said) in {
            *("i dont know", "idk", "no se", "no lo se"),
            *("khong biet", "ko biet", "ko bit"),
        }
        if len(said) < 4 or vague or said.startswith("/"):
            return ask_again(dispatcher, tracker, "location", "location_too_short")
        return {"location": said[:300]}

    def validate_description(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        said = str(value or "").strip()
        if len(said) < 3:
            return ask_again(dispatcher, tracker, "description", "description_too_short")
        return {"description": said[:4000]}

    def validate_attribute_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        attribute = pending_attribute(tracker)
        if attribute is None:
            return {"attribute_answer": None}
        parsed = attribute_parse(attribute, value)
        if parsed is None:
            number = attribute.get("datatype") == "number"
            key = "attribute_number" if number else "attribute_invalid"
            return ask_again(dispatcher, tracker, "attribute_answer", key)
        answers = dict(tracker.get_slot("attributes") or {})
        answers[attribute["code"]] = parsed
        # Emptied again so the form asks the next required attribute, if any.
        return {"attributes": answers, "attribute_answer": None}

    def validate_contact(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        said = str(value or "").strip()
        if intent(tracker) == "deny" or normalized(said) in NO_CONTACT:
            return {"contact": "-"}
        if EMAIL.match(said):
            return {"contact": said[:254]}
        digits = re.sub(r"[\s().+-]", "", said)
        if digits.isdigit() and 7 <= len(digits) <= 15:
            return {"contact": said[:40]}
        return ask_again(dispatcher, tracker, "contact", "contact_invalid")


class ActionAskService(Reply):
    action_name = "action_ask_service"

    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        lang = language(tracker)
        buttons = [
            {"title": name, "payload": f"/report_{code}"}
            for code, name in service_names(language_code=lang).items()
        ]
        dispatcher.utter_message(text=text("ask_service", lang), buttons=buttons)
        return []


class ActionAskAttributeAnswer(Reply):
    action_name = "action_ask_attribute_answer"

    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        attribute = pending_attribute(tracker)
        if attribute is None:
            return []
        buttons = [
            {"title": str(v.get("name")), "payload": str(v.get("key"))}
            for v in attribute.get("values") or []
        ]
        dispatcher.utter_message(text=str(attribute.get("description")), buttons=buttons or None)
        return []


def _summary(tracker: Tracker) -> str:
    lang = language(tracker)
    service = tracker.get_slot("service")
    name = service_names(language_code=lang).get(service, str(service))
    location = tracker.get_slot("location") or ""
    lat, long = tracker.get_slot("lat"), tracker.get_slot("long")
    if not location and lat is not None and long is not None:
        location = text("location_shared", lang, lat=lat, long=long)
    answers = tracker.get_slot("attributes") or {}
    details = ""
    if answers and service:
        for attribute in required_attributes(service_code=service, language_code=lang):
            if attribute["code"] in answers:
                label = str(attribute.get("description", attribute["code"])).strip("¿?")
                details += f"\n• {label}: {value_name(attribute, answers[attribute['code']])}"
    contact = tracker.get_slot("contact")
    given = contact not in (None, "-")
    return text(
        "summary",
        lang,
        service=name,
        location=location,
        description=tracker.get_slot("description") or "",
        details=details,
        photo=text("summary_photo", lang) if tracker.get_slot("photo") else "",
        contact=text("summary_contact", lang, contact=contact) if given else "",
    )


def _summary_events(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    lang = language(tracker)
    dispatcher.utter_message(
        text=_summary(tracker),
        buttons=[
            {"title": text("yes", lang), "payload": "/affirm"},
            {"title": text("no", lang), "payload": "/deny"},
        ],
    )
    return [SlotSet("review_step", "summary"), SlotSet("duplicate_id", None)]


class ActionReviewReport(Reply):
    """After the form: a likely duplicate nearby is offered first, then the summary."""

    action_name = "action_review_report"

    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        lang = language(tracker)
        service, lat, long = (tracker.get_slot(s) for s in ("service", "lat", "long"))
        nearby: list[dict[str, Any]] = []
        if service and lat is not None and long is not None:
            try:
                nearby = client().nearby(service_code=service, lat=lat, long=long, language=lang)
            except BackendUnavailable:
                nearby = []  # no duplicate check then; filing will say if the city is away
        if not nearby:
            return _summary_events(dispatcher, tracker)
        first = nearby[0]
        status = text("status_open" if first.get("status") != "closed" else "status_closed", lang)
        dispatcher.utter_message(
            text=text(
                "duplicate",
                lang,
                service=service_names(language_code=lang).get(service, service),
                distance=round(float(first.get("distance_m") or 0)),
                id=first["service_request_id"],
                status=status,
                date=str(first.get("requested_at") or "")[:10],
            ),
            buttons=[
                {"title": text("yes_follow", lang), "payload": "/affirm"},
                {"title": text("no_new", lang), "payload": "/deny"},
            ],
        )
        return [
            SlotSet("review_step", "duplicate"),
            SlotSet("duplicate_id", first["service_request_id"]),
        ]


class ActionReviewAnswer(Reply):
    """A yes or a no: to the duplicate offer, to the summary, or to nothing pending."""

    action_name = "action_review_answer"

    def reply(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        lang = language(tracker)
        step = tracker.get_slot("review_step")
        yes = intent(tracker) == "affirm"
        if step == "duplicate":
            if not yes:
                return _summary_events(dispatcher, tracker)
            duplicate = str(tracker.get_slot("duplicate_id"))
            dispatcher.utter_message(text=text("followed", lang, id=duplicate))
            # The Django relay follows it for a signed-in resident (chatbot/services.py).
            dispatcher.utter_message(json_message={"city311": {"follow": duplicate}})
            return report_reset()
        if step == "summary":
            if not yes:
                dispatcher.utter_message(text=text("not_filed", lang))
                return report_reset()
            return self._file(dispatcher, tracker, lang)
        # A yes or a no to nothing: not understood (a short unknown word often looks like
        # one to the classifier), so it counts towards "not understood twice" — unless it
        # names a problem ("dumping"): then which service.
        chosen = problem_choice(dispatcher, tracker, named_only=True)
        return chosen if chosen is not None else fallback_events(dispatcher, tracker)

    def _file(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, lang: str
    ) -> list[EventType]:
        contact = tracker.get_slot("contact") or "-"
        email = contact if "@" in contact else ""
        phone = contact if contact != "-" and not email else ""
        try:
            filed = client().file(
                service_code=str(tracker.get_slot("service")),
                description=str(tracker.get_slot("description") or ""),
                language=lang,
                address=str(tracker.get_slot("location") or ""),
                lat=tracker.get_slot("lat"),
                long=tracker.get_slot("long"),
                attributes=tracker.get_slot("attributes") or {},
                email=email,
                phone=phone,
            )
        except BackendUnavailable:
            dispatcher.utter_message(text=text("backend_down", lang, url=web_form_url()))
            return []
        except BackendRejected as exc:
            errors = rejection_reasons(exc.messages, lang)
            dispatcher.utter_message(text=text("rejected", lang, errors=errors, url=web_form_url()))
            return report_reset()
        notice = service_notice(filed.notice, lang)
        answer = text("filed", lang, id=filed.service_request_id, notice=notice)
        dispatcher.utter_message(text=answer.replace("  ", " "))
        payload: dict[str, Any] = {"filed": filed.service_request_id}
        if tracker.get_slot("photo"):
            # The Django relay attaches the photo the widget uploaded (chatbot/services.py).
            payload["photo"] = tracker.get_slot("photo")
        dispatcher.utter_message(json_message={"city311": payload})
        return report_reset()
