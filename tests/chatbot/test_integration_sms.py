"""End to end by SMS (integration): the real Rasa server and action server, as in
``test_integration.py``, behind Twilio's signed webhook. A resident texts a pothole, answers
the size question with the number of a choice, files it, and hears back by SMS (Twilio's
REST API, faked at HTTP by ``tests/chatbot/providers.py``) when a crew closes the work."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from backend.service_requests.models import ServiceRequest, Status
from chatbot.models import GatewayRequest
from tests.chatbot.assistant_run import actions_running
from tests.chatbot.providers import ACCOUNT_SID, FROM_NUMBER, FakeProvider
from tests.chatbot.test_twilio import RESIDENT, message_of, sms
from tests.workorders.factories import good_proof, order_of, staff_make
from workorders.services import work_order_assign, work_order_complete, work_order_start

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def choice_number(said: str, title: str) -> str:
    """The number the SMS gives the choice ``title`` ("3. Bigger than a car tyre")."""
    match = re.search(rf"^(\d+)\. {title}$", said, flags=re.MULTILINE | re.IGNORECASE)
    assert match, said
    return match[1]


def test_a_resident_files_by_sms_and_hears_back_by_sms_when_the_crew_closes_it(
    live_server: Any, catalog: None, settings: Any, tmp_path: Path, fake_twilio: FakeProvider
) -> None:
    with (
        actions_running(live_server_url=live_server.url, settings=settings, logs=tmp_path) as run,
        run.rasa(),
    ):
        said = message_of(sms("theres a huge hole on elm st"))
        assert "how big" in said.lower(), said
        # No buttons on a phone: the choices are numbered, and the number is the answer.
        said = message_of(sms(choice_number(said, "Bigger than a car tyre")))
        assert "updates" in said.lower(), said
        said = message_of(sms("no"))
        assert "Shall I send it to the city?" in said, said
        said = message_of(sms("yes"))

    match = re.search(r"SR-\d{4}-\d{6}", said)
    assert match, f"{said}\n{run.actions_log.read_text()[-2000:]}"
    filed = ServiceRequest.objects.get(public_id=match[0])
    assert filed.service_type.service_code == "pothole"
    assert filed.attributes == {"size": "large"}
    # The number is kept once, where contact data lives, and the request is tied to it.
    assert filed.contact_phone == RESIDENT
    assert GatewayRequest.objects.filter(service_request=filed).exists()
    assert fake_twilio.sent("Messages.json") == []  # the replies went back in TwiML

    staff = staff_make()
    order = work_order_assign(work_order=order_of(filed), team=staff.team, actor=staff.supervisor)
    order = work_order_start(work_order=order, actor=staff.crew)
    work_order_complete(
        work_order=order, actor=staff.crew, proof_photos=[good_proof()], note="Filled the hole."
    )
    filed.refresh_from_db()
    assert filed.status == Status.CLOSED

    texts = fake_twilio.sent(f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json")
    assert texts, "no status message went out by SMS"
    bodies = [t.form() for t in texts]
    assert all(b["To"] == RESIDENT and b["From"] == FROM_NUMBER for b in bodies)
    assert all(filed.public_id in b["Body"] for b in bodies)
    assert any("Filled the hole." in b["Body"] for b in bodies), bodies
