"""Open311 rows through the real services, for tests outside tests/open311 (the admin pages)."""

from __future__ import annotations

from django.test import override_settings

from backend.open311.models import IntakeToken, PartnerUpdate
from backend.open311.parameters import PartnerUpdateIn
from backend.open311.services import (
    Submission,
    api_key_create,
    open311_request_submit,
    partner_update_submit,
)
from backend.service_requests.models import ServiceRequest


def one_of_each_open311_model() -> None:
    """An API key, an intake token (pending: its task is queued after commit) and a
    partner's update (a resident comment pending moderation) on the latest request."""
    issued = api_key_create(name="admin pages", channel="open311", may_post_updates=True)
    with override_settings(OPEN311_ASYNC_INTAKE=True):
        open311_request_submit(
            api_key=issued.api_key,
            submission=Submission(
                service_code="pothole", lat="42.36", long="-71.06", attributes={"size": "large"}
            ),
        )
    assert IntakeToken.objects.exists()
    service_request = ServiceRequest.objects.order_by("-id").first()
    if service_request is not None:
        partner_update_submit(
            api_key=issued.api_key,
            update=PartnerUpdateIn(
                service_request_id=service_request.public_id,
                update_id="admin-pages-1",
                status="FIXED",
                description="Looks fixed to me",
                updated_at=None,
                media_url="",
                author_name="A Resident",
                author_email="resident@example.org",
            ),
        )
        assert PartnerUpdate.objects.exists()
