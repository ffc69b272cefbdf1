"""The real assistant for integration tests: Rasa and its action server on free loopback
ports, started as the bench starts them (``bench.chat.assistant``), the actions filing
through the test's live server with the chatbot's own key. Never skipped: without the
assistant's virtualenv or model a test fails, saying how to make them (backend/scripts/test.sh
does so before pytest)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bench.chat import assistant as started  # the assistant's processes, as the bench runs them
from bench.chat import wait_ready
from chatbot.services import chatbot_api_key_ensure
from tests.chatbot.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
RASA = ROOT / ".var/chatbot/venv/bin/rasa"
CURRENT = ROOT / ".var/chatbot/models/current"
READY_WITHIN_S = 240.0


def assistant_required() -> None:
    model = CURRENT.read_text().strip() if CURRENT.exists() else ""
    if not RASA.exists() or not model or not (ROOT / model).exists():
        pytest.fail(
            "The assistant is not built: run `bash backend/scripts/chatbot-train.sh` "
            "(make test does it first) to create .var/chatbot/venv and the model."
        )


@dataclass
class Assistant:
    rasa_port: int
    env: dict[str, str]
    logs: Path
    actions_log: Path

    @contextmanager
    def rasa(self, log_name: str = "rasa.log") -> Iterator[Path]:
        """Rasa running (stopped on leaving); yields its log."""
        log = self.logs / log_name
        with _serving("rasa", f"http://127.0.0.1:{self.rasa_port}/webhooks/rest/", self.env, log):
            yield log


@contextmanager
def _serving(name: str, url: str, env: dict[str, str], log: Path) -> Iterator[None]:
    """``name`` started (stopped on leaving) and answering at ``url``; the test fails when it
    does not come up."""
    with started(name, env=env, log=log) as process:
        try:
            wait_ready(url, process=process, log=log, within=READY_WITHIN_S)
        except SystemExit as exc:
            pytest.fail(str(exc))
        yield


@contextmanager
def actions_running(*, live_server_url: str, settings: Any, logs: Path) -> Iterator[Assistant]:
    """The action server running (stopped on leaving), and the chatbot pointed at the Rasa
    port that ``Assistant.rasa()`` starts."""
    assistant_required()
    rasa_port, actions_port = free_port(), free_port()
    env = {
        **os.environ,
        "CHATBOT_RASA_PORT": str(rasa_port),
        "CHATBOT_ACTIONS_PORT": str(actions_port),
        "CHATBOT_BACKEND_URL": live_server_url,
        "CHATBOT_API_KEY": chatbot_api_key_ensure(),
        "CHATBOT_WEB_FORM_URL": f"{live_server_url}/report",
    }
    actions_log = logs / "actions.log"
    with _serving("actions", f"http://127.0.0.1:{actions_port}/health", env, actions_log):
        settings.CHATBOT_RASA_URL = f"http://127.0.0.1:{rasa_port}"
        yield Assistant(rasa_port=rasa_port, env=env, logs=logs, actions_log=actions_log)
