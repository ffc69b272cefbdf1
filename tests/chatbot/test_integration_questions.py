"""Questions and a person, end to end by SMS (integration): the real Rasa server and action
server behind Twilio's signed webhook, answering from the live server's data — the status
of this number's own request without its number, a service's turnaround from the catalog,
the call centre's hours — then "talk to a person" during the hours: the conversation goes to
the agent inbox, the assistant stays quiet, and the agent's answer goes back by SMS."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from backend.catalog.models import Department
from chatbot.handoffs import handoff_answer
from chatbot.models import GatewayContact, GatewayRequest, Handoff, HandoffKind
from tests.chatbot.assistant_run import actions_running
from tests.chatbot.providers import FakeProvider
from tests.chatbot.test_twilio import RESIDENT, message_of, sms
from tests.factories import submit
from tests.workorders.factories import user_make
from workorders.models import OpeningHours
from workorders.sla import MIDNIGHT

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_questions_and_a_person_by_sms(
    live_server: Any, catalog: None, settings: Any, tmp_path: Path, fake_twilio: FakeProvider
) -> None:
    department = Department.objects.create(code="callcentre", name="311 Call Centre")
    for weekday in range(7):
        OpeningHours.objects.create(
            department=department, weekday=weekday, opens=time(0), closes=MIDNIGHT
        )
    settings.CHATBOT_AGENT_DEPARTMENT = department.code
    with (
        actions_running(live_server_url=live_server.url, settings=settings, logs=tmp_path) as run,
        run.rasa(),
    ):
        message_of(sms("hi"))
        # A request this number filed earlier (and another resident's, never shown).
        mine, theirs = submit("pothole"), submit("pothole")
        GatewayRequest.objects.create(
            service_request=mine,
            contact=GatewayContact.objects.get(channel="sms"),
            created_at=timezone.now(),
        )
        said = message_of(sms("whats the status of my report"))
        assert mine.public_id in said and theirs.public_id not in said, (
            f"{said}\n{run.actions_log.read_text()[-2000:]}"
        )
        said = message_of(sms("how long does a pothole take"))
        assert "aims to handle it within" in said, said
        said = message_of(sms("what are your hours"))
        assert "call centre is open" in said and "open now" in said, said
        said = message_of(sms("i want to talk to a real person"))
        assert "passed this conversation to a person" in said, said
        handoff = Handoff.objects.get()
        assert handoff.kind == HandoffKind.LIVE and handoff.phone == RESIDENT
        # Quiet while a person handles it.
        assert message_of(sms("hello?")) == ""
    handoff_answer(handoff=handoff, agent=user_make("alex"), text="Hi, Alex from 311 here.")
    bodies = [t.form() for t in fake_twilio.sent("Messages.json")]
    assert bodies and bodies[-1]["To"] == RESIDENT
    assert bodies[-1]["Body"] == "Hi, Alex from 311 here."
