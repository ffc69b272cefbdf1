"""The request's change page: status and the intake's fields cannot be written."""

from __future__ import annotations

from typing import Any

from django.test import Client

from backend.catalog.models import Priority
from backend.service_requests.models import EventKind, ServiceRequest, Status
from tests.admin.conftest import change_url


def _posted_form(response: Any) -> dict[str, Any]:
    """What a browser posts back for the page: the main form and each inline's management
    form and rows, as rendered."""
    data: dict[str, Any] = {}
    form = response.context["adminform"].form
    for name in form.fields:
        value = form[name].value()
        if value is not None:
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        for bound in (*formset.management_form, *(f for fs in formset.forms for f in fs)):
            if bound.value() is not None:
                data[bound.html_name] = bound.value()
    return data


def test_status_cannot_be_changed_with_the_form(
    admin_client: Client, service_request: ServiceRequest
) -> None:
    page = admin_client.get(change_url(service_request))
    form = page.context["adminform"].form
    assert "status" not in form.fields
    assert set(form.fields) == {
        "priority",
        "contact_name",
        "contact_email",
        "contact_phone",
        "legal_hold",
        "legal_hold_reason",
    }
    data = _posted_form(page)
    data.update(
        status=Status.CLOSED,
        close_reason="resolved",
        closed_at="2024-01-01 10:00:00",
        public_id="SR-HACKED",
        description="Rewritten",
        idempotency_key="stolen",
        priority=Priority.URGENT,
    )

    response = admin_client.post(change_url(service_request), data)

    assert response.status_code == 302, response.context and response.context["errors"]
    service_request.refresh_from_db()
    assert service_request.status == Status.SUBMITTED
    assert service_request.closed_at is None
    assert service_request.close_reason == ""
    assert service_request.public_id.startswith("SR-")
    assert service_request.description == "Hole by the bus stop"
    assert service_request.idempotency_key is None
    assert service_request.priority == Priority.URGENT  # the one field that was editable
    assert list(service_request.events.values_list("kind", flat=True)) == [EventKind.CREATED]


def test_the_page_shows_status_as_text_and_offers_the_location_on_a_map(
    admin_client: Client, service_request: ServiceRequest
) -> None:
    page = admin_client.get(change_url(service_request)).content.decode()

    assert 'name="status"' not in page
    assert "openstreetmap.org/?mlat=42.3601" in page
    assert "Submitted" in page
