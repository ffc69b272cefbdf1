"""End to end (integration): the real Rasa server and action server on free loopback ports,
with the model make test trained (cached in .var/chatbot/models/), and this test's Django
as the live server the actions file through (Open311, the chatbot's own key). A resident's
conversation through ``POST /api/v1/chat/`` files a real request, channel chat, with Rasa
restarted in the middle of the report (its conversations are in Redis).

Never skipped: without the assistant's virtualenv or model it fails, saying how to make
them (backend/scripts/test.sh does so before pytest)."""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from rest_framework.test import APIClient

from backend.service_requests.models import Channel, ServiceRequest
from bench.chat import assistant as started  # the assistant's processes, as the bench runs them
from chatbot.services import chatbot_api_key_ensure
from tests.chatbot.conftest import free_port
from tests.conftest import pothole_payload

ROOT = Path(__file__).resolve().parents[2]
RASA = ROOT / ".var/chatbot/venv/bin/rasa"
CURRENT = ROOT / ".var/chatbot/models/current"
READY_WITHIN_S = 240.0
pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def assistant_required() -> None:
    model = CURRENT.read_text().strip() if CURRENT.exists() else ""
    if not RASA.exists() or not model or not (ROOT / model).exists():
        pytest.fail(
            "The assistant is not built: run `bash backend/scripts/chatbot-train.sh` "
            "(make test does it first) to create .var/chatbot/venv and the model."
        )


def ready(url: str, *, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"{url} exited ({process.returncode}):\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    pytest.fail(f"{url} not ready within {READY_WITHIN_S:.0f} s:\n{log.read_text()[-3000:]}")


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
    assistant_required()
    rasa_port, actions_port = free_port(), free_port()
    env = {
        **os.environ,
        "CHATBOT_RASA_PORT": str(rasa_port),
        "CHATBOT_ACTIONS_PORT": str(actions_port),
        "CHATBOT_BACKEND_URL": live_server.url,
        "CHATBOT_API_KEY": chatbot_api_key_ensure(),
        "CHATBOT_WEB_FORM_URL": f"{live_server.url}/report",
    }
    actions_log, rasa_log = tmp_path / "actions.log", tmp_path / "rasa.log"
    with started("actions", env=env, log=actions_log) as actions:
        ready(f"http://127.0.0.1:{actions_port}/health", process=actions, log=actions_log)
        settings.CHATBOT_RASA_URL = f"http://127.0.0.1:{rasa_port}"
        api = APIClient()
        with started("rasa", env=env, log=rasa_log) as rasa:
            ready(f"http://127.0.0.1:{rasa_port}/webhooks/rest/", process=rasa, log=rasa_log)
            conversation, said = say(api, None, "theres a huge hole on elm st")
            assert "how big" in said.lower(), said
            _, said = say(api, conversation, "large")
            assert "updates" in said.lower(), said

        # Rasa restarts in the middle of the report: the conversation is in Redis (Rasa's
        # RedisTrackerStore, backend/scripts/chatbot-run.sh), so the answer to the contact
        # question goes on to the summary with the slots filled before the restart.
        restarted_log = tmp_path / "rasa-restarted.log"
        with started("rasa", env=env, log=restarted_log) as rasa:
            ready(f"http://127.0.0.1:{rasa_port}/webhooks/rest/", process=rasa, log=restarted_log)
            _, said = say(api, conversation, "no")
            assert "Shall I send it to the city?" in said, said
            assert "elm st" in said
            _, said = say(api, conversation, "yes")
    assert "tracker_store" in (ROOT / f".var/chatbot/run/endpoints-{rasa_port}.yml").read_text()

    match = re.search(r"SR-\d{4}-\d{6}", said)
    assert match, f"{said}\n{actions_log.read_text()[-2000:]}"
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
