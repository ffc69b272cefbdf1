"""API keys: issued by the admin and by ``manage.py open311_key``, stored as SHA-256 digests,
shown once, revocable."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.contrib.messages import get_messages
from django.core.management import CommandError, call_command
from django.test import Client
from rest_framework.test import APIClient

from backend.open311.models import ApiKey
from backend.open311.services import api_key_authenticate
from tests.open311.conftest import BASE, pothole_form

pytestmark = pytest.mark.django_db


def command(*args: str) -> str:
    out = io.StringIO()
    call_command("open311_key", *args, stdout=out)
    return out.getvalue().strip()


def test_create_prints_a_key_that_is_stored_hashed(catalog: None, api: APIClient) -> None:
    raw = command("create", "--name", "FixMyStreet", "--channel", "open311")
    stored = ApiKey.objects.get(name="FixMyStreet")
    assert len(raw) >= 40 and raw.startswith("c311_")
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert stored.prefix == raw[:8]
    assert raw not in {stored.key_hash, stored.prefix, stored.name}
    response = api.post(BASE + "requests.json", pothole_form(api_key=raw))
    assert response.status_code == 200


def test_create_with_a_given_key_is_idempotent() -> None:
    first = command("create", "--name", "demo", "--channel", "open311", "--key", "demo-key")
    again = command("create", "--name", "demo", "--channel", "open311", "--key", "demo-key")
    assert first == again == "demo-key"
    assert ApiKey.objects.count() == 1
    with pytest.raises(CommandError, match="already issued"):
        command("create", "--name", "other", "--channel", "chat", "--key", "demo-key")
    with pytest.raises(CommandError, match="already a key named"):
        command("create", "--name", "demo", "--channel", "open311")
    with pytest.raises(CommandError, match="at least 8"):
        command("create", "--name", "short", "--key", "abc")


def test_list_shows_prefixes_not_keys() -> None:
    raw = command("create", "--name", "chatbot", "--channel", "chat")
    listing = command("list")
    assert "chatbot" in listing and raw[:8] in listing and raw not in listing
    assert "\tchat\tactive\tused never" in listing


def test_revoke_stops_the_key(catalog: None, api: APIClient) -> None:
    raw = command("create", "--name", "partner")
    assert command("revoke", "--name", "partner") == "revoked partner"
    assert api_key_authenticate(raw=raw) is None
    assert api.post(BASE + "requests.json", pothole_form(api_key=raw)).status_code == 403
    with pytest.raises(CommandError):
        command("revoke", "--name", "nobody")


def test_the_admin_issues_a_key_and_shows_it_once(admin_client: Client) -> None:
    response = admin_client.post(
        "/admin/open311/apikey/add/", {"name": "Partner app", "channel": "chat"}
    )
    assert response.status_code == 302
    (message,) = [str(m) for m in get_messages(response.wsgi_request) if "copy it now" in str(m)]
    raw = message.split(" is ")[1].split(" ")[0]
    api_key = api_key_authenticate(raw=raw)
    assert api_key is not None and (api_key.name, api_key.channel) == ("Partner app", "chat")
    shown = admin_client.get(response["Location"])  # the message, once
    assert raw.encode() in shown.content
    page = admin_client.get(f"/admin/open311/apikey/{api_key.pk}/change/")
    assert page.status_code == 200 and raw.encode() not in page.content
    listing = admin_client.get("/admin/open311/apikey/")
    assert raw.encode() not in listing.content and api_key.prefix.encode() in listing.content


def test_the_admin_revokes_with_the_list_action(admin_client: Client) -> None:
    raw = command("create", "--name", "old partner")
    api_key = ApiKey.objects.get(name="old partner")
    admin_client.post(
        "/admin/open311/apikey/",
        {"action": "revoke", "_selected_action": [str(api_key.pk)]},
    )
    assert api_key_authenticate(raw=raw) is None
