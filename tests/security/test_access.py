"""Access, table-driven: every endpoint of the URL configuration (walked recursively) has an
anonymous, an outsider and an owner case in tests/security/access/, and each answers as its
case says. Mass assignment: fields a client must not set are ignored or refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib import admin
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from backend.service_requests.models import Channel, ServiceRequest, Status
from tests.conftest import BOSTON, web_report_form
from tests.security.access import Case, registry
from tests.security.conftest import World, open311_form

pytestmark = pytest.mark.django_db

ADMIN = "admin/"  # the admin's generated pages: one table of their own, below
ENTRIES = registry()


def routes(resolver: URLResolver | None = None, prefix: str = "") -> Iterator[str]:
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            yield from routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


def test_every_endpoint_has_its_three_access_cases() -> None:
    served = {route for route in routes() if not route.startswith(ADMIN)}
    missing = sorted(served - set(ENTRIES))
    assert missing == [], "endpoints without access cases in tests/security/access/: " + ", ".join(
        missing
    )
    stale = sorted(set(ENTRIES) - served)
    assert stale == [], f"access cases of endpoints that no longer exist: {stale}"
    for route, endpoint in ENTRIES.items():
        cases = endpoint.cases()
        assert cases["anonymous"].who == "anonymous", route
        assert cases["outsider"].who not in ("anonymous", cases["owner"].who), route
        assert cases["owner"].who != "anonymous" or route in OPEN_TO_ANONYMOUS_OWNERS, route


# Endpoints whose owner is anyone (a sign-up, a public page read by its reader): the owner
# case is still a signed-in user, except for these.
OPEN_TO_ANONYMOUS_OWNERS: set[str] = set()


def call(world: World, case: Case) -> Any:
    path = case.path(world) if callable(case.path) else case.path
    data = case.data(world) if callable(case.data) else case.data
    if case.browser:
        client: Any = world.browser(case.who)
        if case.method == "GET":
            return client.get(path, data or {}, **case.headers)
        return (
            client.generic(case.method, path, **case.headers)
            if data is None
            else (client.post(path, data, **case.headers))
        )
    client = world.api(case.who)
    if case.method == "GET":
        return client.get(path, data or {}, **case.headers)
    method = getattr(client, case.method.lower())
    return method(path, data, format=case.format, **case.headers)


@pytest.mark.parametrize(
    ("route", "role"),
    [(route, role) for route in sorted(ENTRIES) for role in ("anonymous", "outsider", "owner")],
)
def test_access(world: World, route: str, role: str) -> None:
    case = ENTRIES[route].cases()[role]
    response = call(world, case)
    assert response.status_code in case.expect, (
        f"{route} as {case.who} ({role}): {response.status_code} not in {sorted(case.expect)}: "
        f"{response.content[:300]!r}"
    )
    if case.check is not None:
        case.check(world, response)


def label(model: Any) -> str:
    return str(model._meta.label)


# --- The admin: every model page, for anyone, a non-admin staff member and the admin


@pytest.mark.parametrize("model", sorted(admin.site._registry, key=label), ids=label)
def test_admin_pages(world: World, model: Any) -> None:
    opts = model._meta
    url = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    anonymous = world.browser("anonymous").get(url)
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]
    resident = world.browser("resident").get(url)  # not staff: the log-in page
    assert resident.status_code == 302 and "/admin/login/" in resident["Location"]
    crew = world.browser("other_crew").get(url)  # not staff either
    assert crew.status_code == 302
    assert world.browser("admin").get(url).status_code == 200


def test_admin_index_and_login(world: World) -> None:
    assert world.browser("anonymous").get("/admin/").status_code == 302
    assert world.browser("resident").get("/admin/").status_code == 302
    assert world.browser("admin").get("/admin/").status_code == 200
    assert world.browser("anonymous").get("/admin/login/").status_code == 200


# --- Mass assignment

FORBIDDEN_FIELDS = {
    "status": "closed",
    "department": "sanitation",
    "expected_at": "2000-01-01T00:00:00Z",
    "public_id": "SR-1999-000001",
    "channel": "phone",
    "requested_at": "2000-01-01T00:00:00Z",
    "reporter": 1,
    "priority": "urgent",
}


def assert_not_assigned(public_id: str, channel: str) -> None:
    sr = ServiceRequest.objects.get(public_id=public_id)
    assert sr.status == Status.SUBMITTED
    assert sr.channel == channel
    assert sr.public_id != FORBIDDEN_FIELDS["public_id"]
    assert sr.expected_at is None or sr.expected_at.year > 2000
    assert sr.requested_at.year > 2000
    assert sr.service_type.department.code == "public-works"


def test_mobile_submit_ignores_fields_it_does_not_take(world: World) -> None:
    body = {
        "service_code": "pothole",
        "lat": BOSTON[0],
        "long": BOSTON[1],
        "attributes": {"size": "large"},
        **FORBIDDEN_FIELDS,
    }
    response = world.api("anonymous").post("/mobile/v1/requests", body, format="json")
    assert response.status_code in (201, 400), response.content
    if response.status_code == 201:
        assert_not_assigned(response.json()["service_request_id"], Channel.APP)


def test_open311_post_ignores_fields_it_does_not_take(world: World) -> None:
    body = open311_form(
        world.open311_key,
        **{k: str(v) for k, v in FORBIDDEN_FIELDS.items()},
        service_request_id="SR-1999-000001",
    )
    response = world.api("anonymous").post("/open311/v2/requests.json", body)
    assert response.status_code in (200, 400), response.content
    if response.status_code == 200:
        assert_not_assigned(response.json()[0]["service_request_id"], "open311")


def test_web_report_ignores_fields_it_does_not_take(world: World) -> None:
    body = web_report_form(**{k: str(v) for k, v in FORBIDDEN_FIELDS.items()})
    response = world.browser("anonymous").post("/report", body)
    assert response.status_code == 302
    public_id = response["Location"].split("/track/")[1].split("?")[0]
    assert_not_assigned(public_id, Channel.WEB)


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/api/v1/workorders/{pk}/assign", {"team": None}),
        ("/api/v1/workorders/{pk}/start", {}),
        ("/api/v1/workorders/{pk}/cancel", {}),
    ],
)
def test_staff_actions_ignore_fields_they_do_not_take(
    world: World, path: str, data: dict[str, Any]
) -> None:
    from tests.workorders.factories import order_of

    order = order_of(world.service_request)
    if "start" in path:
        from tests.security.access.fixtures import order as order_make

        order = order_make(world, "assigned")
    body = {**data, **FORBIDDEN_FIELDS, "department": order.department_id + 1000}
    response = world.api("supervisor").post(path.format(pk=order.pk), body, format="json")
    assert response.status_code == 200, response.content
    order.refresh_from_db()
    sr = ServiceRequest.objects.get(pk=world.service_request.pk)
    assert order.department.code == "public-works"
    assert sr.public_id == world.service_request.public_id
    assert sr.channel == world.service_request.channel
    assert sr.requested_at == world.service_request.requested_at
