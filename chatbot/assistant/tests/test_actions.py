"""The assistant's actions with city311 faked at its HTTP boundary (``responses``): what
they ask the backend, what they say, and which slots they set."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses
from actions import backend
from actions.conversation import (
    ActionCancelReport,
    ActionCheckStatus,
    ActionFallback,
    ActionReadMetadata,
    ValidateStatusForm,
)
from actions.report import (
    ActionAskAttributeAnswer,
    ActionReviewAnswer,
    ActionReviewReport,
    ValidateReportForm,
    attribute_parse,
)
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from tests.conversation import run, tracker

BASE = "http://city.test"
POTHOLE = {
    "service_code": "pothole",
    "attributes": [
        {
            "code": "size",
            "variable": True,
            "datatype": "singlevaluelist",
            "required": True,
            "order": 1,
            "description": "About how big is it?",
            "values": [
                {"key": "small", "name": "Smaller than a dinner plate"},
                {"key": "medium", "name": "Up to a car tyre"},
                {"key": "large", "name": "Bigger than a car tyre"},
            ],
        },
        {
            "code": "lane",
            "variable": True,
            "datatype": "singlevaluelist",
            "required": False,
            "order": 2,
            "description": "Where on the street is it?",
            "values": [{"key": "bike_lane", "name": "In a bike lane"}],
        },
    ],
}
DUMPING_ITEMS = {
    "code": "items",
    "datatype": "multivaluelist",
    "required": True,
    "values": [
        {"key": "furniture", "name": "Furniture"},
        {"key": "bags", "name": "Bags of rubbish"},
        {"key": "tyres", "name": "Tyres"},
    ],
}
SERVICES = [
    {"service_code": "pothole", "service_name": "Pothole"},
    {"service_code": "streetlight", "service_name": "Streetlight out"},
]


@pytest.fixture(autouse=True)
def city(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A fresh client (empty cache) pointed at the fake city, with a known API key."""
    monkeypatch.setenv("CHATBOT_BACKEND_URL", BASE)
    monkeypatch.setenv("CHATBOT_API_KEY", "chat-test-key")
    monkeypatch.setenv("CHATBOT_WEB_FORM_URL", "https://city.test/report")
    monkeypatch.setattr(backend, "_client", None)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as fake:
        fake.get(f"{BASE}/open311/v2/services.json", json=SERVICES)
        fake.get(f"{BASE}/open311/v2/services/pothole.json", json=POTHOLE)
        yield fake


def slots_of(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


REPORT = {
    "service": "pothole",
    "location": "elm st",
    "description": "theres a huge hole on elm st",
    "attributes": {"size": "large"},
    "contact": "jane@example.com",
    "photo": "photo-ref-123",
}


# --- Metadata, not understanding


def test_read_metadata_takes_language_photo_and_shared_location() -> None:
    messages, events = run(
        ActionReadMetadata(),
        tracker(
            intent="greet",
            slots={"language": None, "fallback_count": 1},
            metadata={
                "language": "es-MX",
                "photo": "AbCdEf123456",
                "location": {"lat": 42.36, "long": -71.06},
            },
        ),
    )
    assert messages == []
    assert slots_of(events) == {
        "language": "es",
        "photo": "AbCdEf123456",
        "lat": 42.36,
        "long": -71.06,
        "fallback_count": 0,
    }


def test_a_new_report_forgets_the_one_waiting_for_its_yes() -> None:
    t = tracker(
        intent="report_streetlight",
        slots={**REPORT, "review_step": "summary"},
        metadata={"location": {"lat": 42.36, "long": -71.06}},
    )
    _, events = run(ActionReadMetadata(), t)
    slots = [(e["name"], e["value"]) for e in events if e.get("event") == "slot"]
    assert ("description", None) in slots
    assert ("review_step", None) in slots
    assert slots[-2:] == [("lat", 42.36), ("long", -71.06)]  # this message's location wins
    in_form = tracker(intent="report_streetlight", slots=REPORT, active_loop="report_form")
    assert slots_of(run(ActionReadMetadata(), in_form)[1]) == {}


def test_read_metadata_ignores_bad_values() -> None:
    _, events = run(
        ActionReadMetadata(),
        tracker(metadata={"photo": "../../etc/passwd", "location": {"lat": 200, "long": 0}}),
    )
    assert slots_of(events) == {}


def test_fallback_twice_apologises_and_offers_a_person_and_the_web_form() -> None:
    first, events = run(ActionFallback(), tracker(intent="nlu_fallback"))
    assert "didn't understand" in first[0]["text"]
    assert slots_of(events) == {"fallback_count": 1}
    second, events = run(
        ActionFallback(), tracker(intent="nlu_fallback", slots={"fallback_count": 1})
    )
    assert "sorry" in second[0]["text"].lower()
    assert "https://city.test/report" in second[0]["text"]
    assert second[0]["buttons"] == [{"title": "Talk to a person", "payload": "/ask_human"}]
    assert slots_of(events) == {"fallback_count": 0}


def test_a_yes_to_no_question_is_not_understood_either() -> None:
    for intent in ("affirm", "inform"):
        t = tracker(intent=intent, slots={"fallback_count": 1})
        assert "fallback_count" not in slots_of(run(ActionReadMetadata(), t)[1])
    in_form = tracker(intent="inform", slots={"fallback_count": 1}, active_loop="report_form")
    assert slots_of(run(ActionReadMetadata(), in_form)[1]) == {"fallback_count": 0}
    messages, events = run(
        ActionReviewAnswer(), tracker(intent="affirm", slots={"fallback_count": 1})
    )
    assert "https://city.test/report" in messages[0]["text"]
    assert slots_of(events) == {"fallback_count": 0}


def test_fallback_in_spanish() -> None:
    messages, _ = run(ActionFallback(), tracker(slots={"language": "es"}))
    assert messages[0]["text"].startswith("Perdón, no entendí")


def test_fallback_in_vietnamese() -> None:
    messages, _ = run(ActionFallback(), tracker(slots={"language": "vi"}))
    assert messages[0]["text"].startswith("Xin lỗi, tôi chưa hiểu")


def short(text: str, ranking: list[tuple[str, float]], language: str = "en") -> Tracker:
    """A message the classifier was unsure of (under the fallback threshold)."""
    t = tracker(text=text, intent="nlu_fallback", slots={"language": language})
    t.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.7},
        *({"name": name, "confidence": c} for name, c in ranking),
    ]
    return t


