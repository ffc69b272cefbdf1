"""Emergency mode: a site banner and services switched off for a while, each change an
audited event; Open311, the web, the mobile API and the intake pipeline all say so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone, translation
from rest_framework.test import APIClient

from backend.catalog.emergency import (
    EmergencyError,
    service_suspension_clear,
    service_suspension_set,
    site_banner_clear,
    site_banner_set,
)
from backend.catalog.models import (
    EmergencyEvent,
    EmergencyEventKind,
    ServiceSuspension,
    ServiceType,
    SiteBanner,
)
from backend.catalog.selectors import (
    emergency_cache_clear,
    emergency_state,
    service_suspension_current,
    site_banner_current,
)
from backend.intake.services import IntakeError
from backend.open311.services import api_key_create, precheck_catalog_clear
from backend.service_requests.models import ServiceRequest
from tests.conftest import pothole_payload, web_report_form
from tests.factories import submit
from tests.open311.conftest import pothole_form, xml_parse
from tests.openapi import assert_matches_schema
from tests.workorders.factories import token_client, user_make

pytestmark = pytest.mark.django_db

MESSAGE = "Call 911 for a gas leak."
OPEN311 = "/open311/v2/"


@pytest.fixture(autouse=True)
def _fresh_caches() -> Iterator[None]:
    emergency_cache_clear()
    precheck_catalog_clear()
    yield
    emergency_cache_clear()
    precheck_catalog_clear()


@pytest.fixture
def manager(db: None) -> User:
    return User.objects.create_superuser(username="duty", email="duty@example.org", password=None)


@pytest.fixture
def pothole_off(catalog: None, manager: User) -> ServiceSuspension:
    return service_suspension_set(
        service_type=ServiceType.objects.get(service_code="pothole"),
        message=MESSAGE,
        message_i18n={"es": "Llame al 911 por una fuga de gas."},
        ends_at=timezone.now() + timedelta(hours=2),
        actor=manager,
    )


@pytest.fixture
def open311_key(db: None) -> str:
    return api_key_create(name="partner app", channel="open311").raw


# --- Open311


def test_a_switched_off_service_leaves_the_open311_service_list(
    pothole_off: ServiceSuspension, api: APIClient
) -> None:
    codes = {s["service_code"] for s in api.get(OPEN311 + "services.json").json()}
    assert "pothole" not in codes and "graffiti" in codes
    tree = xml_parse(api.get(OPEN311 + "services.xml").content)
    assert "pothole" not in {s.findtext("service_code") for s in tree}
    definition = api.get(OPEN311 + "services/pothole.json")
    assert definition.status_code == 404
    assert MESSAGE in definition.json()[0]["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_open311_post_for_it_is_404_naming_service_code_with_the_message(
    pothole_off: ServiceSuspension, api: APIClient, open311_key: str, fmt: str
) -> None:
    response = api.post(OPEN311 + f"requests.{fmt}", pothole_form(api_key=open311_key))

    assert response.status_code == 404
    if fmt == "json":
        (error,) = response.json()
        assert error["code"] == 404
        description = error["description"]
    else:
        tree = xml_parse(response.content)
        assert tree.tag == "errors"
        (error_element,) = list(tree)
        assert error_element.findtext("code") == "404"
        description = error_element.findtext("description") or ""
    assert description.startswith("service_code: ")
    assert MESSAGE in description
    assert not ServiceRequest.objects.exists()


def test_the_asynchronous_open311_intake_refuses_it_before_queueing(
    pothole_off: ServiceSuspension, api: APIClient, open311_key: str
) -> None:
    with override_settings(OPEN311_ASYNC_INTAKE=True):
        response = api.post(OPEN311 + "requests.json", pothole_form(api_key=open311_key))
    assert response.status_code == 404
    assert MESSAGE in response.json()[0]["description"]


def test_the_message_follows_the_residents_language(
    pothole_off: ServiceSuspension, api: APIClient, open311_key: str
) -> None:
    response = api.post(
        OPEN311 + "requests.json", pothole_form(api_key=open311_key), HTTP_ACCEPT_LANGUAGE="es"
    )
    assert response.status_code == 404
    assert "Llame al 911 por una fuga de gas." in response.json()[0]["description"]


# --- The intake pipeline, the web and the mobile API


def test_every_channel_refuses_through_the_intake(pothole_off: ServiceSuspension) -> None:
    with translation.override("en"), pytest.raises(IntakeError) as refused:
        submit("pothole", channel="phone")
    assert refused.value.status == 404
    (message,) = refused.value.errors["service_code"]
    assert MESSAGE in message and "Pothole" in message
    assert submit("graffiti").service_type.service_code == "graffiti"  # others still open


def test_the_report_page_marks_the_service_and_the_server_refuses_it(
    pothole_off: ServiceSuspension,
) -> None:
    page = Client().get("/report").content.decode()
    assert "service-card unavailable" in page
    assert MESSAGE in page
    assert 'value="pothole" disabled' in page

    response = Client().post("/report", web_report_form())
    assert response.status_code == 400
    assert 'id="service-error"' in response.content.decode()
    assert not ServiceRequest.objects.exists()


def test_the_mobile_service_list_carries_the_switch_off(
    pothole_off: ServiceSuspension, api: APIClient
) -> None:
    response = api.get("/mobile/v1/services")
    assert response.status_code == 200
    assert_matches_schema(response.json(), path="/mobile/v1/services", method="get", status=200)
    services = {s["service_code"]: s for s in response.json()}
    pothole, graffiti = services["pothole"], services["graffiti"]
    assert pothole["available"] is False
    assert pothole["unavailable_message"] == MESSAGE
    assert pothole["unavailable_until"] is not None
    assert (graffiti["available"], graffiti["unavailable_message"]) == (True, None)


def test_a_mobile_submit_is_404_naming_service_code_with_the_message(
    pothole_off: ServiceSuspension, catalog: None
) -> None:
    resident = token_client(user_make("rita@example.org"))
    response = resident.post("/mobile/v1/requests", pothole_payload(), format="json")

    assert response.status_code == 404
    assert_matches_schema(response.json(), path="/mobile/v1/requests", method="post", status=404)
    (message,) = response.json()["errors"]["service_code"]
    assert MESSAGE in message
    assert not ServiceRequest.objects.exists()


# --- The banner


def test_the_banner_is_on_every_resident_page_and_in_the_app(
    catalog: None, manager: User, api: APIClient
) -> None:
    assert "site-banner" not in Client().get("/report").content.decode()
    assert api.get("/mobile/v1/banner").json() == {"banner": None}

    until = timezone.now() + timedelta(hours=3)
    site_banner_set(message="Storm warning: stay home.", ends_at=until, actor=manager)

    sr = submit("graffiti")
    for url in ("/report", "/track", f"/track/{sr.public_id}", reverse("accounts:login")):
        page = Client().get(url).content.decode()
        assert "Storm warning: stay home." in page, url
    answer = api.get("/mobile/v1/banner").json()
    assert_matches_schema(answer, path="/mobile/v1/banner", method="get", status=200)
    assert answer["banner"]["message"] == "Storm warning: stay home."
    assert answer["banner"]["ends_at"] is not None


def test_a_new_banner_replaces_the_last_and_clearing_takes_it_down(
    catalog: None, manager: User
) -> None:
    first = site_banner_set(message="First", actor=manager)
    second = site_banner_set(message="Second", actor=manager)
    first.refresh_from_db()
    assert first.cleared_at is not None and first.cleared_by == manager
    notice = site_banner_current()
    assert notice is not None and notice.message == "Second"

    site_banner_clear(banner=second, actor=manager)
    assert site_banner_current() is None
    assert "site-banner" not in Client().get("/report").content.decode()


# --- Audit, time limits, the cache


def test_each_set_and_clear_writes_an_audited_event(
    pothole_off: ServiceSuspension, manager: User
) -> None:
    (off,) = EmergencyEvent.objects.filter(kind=EmergencyEventKind.SERVICE_OFF)
    assert off.actor == manager
    assert off.service_type is not None and off.service_type.service_code == "pothole"
    assert off.ends_at == pothole_off.ends_at and off.message == MESSAGE
    assert abs((timezone.now() - off.created_at).total_seconds()) < 60

    service_suspension_clear(suspension=pothole_off, actor=manager)
    service_suspension_clear(suspension=pothole_off, actor=manager)  # again: changes nothing
    (on,) = EmergencyEvent.objects.filter(kind=EmergencyEventKind.SERVICE_ON)
    assert (on.actor, on.suspension) == (manager, pothole_off)
    assert on.created_at >= off.created_at
    assert service_suspension_current(service_code="pothole") is None
    assert submit("pothole").service_type.service_code == "pothole"

    banner = site_banner_set(message="Storm", actor=manager)
    site_banner_clear(banner=banner, actor=manager)
    kinds = list(EmergencyEvent.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["service_off", "service_on", "banner_set", "banner_cleared"]


def test_a_switch_ends_at_its_until(pothole_off: ServiceSuspension, settings: Any) -> None:
    settings.CATALOG_CACHE_SECONDS = 60
    emergency_cache_clear()
    state = emergency_state()  # cached now; the end time is compared when asked
    assert pothole_off.ends_at is not None
    assert state.suspension("pothole", pothole_off.ends_at - timedelta(seconds=1)) is not None
    assert state.suspension("pothole", pothole_off.ends_at) is None
    assert "pothole" not in state.suspended_codes(pothole_off.ends_at + timedelta(seconds=1))

    # Once the end has passed, the service is taken again (no one has to clear it).
    ServiceSuspension.objects.filter(pk=pothole_off.pk).update(
        starts_at=timezone.now() - timedelta(hours=3), ends_at=timezone.now() - timedelta(hours=1)
    )
    emergency_cache_clear()
    assert submit("pothole").service_type.service_code == "pothole"


def test_a_switch_starting_later_is_not_in_effect_yet(catalog: None, manager: User) -> None:
    start = timezone.now() + timedelta(hours=1)
    service_suspension_set(
        service_type=ServiceType.objects.get(service_code="pothole"),
        message=MESSAGE,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        actor=manager,
    )
    assert service_suspension_current(service_code="pothole") is None
    later = service_suspension_current(service_code="pothole", now=start + timedelta(minutes=1))
    assert later is not None and later.message == MESSAGE


def test_a_switch_takes_effect_at_once_in_this_process(
    catalog: None, manager: User, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.CATALOG_CACHE_SECONDS = 60
    assert service_suspension_current(service_code="pothole") is None  # cached: nothing off
    with django_capture_on_commit_callbacks(execute=True):
        suspension = service_suspension_set(
            service_type=ServiceType.objects.get(service_code="pothole"),
            message=MESSAGE,
            actor=manager,
        )
    assert service_suspension_current(service_code="pothole") is not None
    with django_capture_on_commit_callbacks(execute=True):
        service_suspension_clear(suspension=suspension, actor=manager)
    assert service_suspension_current(service_code="pothole") is None


@pytest.mark.parametrize(
    ("message", "ends_in", "field"),
    [("", timedelta(hours=1), "message"), (MESSAGE, timedelta(hours=-1), "ends_at")],
)
def test_a_wrong_message_or_window_is_400_naming_the_field(
    catalog: None, manager: User, message: str, ends_in: timedelta, field: str
) -> None:
    with pytest.raises(EmergencyError) as refused:
        site_banner_set(message=message, ends_at=timezone.now() + ends_in, actor=manager)
    assert refused.value.status == 400
    assert list(refused.value.errors) == [field]
    assert not SiteBanner.objects.exists() and not EmergencyEvent.objects.exists()


# --- The admin


def _add_form(**overrides: str) -> dict[str, str]:
    form = {
        "service_type": str(ServiceType.objects.get(service_code="pothole").pk),
        "message": MESSAGE,
        "message_i18n": "{}",
        "starts_at_0": "",
        "starts_at_1": "",
        "ends_at_0": "",
        "ends_at_1": "",
    }
    form.update(overrides)
    return form


def test_staff_switch_a_service_off_and_on_in_the_admin(catalog: None, manager: User) -> None:
    client = Client()
    client.force_login(manager)
    add = reverse("admin:catalog_servicesuspension_add")

    response = client.post(add, _add_form())
    assert response.status_code == 302, response.content.decode()[:2000]
    suspension = ServiceSuspension.objects.get()
    assert (suspension.set_by, suspension.message, suspension.ends_at) == (manager, MESSAGE, None)
    assert EmergencyEvent.objects.get().kind == EmergencyEventKind.SERVICE_OFF
    assert service_suspension_current(service_code="pothole") is not None

    # Switching it off again (a new message) replaces the open one.
    response = client.post(add, _add_form(message="Call 911 now."))
    assert response.status_code == 302, response.content.decode()[:2000]
    suspension.refresh_from_db()
    assert suspension.cleared_at is not None
    suspension = ServiceSuspension.objects.get(cleared_at=None)
    current = service_suspension_current(service_code="pothole")
    assert current is not None and current.message == "Call 911 now."

    changelist = reverse("admin:catalog_servicesuspension_changelist")
    response = client.post(
        changelist, {"action": "notices_clear", "_selected_action": [str(suspension.pk)]}
    )
    assert response.status_code == 302
    suspension.refresh_from_db()
    assert suspension.cleared_by == manager
    assert service_suspension_current(service_code="pothole") is None
    # Set ones are read-only and never deleted: the audit stays whole.
    change = reverse("admin:catalog_servicesuspension_change", args=[suspension.pk])
    assert client.post(change, _add_form(message="edited")).status_code == 403
    delete = reverse("admin:catalog_servicesuspension_delete", args=[suspension.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert ServiceSuspension.objects.get(pk=suspension.pk).message == "Call 911 now."
    kinds = list(EmergencyEvent.objects.order_by("id").values_list("kind", flat=True))
    assert kinds == ["service_off", "service_on", "service_off", "service_on"]


def test_a_banner_ending_in_the_past_is_a_form_error_in_the_admin(
    catalog: None, manager: User
) -> None:
    client = Client()
    client.force_login(manager)
    past = timezone.localtime(timezone.now() - timedelta(days=1))
    response = client.post(
        reverse("admin:catalog_sitebanner_add"),
        {
            "message": "Storm",
            "message_i18n": "{}",
            "starts_at_0": "",
            "starts_at_1": "",
            "ends_at_0": past.strftime("%Y-%m-%d"),
            "ends_at_1": past.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 200
    assert "The end must be in the future." in response.content.decode()
    assert not SiteBanner.objects.exists()


def test_a_banner_set_by_someone_else_at_the_same_moment_is_said_not_a_server_error(
    catalog: None, manager: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two staff setting the banner at once: the later insert breaks the one-open-banner
    constraint and the service answers 409; the admin says so on the add page."""
    site_banner_set(actor=manager, message="Storm warning")
    real_create = SiteBanner.objects.create

    def create_after_a_rival(**fields: Any) -> SiteBanner:
        # A rival's banner lands between our clearing of the open one and our insert.
        real_create(**{**fields, "message": "Rival"})
        return real_create(**fields)

    monkeypatch.setattr(SiteBanner.objects, "create", create_after_a_rival)
    client = Client()
    client.force_login(manager)
    add = reverse("admin:catalog_sitebanner_add")
    response = client.post(
        add,
        {"message": "Flood", "message_i18n": "{}", "starts_at_0": "", "starts_at_1": ""},
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain == [(add, 302)]
    assert "Someone else changed this at the same moment" in response.content.decode()
    assert list(SiteBanner.objects.values_list("message", flat=True)) == ["Storm warning"]
    assert SiteBanner.objects.get().cleared_at is None


def test_outsiders_cannot_set_a_banner_or_switch_a_service_off(catalog: None) -> None:
    add_banner = reverse("admin:catalog_sitebanner_add")
    add_off = reverse("admin:catalog_servicesuspension_add")
    form = {"message": "Not yours", "message_i18n": "{}", **_add_form()}

    anonymous = Client()
    assert anonymous.post(add_banner, form).status_code == 302  # to the admin's log-in

    resident = Client()
    resident.force_login(user_make("rita@example.org"))
    response = resident.post(add_off, form)
    assert response.status_code == 302 and "/login/" in response["Location"]

    staff_without_permission = Client()
    staff_without_permission.force_login(user_make("sam", is_staff=True))
    assert staff_without_permission.post(add_banner, form).status_code == 403
    assert staff_without_permission.post(add_off, form).status_code == 403

    assert not SiteBanner.objects.exists() and not ServiceSuspension.objects.exists()
    assert not EmergencyEvent.objects.exists()


def test_staff_given_the_permission_may_set_a_banner(catalog: None) -> None:
    duty = user_make("dora", is_staff=True)
    duty.user_permissions.add(Permission.objects.get(codename="add_sitebanner"))
    client = Client()
    client.force_login(duty)
    response = client.post(
        reverse("admin:catalog_sitebanner_add"),
        {
            "message": "Storm",
            "message_i18n": json.dumps({"es": "Tormenta"}),
            "starts_at_0": "",
            "starts_at_1": "",
            "ends_at_0": "",
            "ends_at_1": "",
        },
    )
    assert response.status_code == 302
    event = EmergencyEvent.objects.get()
    assert (event.kind, event.actor) == (EmergencyEventKind.BANNER_SET, duty)
    notice = site_banner_current()
    assert notice is not None and notice.message_in("es") == "Tormenta"
