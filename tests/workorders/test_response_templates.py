"""Response templates: staff's ready-made public notes per service (or all) and status, in
en/es/vi, with placeholders filled in for a work order; offered on the console's work order
page and in the crews' detail answer, only to those who may act on the order."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import pgettext
from rest_framework.test import APIClient

from backend.catalog.models import ResponseTemplate, ServiceType
from backend.catalog.response_templates import placeholders_check, template_fill
from backend.service_requests.models import ServiceRequestEvent
from tests.openapi import assert_matches_schema
from tests.workorders.factories import Staff, order_in, order_of, request_make, token_client
from workorders.models import WorkOrder, WorkOrderStatus
from workorders.response_templates import response_templates_for_work_order

pytestmark = pytest.mark.django_db

CREW_DETAIL = "/mobile/v1/crew/workorders/{id}"
PARTS = (
    "Parts are ordered for your {service} ({public_id}); {team} expects to finish by "
    "{expected_date}."
)


def _template(**fields: Any) -> ResponseTemplate:
    fields.setdefault("name", "Parts ordered")
    fields.setdefault("status", WorkOrderStatus.ON_HOLD)
    fields.setdefault("text", PARTS)
    template = ResponseTemplate(**fields)
    template.full_clean()
    template.save()
    return template


def _pothole() -> ServiceType:
    return ServiceType.objects.get(service_code="pothole")


# --- Placeholders


@pytest.mark.parametrize(
    "text", ["Hello {name}", "{service.__class__}", "{expected_date:%Y}", "{team!r}", "{}", "{0}"]
)
def test_an_unknown_placeholder_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        placeholders_check(text)
    assert "text" in caught.value.message_dict
    assert "Unknown placeholder" in caught.value.message_dict["text"][0]


@pytest.mark.parametrize("text", ["A stray { brace", "and } this"])
def test_a_stray_brace_is_refused_naming_the_field(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        placeholders_check(text)
    assert "text" in caught.value.message_dict


def test_known_placeholders_and_escaped_braces_pass_and_fill_in() -> None:
    text = "{service} by {expected_date} ({team}, {public_id}) {{literally}}"
    placeholders_check(text)
    filled = template_fill(text, {"service": "Pothole", "public_id": "SR-1", "team": ""})
    # A value missing is left empty
    assert filled == "Pothole by  (, SR-1) {literally}"


def test_saving_an_unknown_placeholder_is_refused_in_the_admin(catalog: None) -> None:
    admin_user = User.objects.create_superuser("root", "root@example.org", "x")
    client = Client()
    client.force_login(admin_user)
    form = {
        "name": "Bad",
        "service_type": "",
        "status": "",
        "language": "en",
        "text": "Dear {resident_name}",
        "active": "on",
    }
    response = client.post("/admin/catalog/responsetemplate/add/", form)
    assert response.status_code == 200
    assert "Unknown placeholder {resident_name}" in response.content.decode()
    assert not ResponseTemplate.objects.exists()

    # The status is one of the work orders' (or any)
    response = client.post(
        "/admin/catalog/responsetemplate/add/", {**form, "text": PARTS, "status": "fixed"}
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()

    response = client.post(
        "/admin/catalog/responsetemplate/add/", {**form, "text": PARTS, "status": "on_hold"}
    )
    assert response.status_code == 302
    assert ResponseTemplate.objects.get().status == "on_hold"


# --- Rendering for a work order


def test_rendering_fills_in_the_orders_data_in_the_requests_language(staff: Staff) -> None:
    # Given a template for potholes in English and Spanish, and an order of a Spanish request
    _template(service_type=_pothole())
    _template(service_type=_pothole(), language="es", text="Piezas pedidas: {service}, {team}.")
    order = order_in(
        WorkOrderStatus.ASSIGNED, staff=staff, service_request=request_make(language="es")
    )

    # Then the Spanish one is offered, filled in
    (offered,) = response_templates_for_work_order(work_order=order)
    assert offered.language == "es"
    assert offered.text == "Piezas pedidas: Bache, Crew A."


def test_rendering_falls_back_to_english_and_leaves_missing_values_empty(catalog: None) -> None:
    _template(service_type=None, status="")
    order = order_of(request_make(language="vi"))  # no team yet

    (offered,) = response_templates_for_work_order(work_order=order)

    sr = order.service_request
    assert sr.expected_at is not None
    with translation.override("vi"):
        expected = date_format(
            timezone.localtime(sr.expected_at), pgettext("expected date", "l j F")
        )
    assert offered.language == "en"
    assert offered.text == (
        f"Parts are ordered for your Ổ gà ({sr.public_id});  expects to finish by {expected}."
    )


def test_only_active_templates_of_the_orders_service_or_all_services(catalog: None) -> None:
    mine = _template(service_type=_pothole(), name="Mine")
    everyone = _template(service_type=None, name="Everyone")
    _template(service_type=ServiceType.objects.get(service_code="graffiti"), name="Graffiti")
    _template(service_type=_pothole(), name="Retired", active=False)
    order = order_of(request_make())

    offered = response_templates_for_work_order(work_order=order)

    assert [t.id for t in offered] == [mine.pk, everyone.pk]


# --- Offered in the console


def _console(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_console_offers_templates_and_fills_the_box(staff: Staff) -> None:
    hold = _template(service_type=_pothole())
    closing = _template(
        service_type=_pothole(), name="Done", status=WorkOrderStatus.COMPLETED, text="Fixed."
    )
    order = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff)
    url = f"/staff/workorders/{order.pk}"
    client = _console(staff.supervisor)

    page = client.get(url).content.decode()
    assert 'id="response-template"' in page
    assert f'value="{hold.pk}"' in page and f'value="{closing.pk}"' in page
    assert "workorders/templates.js" in page

    # Without JavaScript: the chosen one comes back filled into the box it goes with
    filled = client.get(url, {"template": hold.pk}).content.decode()
    offered = {t.id: t.text for t in response_templates_for_work_order(work_order=order)}
    message_box = filled.split('id="note-public_note"')[1].split("</textarea>")[0]
    assert message_box.endswith(offered[hold.pk].replace("'", "&#x27;"))
    closing_page = client.get(url, {"template": closing.pk}).content.decode()
    complete_form = f'<form method="post" enctype="multipart/form-data" action="{url}/complete">'
    closing_box = closing_page.split(complete_form)[1].split("</textarea>")[0]
    assert closing_box.endswith("Fixed.")


def test_the_console_message_to_the_resident_writes_a_public_note(staff: Staff) -> None:
    order = order_in(WorkOrderStatus.ASSIGNED, staff=staff)
    client = _console(staff.supervisor)
    response = client.post(
        f"/staff/workorders/{order.pk}/note", {"public_note": "We are on it."}, follow=True
    )
    assert response.status_code == 200
    assert ServiceRequestEvent.objects.filter(
        service_request=order.service_request, public_note="We are on it."
    ).exists()
    empty = client.post(f"/staff/workorders/{order.pk}/note", {"public_note": ""}, follow=True)
    assert any("public_note" in str(m) for m in empty.context["messages"])


def test_the_console_offers_nothing_to_those_who_may_not_act(staff: Staff) -> None:
    _template(service_type=_pothole())
    order = order_in(WorkOrderStatus.ASSIGNED, staff=staff)
    url = f"/staff/workorders/{order.pk}"
    for user in (staff.outsider, staff.crew):
        response = _console(user).get(url, {"template": 1})
        assert response.status_code in (403, 404), user
        assert b"response-template" not in response.content
    anonymous = Client().get(url)
    assert anonymous.status_code == 302


# --- Offered in the crew API


def _crew_detail(client: APIClient, order: WorkOrder) -> Any:
    return client.get(CREW_DETAIL.format(id=order.pk))


def test_the_crew_detail_gives_the_rendered_templates(staff: Staff) -> None:
    _template(service_type=_pothole())
    order = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff)

    response = _crew_detail(token_client(staff.crew), order)

    assert response.status_code == 200
    body = response.json()
    assert_matches_schema(body, path="/mobile/v1/crew/workorders/{id}", method="get", status=200)
    (offered,) = body["response_templates"]
    assert offered["status"] == "on_hold"
    assert offered["text"].startswith("Parts are ordered for your Pothole (SR-")
    assert "Crew A expects" in offered["text"]


def test_the_crew_api_offers_nothing_to_another_team_or_department(staff: Staff) -> None:
    _template(service_type=_pothole())
    order = order_in(WorkOrderStatus.ASSIGNED, staff=staff)
    for user in (staff.other_crew, staff.outsider):
        response = _crew_detail(token_client(user), order)
        assert response.status_code == 404
        assert "response_templates" not in response.json()
    assert _crew_detail(APIClient(), order).status_code == 401
