"""Every registered model's list and change page loads for a superuser."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.db.models import Model
from django.test import Client
from django.urls import reverse

from analytics.models import ScoreTarget
from backend.catalog.models import Department, ServiceType
from backend.intake.services import PhotoUpload
from backend.photos.models import Photo, ProcessingState
from backend.photos.services import photo_process
from backend.service_requests.models import ServiceRequest
from tests.catalog.factories import one_of_each_emergency_model
from tests.chatbot.factories import one_of_each_chatbot_model
from tests.conftest import jpeg_bytes
from tests.factories import submit
from tests.open311.factories import one_of_each_open311_model
from tests.workorders.factories import one_of_each_workorders_model
from workorders.models import WorkOrder


@pytest.fixture
def one_of_each(catalog: None) -> ServiceRequest:
    """A request with a processed photo (so events, a photo and a work order exist)."""
    Group.objects.get_or_create(name="crew")
    sr = submit("pothole", photos=[PhotoUpload(jpeg_bytes())])
    photo = Photo.objects.get(service_request=sr)
    photo_process(photo_id=photo.pk)
    photo.refresh_from_db()
    assert photo.state == ProcessingState.READY
    one_of_each_workorders_model()  # routing rules, areas, teams, holidays, feedback, tokens
    one_of_each_open311_model()  # an API key and an intake token
    ScoreTarget.objects.create(indicator="on_time", target=0.9)  # analytics
    one_of_each_chatbot_model()  # a conversation and its log
    one_of_each_emergency_model()  # a banner, a switched-off service, their events
    return sr


def _url(model: type[Model], view: str, *args: object) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_registered_model_has_a_working_list_and_change_page(
    admin_client: Client, one_of_each: ServiceRequest
) -> None:
    models = list(admin.site._registry)
    assert {ServiceRequest, Photo, WorkOrder, Department, ServiceType} <= set(models)
    for model in models:
        response = admin_client.get(_url(model, "changelist"))
        assert response.status_code == 200, model
        instance = model._default_manager.first()
        assert instance is not None, f"no {model.__name__} to open"
        response = admin_client.get(_url(model, "change", instance.pk))
        assert response.status_code == 200, model


def test_the_admin_index_loads(admin_client: Client) -> None:
    assert admin_client.get(reverse("admin:index")).status_code == 200


def test_photos_show_their_thumbnail(admin_client: Client, one_of_each: ServiceRequest) -> None:
    photo = Photo.objects.get(service_request=one_of_each)

    listing = admin_client.get(_url(Photo, "changelist")).content.decode()
    request_page = admin_client.get(_url(ServiceRequest, "change", one_of_each.pk)).content.decode()

    assert f'<img src="{photo.thumbnail.url}"' in listing
    assert f'<img src="{photo.thumbnail.url}"' in request_page


def test_photos_and_work_orders_are_read_only(
    admin_client: Client, one_of_each: ServiceRequest
) -> None:
    photo = Photo.objects.get(service_request=one_of_each)
    work_order = WorkOrder.objects.get(service_request=one_of_each)

    assert admin_client.get(_url(Photo, "add")).status_code == 403
    assert admin_client.get(_url(WorkOrder, "add")).status_code == 403
    assert admin_client.post(_url(WorkOrder, "change", work_order.pk), {}).status_code == 403
    assert admin_client.post(_url(Photo, "delete", photo.pk), {"post": "yes"}).status_code == 403
    assert WorkOrder.objects.filter(pk=work_order.pk).exists()
    assert Photo.objects.filter(pk=photo.pk).exists()


def test_the_request_page_shows_history_photos_and_work_order_read_only(
    admin_client: Client, one_of_each: ServiceRequest
) -> None:
    response = admin_client.get(_url(ServiceRequest, "change", one_of_each.pk))

    inlines = {f.formset.prefix: f for f in response.context["inline_admin_formsets"]}
    assert set(inlines) == {"events", "photos", "work_orders"}
    for inline in inlines.values():
        assert not inline.has_add_permission
        assert not inline.has_change_permission
        assert not inline.has_delete_permission
    assert len(inlines["events"].formset.forms) == 1
    assert "Request received." in response.content.decode()


def test_requests_cannot_be_deleted_in_the_admin(
    admin_client: Client, one_of_each: ServiceRequest
) -> None:
    response = admin_client.post(_url(ServiceRequest, "delete", one_of_each.pk), {"post": "yes"})

    assert response.status_code == 403
    assert ServiceRequest.objects.filter(pk=one_of_each.pk).exists()


def test_a_list_attribute_without_values_is_a_form_error(
    admin_client: Client, catalog: None
) -> None:
    service = ServiceType.objects.get(service_code="dead_animal")
    attribute = service.attributes.get()
    data = {
        "service_code": service.service_code,
        "name": service.name,
        "description": service.description,
        "group": service.group,
        "department": service.department_id,
        "active": "on",
        "turnaround_hours": service.turnaround_hours,
        "default_priority": service.default_priority,
        "keywords": '["dead"]',
        "icon": service.icon,
        "name_i18n": '{"es": "Animal muerto"}',
        "description_i18n": "{}",
        "service_area": "",
        "attributes-TOTAL_FORMS": "1",
        "attributes-INITIAL_FORMS": "1",
        "attributes-MIN_NUM_FORMS": "0",
        "attributes-MAX_NUM_FORMS": "1000",
        "attributes-0-id": attribute.pk,
        "attributes-0-service_type": service.pk,
        "attributes-0-code": attribute.code,
        "attributes-0-datatype": "singlevaluelist",
        "attributes-0-order": "1",
        "attributes-0-required": "on",
        "attributes-0-variable": "on",
        "attributes-0-description": attribute.description,
        "attributes-0-values": "[]",
        "attributes-0-description_i18n": "{}",
    }

    response = admin_client.post(_url(ServiceType, "change", service.pk), data)

    assert response.status_code == 200
    errors = response.context["inline_admin_formsets"][0].formset.errors
    assert "List attributes need at least one value" in str(errors)
    attribute.refresh_from_db()
    assert attribute.values


def test_translations_of_unknown_languages_are_a_form_error(
    admin_client: Client, catalog: None
) -> None:
    service = ServiceType.objects.get(service_code="dead_animal")
    response = admin_client.get(_url(ServiceType, "change", service.pk))
    form = response.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data.update(
        {
            "name_i18n": '{"fr": "Animal mort"}',
            "keywords": "[]",
            "description_i18n": "{}",
            "service_area": "",
            "attributes-TOTAL_FORMS": "0",
            "attributes-INITIAL_FORMS": "0",
        }
    )
    data = {k: v for k, v in data.items() if v is not False}

    response = admin_client.post(_url(ServiceType, "change", service.pk), data)

    assert response.status_code == 200
    assert "Unknown language(s): fr" in str(response.context["adminform"].form.errors)
