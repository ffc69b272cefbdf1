"""Fixtures of the work-order tests: a department's staff and their API clients."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.workorders.factories import Staff, staff_make, token_client


@pytest.fixture
def staff(catalog: None) -> Staff:
    return staff_make()


@pytest.fixture
def supervisor_api(staff: Staff) -> APIClient:
    return token_client(staff.supervisor)


@pytest.fixture
def crew_api(staff: Staff) -> APIClient:
    return token_client(staff.crew)


@pytest.fixture
def outsider_api(staff: Staff) -> APIClient:
    return token_client(staff.outsider)
