"""Fixtures of the work-order tests: a department's staff's API clients (the staff and the
crew's client: tests/people.py)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.workorders.factories import Staff, token_client


@pytest.fixture
def supervisor_api(staff: Staff) -> APIClient:
    return token_client(staff.supervisor)


@pytest.fixture
def outsider_api(staff: Staff) -> APIClient:
    return token_client(staff.outsider)