def test_a_very_short_message_naming_a_problem_asks_which_service_with_buttons() -> None:
    messages, events = run(ActionFallback(), short("report dumping", [("report_problem", 0.25)]))
    assert messages[0]["text"] == "Which kind of problem is it?"
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ["/report_illegal_dumping", "/report_problem"]
    assert slots_of(events) == {}  # not counted as "not understood"


def test_the_classifiers_unsure_guesses_are_offered_too() -> None:
    messages, _ = run(
        ActionFallback(),
        short(
            "report it pls", [("report_pothole", 0.22), ("greet", 0.2), ("report_rodents", 0.05)]
        ),
    )
    payloads = [b["payload"] for b in messages[0]["buttons"]]
    assert payloads == ["/report_pothole", "/report_problem"]
    assert messages[0]["buttons"][0]["title"] == "Pothole"


def test_a_short_message_in_vietnamese_without_diacritics() -> None:
    messages, _ = run(ActionFallback(), short("bao do rac", [], language="vi"))
    assert messages[0]["text"] == "Đó là loại sự cố nào?"
    assert [b["payload"] for b in messages[0]["buttons"]] == [
        "/report_illegal_dumping",
        "/report_problem",
    ]
    assert messages[0]["buttons"][-1]["title"] == "Việc khác"


def test_a_short_problem_read_as_cancel_or_yes_with_nothing_pending_asks_too() -> None:
    # "report dumping": its "report" can look like "cancel my report" to the classifier.
    t = short("report dumping", [("report_illegal_dumping", 0.16)])
    t.latest_message["intent"] = {"name": "cancel", "confidence": 0.5}
    messages, events = run(ActionCancelReport(), t)
    assert messages[0]["buttons"][0]["payload"] == "/report_illegal_dumping"
    assert slots_of(events) == {}
    t = short("dumping", [])
    t.latest_message["intent"] = {"name": "affirm", "confidence": 0.35}
    messages, _ = run(ActionReviewAnswer(), t)
    assert messages[0]["buttons"][0]["payload"] == "/report_illegal_dumping"


def test_cancel_still_cancels_when_no_problem_is_named_or_a_report_is_going() -> None:
    messages, _ = run(ActionCancelReport(), short("cancel my report", []))
    assert messages[0]["text"].startswith("OK, cancelled")
    going = short("forget the dumping", [])
    going.slots["service"] = "illegal_dumping"
    messages, events = run(ActionCancelReport(), going)
    assert messages[0]["text"].startswith("OK, cancelled")
    assert slots_of(events)["service"] is None


