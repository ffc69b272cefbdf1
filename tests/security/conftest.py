"""Fixtures of the security tests: a resident with a request, another resident, crews of two
departments, a supervisor, an admin, an Open311 key; each client from its own address."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.test import APIClient

from backend.open311.services import api_key_create
from backend.service_requests.models import ServiceRequest
from tests.conftest import BOSTON
from tests.factories import submit
from tests.workorders.factories import Staff, staff_make, token_client, user_make

_addresses = itertools.count(1)


def fresh_address() -> str:
    """A client address no other test used: rate-limit counters never carry over."""
    n = next(_addresses)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def open311_form(key: str, **fields: Any) -> dict[str, Any]:
    """A large pothole at City Hall as an Open311 POST's form, with ``fields`` (no api_key
    when ``key`` is empty)."""
    return {
        **({"api_key": key} if key else {}),
        "service_code": "pothole",
        "lat": str(BOSTON[0]),
        "long": str(BOSTON[1]),
        "attribute[size]": "large",
        **fields,
    }


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@dataclass
class World:
    """Everyone an access case needs, and the things they own."""

    staff: Staff
    resident: User
    other_resident: User
    admin: User
    service_request: ServiceRequest  # filed by ``resident``
    open311_key: str

    def user(self, who: str) -> User:
        """The user behind ``who`` (any name of ``api`` but ``anonymous``)."""
        return {
            "resident": self.resident,
            "other_resident": self.other_resident,
            "crew": self.staff.crew,
            "other_crew": self.staff.outsider,
            "supervisor": self.staff.supervisor,
            "admin": self.admin,
        }[who]

    def api(self, who: str) -> APIClient:
        """A client for ``anonymous``, ``resident``, ``other_resident``, ``crew`` (of the
        request's department), ``other_crew`` (another department), ``supervisor``, ``admin``."""
        client = APIClient(REMOTE_ADDR=fresh_address()) if who == "anonymous" else None
        if client is None:
            client = token_client(self.user(who))
            client.defaults["REMOTE_ADDR"] = fresh_address()
        return client

    def browser(self, who: str) -> Client:
        """A Django test client with the session of ``who`` (pages, admin)."""
        client = Client(REMOTE_ADDR=fresh_address())
        if who != "anonymous":
            client.force_login(self.user(who))
        return client


@pytest.fixture
def world(catalog: None) -> World:
    staff = staff_make()
    resident = user_make("rita@example.org", first_name="Rita")
    other = user_make("otto@example.org", first_name="Otto")
    admin = User.objects.create_superuser("root", "root@example.org", "a long passphrase 7")
    service_request = submit(
        "pothole",
        reporter=resident,
        contact_name="Rita",
        contact_email="rita@example.org",
        description="Deep hole",
    )
    key = api_key_create(name="security", channel="open311", raw="security-key").raw
    return World(staff, resident, other, admin, service_request, key)
