"""The "Enter a phone report" view: the admin's only way to add a request, through intake."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from backend.catalog.models import ServiceType
from backend.service_requests.models import Channel, EventKind, ServiceRequest, Status
from tests.admin.conftest import change_url, changelist_url, messages_of, phone_report_url
from tests.conftest import BOSTON
from workorders.models import WorkOrder

pytestmark = pytest.mark.usefixtures("catalog")


def _report(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "service_type": ServiceType.objects.get(service_code="pothole").pk,
        "lat": BOSTON[0],
        "long": BOSTON[1],
        "address": "1 City Hall Sq",
        "description": "Caller says the hole is getting bigger",
        "attributes": '{"size": "large"}',
        "language": "es",
        "contact_name": "Ana Caller",
        "contact_email": "",
        "contact_phone": "617-555-0199",
        "submission_key": "form-1",
    }
    data.update(overrides)
    return data


def test_the_form_lists_the_services_and_their_questions(admin_client: Client) -> None:
    response = admin_client.get(phone_report_url())

    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter a phone report" in page
    assert "<code>size</code> (required)" in page
    assert 'name="submission_key"' in page


def test_a_phone_report_is_filed_through_intake(admin_client: Client, superuser: User) -> None:
    response = admin_client.post(phone_report_url(), _report(), follow=True)

    sr = ServiceRequest.objects.get()
    assert response.redirect_chain == [(change_url(sr), 302)]
    assert sr.channel == Channel.PHONE
    assert sr.status == Status.SUBMITTED
    assert sr.attributes == {"size": "large"}
    assert sr.language == "es"
    assert (sr.contact_name, sr.contact_phone) == ("Ana Caller", "617-555-0199")
    assert sr.reporter is None
    event = sr.events.get()
    assert (event.kind, event.channel, event.actor) == (EventKind.CREATED, "phone", superuser)
    assert WorkOrder.objects.filter(service_request=sr).count() == 1
    assert messages_of(response) == [f"Phone report {sr.public_id} entered."]


def test_the_success_message_names_a_possible_duplicate(admin_client: Client) -> None:
    admin_client.post(phone_report_url(), _report(submission_key="first"), follow=True)
    first = ServiceRequest.objects.get()

    response = admin_client.post(phone_report_url(), _report(submission_key="second"), follow=True)

    second = ServiceRequest.objects.exclude(pk=first.pk).get()
    (message,) = messages_of(response)
    assert message.startswith(f"Phone report {second.public_id} entered.")
    assert f'Possible duplicate of <a href="{change_url(first)}">{first.public_id}</a>' in (message)


def test_an_address_alone_is_a_location(admin_client: Client) -> None:
    response = admin_client.post(phone_report_url(), _report(lat="", long=""))

    assert response.status_code == 302
    sr = ServiceRequest.objects.get()
    assert sr.location is None
    assert sr.address == "1 City Hall Sq"


def test_a_missing_location_is_shown_on_the_form_and_creates_nothing(
    admin_client: Client,
) -> None:
    response = admin_client.post(phone_report_url(), _report(lat="", long="", address=""))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["lat"] == ["A location is required: give lat and long, or an address."]
    assert "Please correct the error below." in response.content.decode()
    assert not ServiceRequest.objects.exists()
    assert not WorkOrder.objects.exists()


def test_a_bad_attribute_value_is_shown_on_the_answers_and_creates_nothing(
    admin_client: Client,
) -> None:
    response = admin_client.post(phone_report_url(), _report(attributes='{"size": "huge"}'))

    assert response.status_code == 200
    assert response.context["form"].errors["attributes"] == [
        "size must be one of: small, medium, large."
    ]
    assert not ServiceRequest.objects.exists()


def test_a_missing_required_answer_names_the_question(admin_client: Client) -> None:
    response = admin_client.post(phone_report_url(), _report(attributes=""))

    assert response.context["form"].errors["attributes"] == ["size: This attribute is required."]
    assert not ServiceRequest.objects.exists()


def test_several_intake_errors_land_on_their_fields(admin_client: Client) -> None:
    response = admin_client.post(
        phone_report_url(),
        _report(lat="95", contact_email="not-an-address", attributes='{"size": "large", "x": 1}'),
    )

    errors = response.context["form"].errors
    assert errors["lat"] == ["lat must be between -90 and 90."]
    assert errors["contact_email"] == ["Enter a valid e-mail address."]
    assert errors["attributes"] == ["x: pothole has no such attribute."]
    assert not ServiceRequest.objects.exists()


def test_answers_that_are_not_json_are_a_form_error(admin_client: Client) -> None:
    response = admin_client.post(phone_report_url(), _report(attributes="size=large"))

    assert response.status_code == 200
    assert response.context["form"].errors["attributes"] == ["Enter a valid JSON."]
    assert not ServiceRequest.objects.exists()


def test_a_double_submission_files_one_request(admin_client: Client) -> None:
    admin_client.post(phone_report_url(), _report(), follow=True)

    response = admin_client.post(phone_report_url(), _report(), follow=True)

    sr = ServiceRequest.objects.get()
    assert response.redirect_chain == [(change_url(sr), 302)]
    assert messages_of(response) == [
        f"This report was already entered as {sr.public_id}; no second request was created."
    ]


def test_a_reused_form_with_other_input_is_refused(admin_client: Client) -> None:
    admin_client.post(phone_report_url(), _report())
    sr = ServiceRequest.objects.get()

    response = admin_client.post(phone_report_url(), _report(description="Another hole"))

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        f"This form was already used to enter {sr.public_id}. "
        "Open a new form to enter another report."
    ]
    assert ServiceRequest.objects.count() == 1


def test_the_add_button_leads_to_the_phone_report(admin_client: Client) -> None:
    add = reverse("admin:service_requests_servicerequest_add")

    response = admin_client.get(add)
    listing = admin_client.get(changelist_url()).content.decode()

    assert response.status_code == 302
    assert response["Location"] == phone_report_url()
    assert f'href="{phone_report_url()}" class="addlink">Enter a phone report' in listing
    assert admin_client.post(add, _report()).status_code == 302
    assert not ServiceRequest.objects.exists()


def test_staff_without_the_add_permission_cannot_enter_reports(db: None) -> None:
    clerk = get_user_model().objects.create_user(username="clerk", is_staff=True)
    client = Client()
    client.force_login(clerk)

    assert client.get(phone_report_url()).status_code == 403
    assert client.post(phone_report_url(), _report()).status_code == 403
    assert not ServiceRequest.objects.exists()
