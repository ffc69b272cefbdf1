"""The assistant's Open311 key: issued once, channel chat, written owner-only."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from backend.open311.models import ApiKey
from backend.open311.services import api_key_authenticate

pytestmark = pytest.mark.django_db


def test_the_key_is_issued_once_and_authenticates_as_chat(tmp_path: Path) -> None:
    path = tmp_path / "chatbot" / "api-key"
    call_command("chatbot_key", "--file", str(path))
    raw = path.read_text().strip()
    call_command("chatbot_key", "--file", str(path))
    assert path.read_text().strip() == raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = api_key_authenticate(raw=raw)
    assert key is not None and key.channel == "chat"
    assert ApiKey.objects.filter(channel="chat").count() == 1


def test_a_new_secret_key_revokes_the_old_chatbot_key(tmp_path: Path, settings: Any) -> None:
    path = tmp_path / "api-key"
    call_command("chatbot_key", "--file", str(path))
    old = path.read_text().strip()
    settings.SECRET_KEY = "another-secret-key-for-this-test-0123456789abcdef"
    call_command("chatbot_key", "--file", str(path))
    assert api_key_authenticate(raw=old) is None
    assert api_key_authenticate(raw=path.read_text().strip()) is not None