def test_short_messages_naming_no_problem_still_fall_back() -> None:
    for said in ("asdf qwerty", "what is this thing about anyway really"):
        messages, events = run(ActionFallback(), short(said, [("report_pothole", 0.2)]))
        assert "didn't understand" in messages[0]["text"], said
        assert slots_of(events) == {"fallback_count": 1}
    # A long message that happens to name a problem is not "very short".
    messages, _ = run(
        ActionFallback(), short("i was wondering about the trash thing from last year", [])
    )
    assert "didn't understand" in messages[0]["text"]


# --- The report form


def form_validate(t: Tracker) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ValidateReportForm().run(dispatcher, t, {"forms": {}, "slots": {}}))
    return dispatcher.messages, slots_of(events)


def first_message(service: str, said: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The report form on the message that started a report of ``service``."""
    t = tracker(
        slots={"service": service, "requested_slot": None},
        text=said,
        intent=f"report_{service}",
        active_loop="report_form",
    )
    return form_validate(t)


def test_first_message_gives_service_street_and_description_then_asks_the_size() -> None:
    messages, slots = first_message("pothole", "theres a huge hole on elm st")
    # The street is said back, not asked again.
    assert [m["text"] for m in messages] == ["Got it, at elm st."]
    assert slots["location"] == "elm st"
    assert slots["description"] == "theres a huge hole on elm st"
    assert slots["requested_slot"] == "attribute_answer"


def test_a_vietnamese_street_in_the_first_message_is_taken_and_said_back() -> None:
    t = tracker(
        slots={"service": "pothole", "requested_slot": None, "language": "vi"},
        text="ổ gà to trên đường Lê Lợi",
        intent="report_pothole",
        active_loop="report_form",
    )
    messages, slots = form_validate(t)
    assert slots["location"] == "đường Lê Lợi"
    assert [m["text"] for m in messages] == ["Đã ghi nhận, ở đường Lê Lợi."]


def test_the_vietnamese_word_for_road_alone_is_no_street() -> None:
    # "duong" is "the road" as often as "street": without a name in capitals, asked.
    _, slots = first_message("pothole", "o ga tren duong bi lung lo to")
    assert "location" not in slots
    assert slots["requested_slot"] == "location"


def test_without_a_street_the_form_asks_where() -> None:
    _, slots = first_message("streetlight", "light on my corner been out a week")
    assert "location" not in slots
    assert slots["requested_slot"] == "location"


def test_shared_location_replaces_the_address() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(metadata={"location": {"lat": 42.36, "long": -71.06}})
    assert ValidateReportForm().validate_location("📍", dispatcher, t, {}) == {
        "location": "",
        "lat": 42.36,
        "long": -71.06,
    }


def test_a_vague_location_is_asked_again() -> None:
    dispatcher = CollectingDispatcher()
    result = ValidateReportForm().validate_location("idk", dispatcher, tracker(), {})
    assert result == {"location": None}
    assert "street address" in dispatcher.messages[0]["text"]


def test_attribute_question_has_the_values_as_buttons(city: Any) -> None:
    messages, _ = run(ActionAskAttributeAnswer(), tracker(slots={"service": "pothole"}))
    assert messages[0]["text"] == "About how big is it?"
    assert [b["payload"] for b in messages[0]["buttons"]] == ["small", "medium", "large"]


def test_attribute_answer_is_stored_and_the_next_question_follows() -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(slots={"service": "pothole", "attributes": {}})
    result = ValidateReportForm().validate_attribute_answer("its huge", dispatcher, t, {})
    assert result == {"attributes": {"size": "large"}, "attribute_answer": None}
    wrong = ValidateReportForm().validate_attribute_answer("purple", dispatcher, t, {})
    assert wrong == {"attribute_answer": None}
    assert dispatcher.messages[0]["text"] == "Sorry, I need one of the options."


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("bags", ["bags"]), ("a sofa, furniture and bags", ["furniture", "bags"]), ("x", None)],
)
def test_multivalue_answers(answer: str, expected: Any) -> None:
    assert attribute_parse(DUMPING_ITEMS, answer) == expected


@pytest.mark.parametrize(
    ("said", "intent", "expected"),
    [
        ("no thanks", "deny", "-"),
        ("jane.doe@example.com", "inform", "jane.doe@example.com"),
        ("617 555 0199", "inform", "617 555 0199"),
        ("call me maybe", "inform", None),
    ],
)
def test_contact(said: str, intent: str, expected: Any) -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(text=said, intent=intent)
    assert ValidateReportForm().validate_contact(said, dispatcher, t, {}) == {"contact": expected}


def test_service_typed_in_words_when_asked() -> None:
    dispatcher = CollectingDispatcher()
    form = ValidateReportForm()
    assert form.validate_service("the rats", dispatcher, tracker(), {})["service"] == "rodents"
    assert form.validate_service("blah", dispatcher, tracker(), {}) == {"service": None}


# --- Review: a likely duplicate first, then the summary; filing on yes


def answer_summary(
    *, intent: str = "affirm", language: str = "en"
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The resident's yes (or no) to the summary of REPORT."""
    slots = {**REPORT, "language": language, "review_step": "summary"}
    return run(ActionReviewAnswer(), tracker(slots=slots, intent=intent))


def test_review_offers_the_nearby_duplicate(city: Any) -> None:
    city.get(
        f"{BASE}/mobile/v1/requests/nearby",
        json=[
            {
                "service_request_id": "SR-2026-000042",
                "service_code": "pothole",
                "status": "acknowledged",
                "distance_m": 18.4,
                "requested_at": "2026-11-20T10:00:00-05:00",
            }
        ],
    )
    messages, events = run(
        ActionReviewReport(), tracker(slots={**REPORT, "lat": 42.36, "long": -71.06})
    )
    assert "SR-2026-000042" in messages[0]["text"]
    assert "18 m" in messages[0]["text"]
    assert [b["payload"] for b in messages[0]["buttons"]] == ["/affirm", "/deny"]
    assert slots_of(events) == {"review_step": "duplicate", "duplicate_id": "SR-2026-000042"}
    nearby = next(c for c in city.calls if "/requests/nearby" in c.request.url)
    query = parse_qs(nearby.request.url.split("?", 1)[1])
    assert query == {"service_code": ["pothole"], "lat": ["42.36"], "long": ["-71.06"]}


def test_review_without_duplicate_shows_the_summary(city: Any) -> None:
    city.get(f"{BASE}/mobile/v1/requests/nearby", json=[])
    messages, events = run(
        ActionReviewReport(), tracker(slots={**REPORT, "lat": 42.36, "long": -71.06})
    )
    summary = messages[0]["text"]
    for part in ("Pothole", "elm st", "huge hole", "Bigger than a car tyre", "Photo attached"):
        assert part in summary
    assert "jane@example.com" in summary
    assert slots_of(events)["review_step"] == "summary"


def test_following_the_duplicate_files_nothing(city: Any) -> None:
    messages, events = run(
        ActionReviewAnswer(),
        tracker(
            slots={**REPORT, "review_step": "duplicate", "duplicate_id": "SR-2026-000042"},
            intent="affirm",
        ),
    )
    assert "SR-2026-000042" in messages[0]["text"]
    assert messages[1]["custom"] == {"city311": {"follow": "SR-2026-000042"}}
    assert not [c for c in city.calls if c.request.method == "POST"]
    assert slots_of(events)["service"] is None


def test_no_to_the_duplicate_shows_the_summary() -> None:
    messages, events = run(
        ActionReviewAnswer(),
        tracker(slots={**REPORT, "review_step": "duplicate"}, intent="deny"),
    )
    assert "Shall I send it to the city?" in messages[0]["text"]
    assert slots_of(events)["review_step"] == "summary"


def test_yes_files_through_open311_with_the_chatbot_key(city: Any) -> None:
    city.post(
        f"{BASE}/open311/v2/requests.json",
        json=[
            {
                "service_request_id": "SR-2026-000777",
                "service_notice": "Public Works aims to handle this within 72 hours.",
                "account_id": None,
            }
        ],
    )
    messages, events = answer_summary()
    post = next(c for c in city.calls if c.request.method == "POST")
    form = parse_qs(post.request.body)
    assert form == {
        "api_key": ["chat-test-key"],
        "service_code": ["pothole"],
        "description": ["theres a huge hole on elm st"],
        "address_string": ["elm st"],
        "attribute[size]": ["large"],
        "email": ["jane@example.com"],
    }
    assert "SR-2026-000777" in messages[0]["text"]
    assert "within 72 hours" in messages[0]["text"]
    assert messages[1]["custom"] == {
        "city311": {"filed": "SR-2026-000777", "photo": "photo-ref-123"}
    }
    assert slots_of(events)["review_step"] is None


def test_rejected_submission_says_why(city: Any) -> None:
    city.post(
        f"{BASE}/open311/v2/requests.json",
        status=400,
        json=[{"code": 400, "description": "attribute[size]: size must be one of: small"}],
    )
    messages, events = answer_summary()
    assert "size must be one of" in messages[0]["text"]
    assert slots_of(events)["review_step"] is None


@pytest.mark.parametrize(
    ("notice", "expected"),
    [
        (
            "Public Works aims to handle this within 72 hours.",
            "Public Works prevé atenderla en un plazo de 72 horas.",
        ),
        (
            "Parks aims to handle this within 16 business hours.",
            "Parks prevé atenderla en un plazo de 16 horas hábiles.",
        ),
    ],
)
def test_filed_in_spanish_gives_the_notice_in_spanish(
    city: Any, notice: str, expected: str
) -> None:
    city.post(
        f"{BASE}/open311/v2/requests.json",
        json=[{"service_request_id": "SR-2026-000778", "service_notice": notice}],
    )
    messages, _ = answer_summary(language="es")
    post = next(c for c in city.calls if c.request.method == "POST")
    assert post.request.headers["Accept-Language"] == "es"
    said = messages[0]["text"]
    assert said.startswith("¡Listo! Tu número de solicitud es SR-2026-000778.")
    assert expected in said
    assert "aims to" not in said and "hours" not in said


def test_an_untranslatable_notice_is_left_out_in_spanish(city: Any) -> None:
    city.post(
        f"{BASE}/open311/v2/requests.json",
        json=[{"service_request_id": "SR-2026-000779", "service_notice": "Crews are busy."}],
    )
    messages, _ = answer_summary(language="es")
    assert "SR-2026-000779" in messages[0]["text"]
    assert "Crews" not in messages[0]["text"]


def test_rejected_in_spanish_names_the_answers_to_check_in_spanish(city: Any) -> None:
    city.post(
        f"{BASE}/open311/v2/requests.json",
        status=400,
        json=[
            {"code": 400, "description": "attribute[size]: size must be one of: small"},
            {"code": 400, "description": "lat: The point is outside the city."},
            {"code": 400, "description": "long: The point is outside the city."},
        ],
    )
    messages, _ = answer_summary(language="es")
    said = messages[0]["text"]
    assert "La ciudad no pudo recibir este reporte: revisa los detalles, la ubicación." in said
    assert "must be" not in said and "outside" not in said


def test_city_down_keeps_the_report_for_a_retry(city: Any) -> None:
    city.post(
        f"{BASE}/open311/v2/requests.json", body=requests.ConnectionError("connection refused")
    )
    messages, events = answer_summary()
    assert "can't reach" in messages[0]["text"]
    assert events == []


def test_no_to_the_summary_files_nothing(city: Any) -> None:
    messages, _ = answer_summary(intent="deny")
    assert "didn't send anything" in messages[0]["text"]
    assert not [c for c in city.calls if c.request.method == "POST"]


# --- Status


def test_status_found(city: Any) -> None:
    city.get(
        f"{BASE}/open311/v2/requests/SR-2026-000123.json",
        json=[
            {
                "service_request_id": "SR-2026-000123",
                "status": "open",
                "status_notes": "Crew scheduled for Tuesday.",
                "service_name": "Pothole",
                "expected_datetime": "2026-11-24T09:00:00-05:00",
            }
        ],
    )
    messages, events = run(ActionCheckStatus(), tracker(slots={"request_id": "sr-2026-000123"}))
    assert messages[0]["text"] == (
        'SR-2026-000123 (Pothole) is open. Latest note: "Crew scheduled for Tuesday."'
        " Expected by 2026-11-24."
    )
    assert slots_of(events) == {"request_id": None}
    assert "extensions=true" in city.calls[-1].request.url


def test_status_not_found_in_spanish(city: Any) -> None:
    city.get(
        f"{BASE}/open311/v2/requests/SR-2026-999999.json",
        status=404,
        json=[{"code": 404, "description": "no"}],
    )
    messages, _ = run(
        ActionCheckStatus(), tracker(slots={"request_id": "SR-2026-999999", "language": "es"})
    )
    assert messages[0]["text"].startswith("No encontré la solicitud SR-2026-999999")


def test_request_number_from_the_message_text() -> None:
    dispatcher = CollectingDispatcher()
    form = ValidateStatusForm()
    t = tracker(text="whats up with sr 2026 000123 ??")
    assert asyncio.run(form.extract_request_id(dispatcher, t, {})) == {
        "request_id": "SR-2026-000123"
    }
    assert form.validate_request_id("my pothole", dispatcher, t, {}) == {"request_id": None}
    assert "SR-2026-000123" in dispatcher.messages[0]["text"]


def test_events_are_plain_slot_sets() -> None:
    # rasa-sdk events are dicts; SlotSet builds them (guards the helpers above).
    assert SlotSet("a", 1) == {"event": "slot", "timestamp": None, "name": "a", "value": 1}
    assert json.dumps(SlotSet("a", None))
