"""Open311 rows through the real services, for tests outside tests/open311 (the admin pages)."""

from __future__ import annotations

from django.test import override_settings

from backend.open311.models import IntakeToken
from backend.open311.services import Submission, api_key_create, open311_request_submit


def one_of_each_open311_model() -> None:
    """An API key and an intake token (pending: its task is queued after commit)."""
    issued = api_key_create(name="admin pages", channel="open311")
    with override_settings(OPEN311_ASYNC_INTAKE=True):
        open311_request_submit(
            api_key=issued.api_key,
            submission=Submission(
                service_code="pothole", lat="42.36", long="-71.06", attributes={"size": "large"}
            ),
        )
    assert IntakeToken.objects.exists()
