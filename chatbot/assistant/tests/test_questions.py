"""Questions answered from data (actions/questions.py, and the status of one's own requests
in actions/conversation.py), in English, Spanish and Vietnamese, with city311 faked at its
HTTP boundary; and "talk to a person" during and outside the call centre's hours."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import responses
from actions import backend
from actions.conversation import ActionCheckStatus, ActionHumanHandoff, ValidateStatusForm
from actions.questions import (
    ActionAnswerHours,
    ActionAnswerNextSteps,
    ActionAnswerTurnaround,
    hours_text,
    schedule,
    service_find,
)
from rasa_sdk.executor import CollectingDispatcher

from tests.conversation import run, tracker

BASE = "http://city.test"
CATALOG = {
    "en": [
        {
            "service_code": "pothole",
            "name": "Pothole",
            "keywords": ["road", "asphalt"],
            "department": "Public Works",
            "expected_turnaround_hours": 72,
            "turnaround_in_business_hours": False,
        },
        {
            "service_code": "streetlight",
            "name": "Streetlight out",
            "keywords": [],
            "department": "Street Lighting",
            "expected_turnaround_hours": 40,
            "turnaround_in_business_hours": True,
        },
        {
            "service_code": "traffic_signal",
            "name": "Traffic signal problem",
            "keywords": [],
            "department": "Transportation",
            "expected_turnaround_hours": 4,
            "turnaround_in_business_hours": False,
        },
    ],
    "es": [
        {
            "service_code": "pothole",
            "name": "Bache",
            "keywords": [],
            "department": "Obras Públicas",
            "expected_turnaround_hours": 72,
            "turnaround_in_business_hours": False,
        }
    ],
    "vi": [
        {
            "service_code": "pothole",
            "name": "Ổ gà",
            "keywords": [],
            "department": "Công chánh",
            "expected_turnaround_hours": 72,
            "turnaround_in_business_hours": False,
        }
    ],
}
ZONE = timezone(timedelta(hours=-5))
WEEKDAYS = [{"weekday": d, "opens": "08:00", "closes": "17:00"} for d in range(5)]


def catalog_callback(request: Any) -> tuple[int, dict[str, str], str]:
    import json

    language = request.headers.get("Accept-Language", "en")
    return 200, {}, json.dumps(CATALOG.get(language, CATALOG["en"]))


@pytest.fixture(autouse=True)
def city(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("CHATBOT_BACKEND_URL", BASE)
    monkeypatch.setenv("CHATBOT_WEB_FORM_URL", "https://city.test/report")
    monkeypatch.setattr(backend, "_client", None)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as fake:
        fake.add_callback(responses.GET, f"{BASE}/mobile/v1/services", callback=catalog_callback)
        yield fake


def _status(city: Any, public_id: str, status: str, service: str, **more: str) -> None:
    """The fake city answers for request ``public_id`` (expected 2026-12-09)."""
    city.get(
        f"{BASE}/open311/v2/requests/{public_id}.json",
        json=[
            {
                "service_request_id": public_id,
                "service_name": service,
                "status": status,
                "expected_datetime": "2026-12-09T10:00:00-05:00",
                **more,
            }
        ],
    )


# --- How long does it take


@pytest.mark.parametrize(
    ("language", "question", "answer"),
    [
        (
            "en",
            "how long does a pothole take",
            "Pothole: Public Works aims to handle it within 3 days.",
        ),
        (
            "es",
            "cuánto tardan en arreglar un bache",
            "Bache: Obras Públicas prevé atenderlo en un plazo de 3 días.",
        ),
        ("vi", "sua o ga mat bao lau", "Ổ gà: Công chánh dự kiến xử lý trong vòng 3 ngày."),
        ("vi", "sửa ổ gà mất bao lâu", "Ổ gà: Công chánh dự kiến xử lý trong vòng 3 ngày."),
    ],
)
def test_turnaround_from_the_catalog(language: str, question: str, answer: str) -> None:
    messages, _ = run(ActionAnswerTurnaround(), tracker(text=question, language=language))
    assert messages[0]["text"] == answer


def test_turnaround_in_business_hours_and_the_longest_name_wins() -> None:
    messages, _ = run(ActionAnswerTurnaround(), tracker(text="how long to fix a streetlight"))
    assert messages[0]["text"] == (
        "Streetlight out: Street Lighting aims to handle it within 40 business hours."
    )
    found = service_find("how long for a broken traffic light", CATALOG["en"])
    assert found is not None and found["service_code"] == "traffic_signal"


def test_turnaround_without_a_service_asks_which_in_each_language() -> None:
    for language, start in (("en", "Which kind"), ("es", "¿Qué tipo"), ("vi", "Loại sự cố")):
        messages, _ = run(
            ActionAnswerTurnaround(), tracker(text="how long does it take", language=language)
        )
        assert messages[0]["text"].startswith(start), language


def test_turnaround_city_down(city: Any) -> None:
    city.replace(responses.GET, f"{BASE}/mobile/v1/services", status=503)
    messages, _ = run(ActionAnswerTurnaround(), tracker(text="how long does a pothole take"))
    assert "https://city.test/report" in messages[0]["text"]


# --- What happens next


def test_next_steps_of_the_residents_latest_request(city: Any) -> None:
    _status(
        city,
        "SR-2026-000123",
        "open",
        "Pothole",
        service_code="pothole",
        agency_responsible="Public Works",
    )
    messages, _ = run(
        ActionAnswerNextSteps(),
        tracker(text="what happens next", metadata={"requests": ["SR-2026-000123"]}),
    )
    reply = messages[0]["text"]
    assert reply.startswith(
        "What happens next with SR-2026-000123 (Pothole): 1) it is with Public Works"
    )
    assert "a crew goes out" in reply
    assert "expected to be done by 2026-12-09" in reply


@pytest.mark.parametrize(
    ("language", "question", "start"),
    [
        (
            "en",
            "what happens next",
            "After you report a problem: 1) it goes to the city department",
        ),
        ("es", "y ahora que pasa", "Después de reportar un problema: 1) va al departamento"),
        ("vi", "tiep theo la gi", "Sau khi bạn báo sự cố: 1) báo cáo đến bộ phận"),
    ],
)
def test_next_steps_in_general(language: str, question: str, start: str) -> None:
    messages, _ = run(ActionAnswerNextSteps(), tracker(text=question, language=language))
    assert messages[0]["text"].startswith(start)


def test_next_steps_of_a_service_named() -> None:
    messages, _ = run(
        ActionAnswerNextSteps(), tracker(text="what happens after i report a pothole")
    )
    assert messages[0]["text"] == (
        "After you report a Pothole: 1) it goes to Public Works, who plan the work; 2) a crew "
        "goes out to fix it; 3) they aim to handle it within 3 days. You get a request number "
        "to check on it."
    )


# --- The status of my report


@pytest.mark.parametrize(
    ("language", "heading", "open_word"),
    [
        ("en", "Your latest requests:", "open"),
        ("es", "Tus últimas solicitudes:", "abierta"),
        ("vi", "Các yêu cầu gần đây của bạn:", None),
    ],
)
def test_status_of_my_reports_without_a_number(
    city: Any, language: str, heading: str, open_word: str | None
) -> None:
    _status(city, "SR-2026-000200", "open", "Pothole")
    _status(city, "SR-2026-000100", "closed", "Graffiti")
    messages, _ = run(
        ActionCheckStatus(),
        tracker(
            language=language,
            metadata={"requests": ["SR-2026-000200", "SR-2026-000100"]},
        ),
    )
    lines = messages[0]["text"].split("\n")
    assert lines[0] == heading
    assert lines[1].startswith("• SR-2026-000200 (Pothole)")
    assert lines[2].startswith("• SR-2026-000100 (Graffiti)")
    assert "2026-12-09" in lines[1] and "2026-12-09" not in lines[2]
    if open_word:
        assert open_word in lines[1]


def test_only_the_ids_django_sent_are_looked_up(city: Any) -> None:
    _status(city, "SR-2026-000200", "open", "Pothole")
    run(
        ActionCheckStatus(),
        tracker(metadata={"requests": ["SR-2026-000200", "not an id", {"x": 1}]}),
    )
    looked_up = [c.request.url for c in city.calls if "/requests/" in c.request.url]
    assert len(looked_up) == 1 and "SR-2026-000200" in looked_up[0]


def test_the_status_form_asks_no_number_when_the_resident_has_requests() -> None:
    form = ValidateStatusForm()
    dispatcher = CollectingDispatcher()
    mine = tracker(text="status of my report", metadata={"requests": ["SR-2026-000200"]})
    nobody = tracker(text="status of my report")
    given = tracker(text="status of SR-2026-000999", metadata={"requests": ["SR-2026-000200"]})
    slots = ["request_id"]
    assert asyncio.run(form.required_slots(slots, dispatcher, mine, {})) == []
    assert asyncio.run(form.required_slots(slots, dispatcher, nobody, {})) == slots
    assert asyncio.run(form.required_slots(slots, dispatcher, given, {})) == slots


# --- The call centre's hours, and a person


def test_schedule_runs_days_together() -> None:
    hours = [*WEEKDAYS, {"weekday": 5, "opens": "09:00", "closes": "12:00"}]
    assert schedule(hours, "en") == "Mon-Fri 08:00-17:00; Sat 09:00-12:00"
    assert schedule(hours, "es") == "lun-vie 08:00-17:00; sáb 09:00-12:00"
    assert schedule(hours, "vi") == "T2-T6 08:00-17:00; T7 09:00-12:00"


def test_hours_open_now_and_closed() -> None:
    now = datetime(2026, 12, 7, 10, 0, tzinfo=ZONE)  # a Monday
    open_now = {
        "time_zone": "America/New_York",
        "open_now": True,
        "closes_at": "2026-12-07T17:00:00-05:00",
        "next_open": None,
        "hours": WEEKDAYS,
    }
    assert hours_text(open_now, "en", now=now) == (
        "The 311 call centre is open Mon-Fri 08:00-17:00 (New York). It's open now, until 17:00."
    )
    closed = {
        **open_now,
        "open_now": False,
        "closes_at": None,
        "next_open": "2026-12-08T08:00:00-05:00",
    }
    evening = datetime(2026, 12, 7, 19, 0, tzinfo=ZONE)
    assert hours_text(closed, "es", now=evening).endswith(
        "Ahora está cerrado y abre mañana a las 08:00."
    )
    assert hours_text(closed, "vi", now=evening).endswith("sẽ mở ngày mai lúc 08:00.")
    friday = {**closed, "next_open": "2026-12-14T08:00:00-05:00"}
    assert hours_text(friday, "en", now=datetime(2026, 12, 11, 19, 0, tzinfo=ZONE)).endswith(
        "opens on Monday at 08:00."
    )


def test_hours_action_reads_the_endpoint(city: Any) -> None:
    city.get(
        f"{BASE}/api/v1/chat/hours",
        json={
            "time_zone": "America/New_York",
            "open_now": True,
            "closes_at": "2026-12-07T17:00:00-05:00",
            "next_open": None,
            "hours": WEEKDAYS,
        },
    )
    messages, _ = run(ActionAnswerHours(), tracker(language="es"))
    assert messages[0]["text"].startswith("El centro de llamadas 311 atiende lun-vie 08:00-17:00")


def _handoff(city: Any, hours: dict[str, Any], **kw: Any) -> list[dict[str, Any]]:
    city.get(f"{BASE}/api/v1/chat/hours", json=hours)
    messages, events = run(ActionHumanHandoff(), tracker(**kw))
    assert {"event": "slot", "timestamp": None, "name": "service", "value": None} in events
    return messages


def test_a_person_during_the_hours_hands_the_conversation_over(city: Any) -> None:
    messages = _handoff(
        city, {"open_now": True, "closes_at": "2026-12-07T17:00:00-05:00", "hours": WEEKDAYS}
    )
    assert messages[0]["text"].startswith("I've passed this conversation to a person at 311")
    assert messages[1]["custom"] == {"city311": {"handoff": True}}


@pytest.mark.parametrize(
    ("language", "channel", "words"),
    [
        (
            "en",
            "sms",
            "The 311 call centre is closed now. I've asked for a callback: we will call you back",
        ),
        ("es", "whatsapp", "te llamaremos"),
        ("vi", "websocket", "họ sẽ trả lời trong cuộc trò chuyện này"),
    ],
)
def test_a_person_outside_the_hours_is_a_callback_with_the_time(
    city: Any, language: str, channel: str, words: str
) -> None:
    opens = (datetime.now(ZONE) + timedelta(days=1)).replace(hour=8, minute=0, second=0)
    messages = _handoff(
        city,
        {"open_now": False, "next_open": opens.isoformat(), "hours": WEEKDAYS},
        language=language,
        metadata={"channel": channel},
    )
    assert words in messages[0]["text"]
    assert "08:00" in messages[0]["text"]
    assert messages[1]["custom"] == {"city311": {"handoff": True}}


def test_a_person_with_the_city_down_is_311s_number_and_the_web_form(city: Any) -> None:
    city.get(f"{BASE}/api/v1/chat/hours", status=503)
    messages, _ = run(ActionHumanHandoff(), tracker())
    assert "call 311" in messages[0]["text"] and "https://city.test/report" in messages[0]["text"]
    assert len(messages) == 1  # nothing handed over
