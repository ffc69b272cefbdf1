"""Fixtures of the mobile API tests: residents and a department's crews, each with a token."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests.workorders.factories import Staff, staff_make, token_client, user_make


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def resident(catalog: None) -> User:
    return user_make("rita@example.org")


@pytest.fixture
def resident_api(resident: User) -> APIClient:
    return token_client(resident)


@pytest.fixture
def outsider_api(catalog: None) -> APIClient:
    """Another resident: none of the first one's requests are theirs."""
    return token_client(user_make("otto@example.org"))


@pytest.fixture
def staff(catalog: None) -> Staff:
    return staff_make()


@pytest.fixture
def crew_api(staff: Staff) -> APIClient:
    return token_client(staff.crew)
