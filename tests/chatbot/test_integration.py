"""End to end (integration): the real Rasa server and action server on free loopback ports,
with the model make test trained (cached in .var/chatbot/models/), and this test's Django
as the live server the actions file through (Open311, the chatbot's own key). A resident's
conversation through ``POST /api/v1/chat/`` files a real request, channel chat, with Rasa
restarted in the middle of the report (its conversations are in Redis).

Never skipped: without the assistant's virtualenv or model it fails, saying how to make
them (backend/scripts/test.sh does so before pytest)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from rest_framework.test import APIClient

from backend.service_requests.models import Channel, ServiceRequest
from tests.chatbot.assistant_run import ROOT, actions_running
from tests.conftest import pothole_payload

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def say(api: APIClient, conversation_id: str | None, message: str) -> tuple[str, str]:
    body: dict[str, Any] = {"message": message, "language": "en"}
    if conversation_id:
        body["conversation_id"] = conversation_id
    response = api.post("/api/v1/chat/", body, format="json")
    assert response.status_code == 200, response.content
    data = response.json()
    return data["conversation_id"], "\n".join(r["text"] for r in data["replies"])


def test_a_resident_files_a_pothole_through_the_chat(
    live_server: Any, catalog: None, settings: Any, tmp_path: Path
) -> None:
    with actions_running(
        live_server_url=live_server.url, settings=settings, logs=tmp_path
    ) as assistant:
        api = APIClient()
        with assistant.rasa():
            conversation, said = say(api, None, "theres a huge hole on elm st")
            assert "how big" in said.lower(), said
            _, said = say(api, conversation, "large")
            assert "updates" in said.lower(), said

        # Rasa restarts in the middle of the report: the conversation is in Redis (Rasa's
        # RedisTrackerStore, backend/scripts/chatbot-run.sh), so the answer to the contact
        # question goes on to the summary with the slots filled before the restart.
        with assistant.rasa("rasa-restarted.log"):
            _, said = say(api, conversation, "no")
            assert "Shall I send it to the city?" in said, said
            assert "elm st" in said
            _, said = say(api, conversation, "yes")
    endpoints = ROOT / f".var/chatbot/run/endpoints-{assistant.rasa_port}.yml"
    assert "tracker_store" in endpoints.read_text()

    match = re.search(r"SR-\d{4}-\d{6}", said)
    assert match, f"{said}\n{assistant.actions_log.read_text()[-2000:]}"
    filed = ServiceRequest.objects.get(public_id=match[0])
    assert filed.channel == Channel.CHAT
    assert filed.service_type.service_code == "pothole"
    assert filed.address == "elm st"
    assert filed.attributes == {"size": "large"}
    assert filed.description == "theres a huge hole on elm st"
    assert "within 72 hours" in said

    # The block above stopped Rasa and its action server: the chat says so politely, and
    # the other doors do not notice.
    gone = api.post(
        "/api/v1/chat/",
        {"conversation_id": conversation, "message": "one more", "language": "en"},
        format="json",
    )
    assert gone.status_code == 503, gone.content
    assert "/report" in gone.json()["detail"]
    assert api.get("/open311/v2/services.json").status_code == 200
    other = api.post("/mobile/v1/requests", pothole_payload(), format="json")
    assert other.status_code == 201, other.content
