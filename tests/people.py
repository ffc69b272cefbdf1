"""Fixtures of people with API clients: residents signed in with a token (the one who
reports, and another whose requests are not theirs), and a department's staff."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from tests.workorders.factories import Staff, staff_make, token_client, user_make


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
    """Public Works with two crews and a supervisor, and a crew member of Sanitation."""
    return staff_make()


@pytest.fixture
def crew_api(staff: Staff) -> APIClient:
    return token_client(staff.crew)
