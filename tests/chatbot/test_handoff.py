"""A person when needed (chatbot/handoffs.py, chatbot/inbox.py): the call centre's hours, a
conversation handed to the agent inbox during them (the assistant quiet meanwhile), an
agent's answer going back by SMS and by the web chat, a callback outside the hours, the
inbox's access; and the requests a resident may ask about without a number."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from backend.catalog.models import Department
from chatbot.handoffs import agent_hours, handoff_numbers_erase
from chatbot.models import ChatMessage, Conversation, Handoff, HandoffKind, HandoffState
from chatbot.services import conversation_start
from tests.chatbot.conftest import FakeRasa
from tests.chatbot.providers import (
    ACCOUNT_SID,
    FROM_NUMBER,
    WEBHOOK_BASE,
    FakeProvider,
    twilio_signature,
)
from tests.workorders.factories import member_add, team_make, user_make
from workorders.models import OpeningHours, TeamRole
from workorders.sla import MIDNIGHT

pytestmark = pytest.mark.django_db

NY = ZoneInfo("America/New_York")
HANDOFF = {"custom": {"city311": {"handoff": True}}}
RESIDENT = "+16175550142"
_sids = iter(range(10**6))


def call_centre(settings: Any, *, open_now: bool) -> Department:
    """A call centre open all day every day, or only one hour on a day three days ahead."""
    department = Department.objects.create(code=f"callcentre-{open_now}", name="311 Call Centre")
    settings.CHATBOT_AGENT_DEPARTMENT = department.code
    if open_now:
        for weekday in range(7):
            OpeningHours.objects.create(
                department=department, weekday=weekday, opens=time(0), closes=MIDNIGHT
            )
    else:
        later = (timezone.now().astimezone(NY).weekday() + 3) % 7
        OpeningHours.objects.create(
            department=department, weekday=later, opens=time(8), closes=time(9)
        )
    return department


def agent() -> Any:
    from django.contrib.auth import get_user_model

    found = get_user_model().objects.filter(username="alex-agent").first()
    if found is not None:
        return found
    user = user_make("alex-agent")
    user.user_permissions.add(Permission.objects.get(codename="answer_conversations"))
    return user


def browser(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def sms(body: str) -> Any:
    params = {
        "MessageSid": f"SM{next(_sids):032d}",
        "AccountSid": ACCOUNT_SID,
        "From": RESIDENT,
        "To": FROM_NUMBER,
        "Body": body,
        "NumMedia": "0",
    }
    url = WEBHOOK_BASE + "/api/v1/chat/twilio"
    return Client().post(
        "/api/v1/chat/twilio",
        urlencode(params),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": twilio_signature(url, params)},
    )


def handoff_make(
    channel: str,
    *,
    kind: str = HandoffKind.LIVE,
    requested_at: datetime | None = None,
    **fields: Any,
) -> Handoff:
    """A handoff asked for just now (or at ``requested_at``) in a new conversation on
    ``channel``."""
    return Handoff.objects.create(
        conversation=conversation_start(language="en", user=None, source=channel),
        kind=kind,
        requested_at=requested_at or timezone.now(),
        channel=channel,
        **fields,
    )


# --- The hours


def test_the_hours_are_the_call_centres_department_and_public(settings: Any) -> None:
    call_centre(settings, open_now=False)
    hours = agent_hours()
    assert not hours.open_now and hours.next_open is not None
    assert hours.next_open.hour == 8 and hours.next_open > timezone.now()
    assert (hours.next_open - timezone.now()) < timedelta(days=4)
    body = Client().get("/api/v1/chat/hours").json()
    assert body["open_now"] is False
    assert body["next_open"] == hours.next_open.isoformat()
    assert len(body["hours"]) == 1 and body["hours"][0]["opens"] == "08:00"


def test_without_a_call_centre_department_the_hours_are_weekdays_eight_to_five(
    settings: Any,
) -> None:
    settings.CHATBOT_AGENT_DEPARTMENT = ""
    monday_noon = datetime(2026, 12, 7, 12, 0, tzinfo=NY)
    assert agent_hours(now=monday_noon).open_now
    saturday = agent_hours(now=datetime(2026, 12, 12, 12, 0, tzinfo=NY))
    assert not saturday.open_now
    assert saturday.next_open == datetime(2026, 12, 14, 8, 0, tzinfo=NY)
    body = Client().get("/api/v1/chat/hours").json()
    assert [row["weekday"] for row in body["hours"]] == [0, 1, 2, 3, 4]
    assert body["hours"][0] == {"weekday": 0, "opens": "08:00", "closes": "17:00"}


# --- During the hours: the inbox, and the assistant quiet


def test_a_person_during_the_hours_puts_the_conversation_in_the_inbox_and_the_assistant_is_quiet(
    settings: Any, api: Any, fake_rasa: FakeRasa
) -> None:
    call_centre(settings, open_now=True)
    fake_rasa.replies({"text": "I've passed this conversation to a person."}, HANDOFF)
    first = api.post("/api/v1/chat/", {"message": "talk to a person"}, format="json").json()
    assert first["replies"] == [
        {"text": "I've passed this conversation to a person.", "buttons": []}
    ]
    handoff = Handoff.objects.get()
    assert handoff.kind == HandoffKind.LIVE and handoff.state == HandoffState.WAITING
    assert handoff.channel == "api" and handoff.callback_after is None
    # Quiet: the next message is logged for the agent, not relayed.
    second = api.post(
        "/api/v1/chat/",
        {"conversation_id": first["conversation_id"], "message": "hello? anyone?"},
        format="json",
    )
    assert second.status_code == 200 and second.json()["replies"] == []
    assert len(fake_rasa.received) == 1
    waiting = ChatMessage.objects.get(text="hello? anyone?")
    assert waiting.meta == {"handoff": handoff.pk}
    # The agent closes it: the assistant answers again.
    response = browser(agent()).post(f"/staff/chat/{handoff.pk}/close")
    assert response.status_code == 302
    handoff.refresh_from_db()
    assert handoff.state == HandoffState.CLOSED and handoff.closed_at is not None
    third = api.post(
        "/api/v1/chat/",
        {"conversation_id": first["conversation_id"], "message": "thanks"},
        format="json",
    )
    assert third.json()["replies"][0]["text"] == "I've passed this conversation to a person."
    assert len(fake_rasa.received) == 2


def test_the_inbox_lists_waiting_conversations_newest_first_with_the_transcript(
    settings: Any,
) -> None:
    call_centre(settings, open_now=True)
    now = timezone.now()
    older, newer, answered = (
        handoff_make(
            "websocket", requested_at=now - timedelta(minutes=minutes), state=state
        ).conversation
        for minutes, state in (
            (30, HandoffState.WAITING),
            (5, HandoffState.WAITING),
            (1, HandoffState.ANSWERED),
        )
    )
    ChatMessage.objects.create(
        conversation=newer, at=now, direction="in", text="my street is flooded", language="en"
    )
    client = browser(agent())
    page = client.get("/staff/chat/").content.decode()
    ids = [Handoff.objects.get(conversation=c).pk for c in (newer, older, answered)]
    positions = [page.index(f'/staff/chat/{pk}"') for pk in ids]
    assert positions == sorted(positions)
    detail = client.get(f"/staff/chat/{ids[0]}")
    assert detail.status_code == 200
    assert "my street is flooded" in detail.content.decode()


# --- The answer on the resident's channel


def test_an_agents_answer_goes_back_by_sms(
    settings: Any,
    fake_rasa: FakeRasa,
    fake_twilio: FakeProvider,
    django_capture_on_commit_callbacks: Any,
) -> None:
    call_centre(settings, open_now=True)
    fake_rasa.replies({"text": "A person will answer."}, HANDOFF)
    assert sms("talk to a person").status_code == 200
    handoff = Handoff.objects.get()
    assert handoff.channel == "sms" and handoff.phone == RESIDENT
    assert RESIDENT not in str(fake_rasa.received)
    # Quiet: an empty TwiML while the person handles it.
    quiet = sms("are you there")
    assert quiet.content.decode().endswith("<Response/>")
    assert len(fake_rasa.received) == 1
    with django_capture_on_commit_callbacks(execute=True):
        response = browser(agent()).post(
            f"/staff/chat/{handoff.pk}/answer", {"text": "Hi, this is Alex from 311."}
        )
    assert response.status_code == 302
    sent = fake_twilio.sent("/Messages.json")
    assert [m.form() for m in sent][-1]["To"] == RESIDENT
    assert sent[-1].form()["Body"] == "Hi, this is Alex from 311."
    logged = ChatMessage.objects.get(text="Hi, this is Alex from 311.")
    assert logged.direction == "out" and logged.meta["agent"] is True
    handoff.refresh_from_db()
    assert handoff.state == HandoffState.ANSWERED
    # Closed: the number is forgotten.
    browser(agent()).post(f"/staff/chat/{handoff.pk}/close")
    handoff.refresh_from_db()
    assert handoff.phone == ""


def test_a_bad_answer_names_the_field_and_sends_nothing(
    settings: Any, fake_twilio: FakeProvider
) -> None:
    handoff = handoff_make("sms", phone=RESIDENT)
    conversation = handoff.conversation
    response = browser(agent()).post(f"/staff/chat/{handoff.pk}/answer", {"text": "   "})
    assert response.status_code == 302
    assert not ChatMessage.objects.filter(conversation=conversation).exists()
    assert fake_twilio.sent("/Messages.json") == []
    assert browser(agent()).get(f"/staff/chat/{handoff.pk + 1000}").status_code == 404


def test_numbers_are_erased_after_the_keep_days(settings: Any) -> None:
    old = handoff_make(
        "sms",
        kind=HandoffKind.CALLBACK,
        requested_at=timezone.now() - timedelta(days=settings.CHATBOT_HANDOFF_KEEP_DAYS + 1),
        phone=RESIDENT,
    )
    assert handoff_numbers_erase() == 1
    old.refresh_from_db()
    assert old.phone == ""


# --- Outside the hours: a callback


def test_outside_the_hours_a_callback_request_is_listed_with_its_time(
    settings: Any, fake_rasa: FakeRasa, fake_twilio: FakeProvider
) -> None:
    call_centre(settings, open_now=False)
    fake_rasa.replies({"text": "We will call you back."}, HANDOFF)
    sms("can someone call me")
    handoff = Handoff.objects.get()
    assert handoff.kind == HandoffKind.CALLBACK
    assert handoff.callback_after == agent_hours().next_open
    assert handoff.phone == RESIDENT  # to call back
    # Not a live handoff: the assistant keeps answering.
    fake_rasa.replies({"text": "Anything else?"})
    assert "Anything else?" in sms("ok thanks").content.decode()
    page = browser(agent()).get("/staff/chat/").content.decode()
    assert "Callback" in page and f"/staff/chat/{handoff.pk}" in page
    # Asking again keeps the one request.
    fake_rasa.replies({"text": "We will call you back."}, HANDOFF)
    sms("call me please")
    assert Handoff.objects.count() == 1


# --- Access to the inbox


@pytest.mark.parametrize("who", ["resident", "crew", "supervisor"])
def test_the_inbox_is_for_agents_only(settings: Any, who: str) -> None:
    handoff = handoff_make("websocket")
    user = user_make(f"not-an-agent-{who}")
    if who != "resident":
        team = team_make(department="sanitation", name=f"Team {who}")
        member_add(team, user, TeamRole.SUPERVISOR if who == "supervisor" else TeamRole.CREW)
    client = browser(user)
    assert client.get("/staff/chat/").status_code == 403
    assert client.get(f"/staff/chat/{handoff.pk}").status_code == 403
    assert client.post(f"/staff/chat/{handoff.pk}/answer", {"text": "hi"}).status_code == 403
    assert client.post(f"/staff/chat/{handoff.pk}/close").status_code == 403
    anonymous = Client().get("/staff/chat/")
    assert anonymous.status_code == 302 and "login" in anonymous["Location"]
    handoff.refresh_from_db()
    assert handoff.state == HandoffState.WAITING
    assert not ChatMessage.objects.filter(conversation=handoff.conversation).exists()


# --- "What's the status of my report?": only the resident's own requests


def test_the_assistant_gets_only_this_residents_requests(
    api: Any, fake_rasa: FakeRasa, catalog: None
) -> None:
    from rest_framework.authtoken.models import Token

    from tests.factories import submit

    mine, other = user_make("rosa"), user_make("otto")
    filed = submit("pothole", reporter=mine)
    submit("pothole", reporter=other)
    token, _ = Token.objects.get_or_create(user=mine)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    api.post("/api/v1/chat/", {"message": "status of my report"}, format="json")
    assert fake_rasa.received[0]["metadata"]["requests"] == [filed.public_id]
    anonymous = Client().post(
        "/api/v1/chat/", {"message": "status of my report"}, content_type="application/json"
    )
    assert anonymous.status_code == 200
    assert "requests" not in fake_rasa.received[1]["metadata"]
    assert Conversation.objects.count() == 2
