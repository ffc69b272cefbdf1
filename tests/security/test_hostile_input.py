"""Hostile input besides photos: XML (only through defusedxml, and no endpoint takes XML
bodies: XXE and billion-laughs payloads are refused unread), ``media_url`` never fetched, and
SQL/HTML injection strings stored exactly as given and shown escaped on every page."""

from __future__ import annotations

import ast
import json
import socket
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from backend.service_requests.models import ServiceRequest, ServiceRequestEvent
from tests.conftest import BOSTON, web_report_form
from tests.security.conftest import World, open311_form
from tests.workorders.factories import order_in, order_of
from workorders.models import WorkOrderStatus

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
APP_DIRS = ["backend", "mobile_api", "workorders", "chatbot", "analytics"]

XXE = (
    '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
    "<service_request><service_code>pothole</service_code>"
    "<description>&xxe;</description></service_request>"
)
BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{n} "{("&lol" + str(n - 1) + ";") * 10 if n > 1 else "&lol;" * 10}">'
        for n in range(1, 10)
    )
    + "]>\n<service_request><description>&lol9;</description></service_request>"
)
XML_POSTS = [
    "/open311/v2/requests.xml",
    "/open311/v2/requests.json",
    "/mobile/v1/requests",
    "/mobile/v1/accounts/login",
    "/mobile/v1/accounts/signup",
    "/api/v1/workorders/1/start",
    "/report",
]


def test_no_xml_parser_but_defusedxml_is_imported() -> None:
    """Parsing XML anywhere in the project's code goes through defusedxml; the standard
    library's parsers (and lxml, xmltodict) are never imported. ``xml.sax.saxutils`` (the
    Open311 renderer's escape) writes XML, it does not parse it."""
    unsafe = ("xml.etree", "xml.dom", "xml.sax", "xml.parsers", "lxml", "xmltodict")
    allowed = ("xml.sax.saxutils",)
    found = []
    files = [p for d in APP_DIRS for p in (ROOT / d).rglob("*.py") if "migrations" not in p.parts]
    assert len(files) > 50
    for path in files:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                if name.startswith(unsafe) and not name.startswith(allowed):
                    found.append(f"{path.relative_to(ROOT)}: {name}")
    assert found == [], "parse XML with defusedxml only"


@pytest.mark.parametrize("payload", [XXE, BILLION_LAUGHS], ids=["xxe", "billion-laughs"])
@pytest.mark.parametrize("content_type", ["application/xml", "text/xml"])
@pytest.mark.parametrize("path", XML_POSTS)
def test_xml_bodies_are_refused_unread(
    world: World, path: str, content_type: str, payload: str
) -> None:
    client = world.api("supervisor")
    response = client.generic("POST", path, payload, content_type=content_type)
    assert 400 <= response.status_code < 500, (path, response.status_code)
    assert b"root:" not in response.content and b"lollollol" not in response.content
    assert ServiceRequest.objects.count() == 1


def test_defusedxml_refuses_both_payloads() -> None:
    """The parser the project would use refuses the payloads outright."""
    from defusedxml import DTDForbidden, EntitiesForbidden
    from defusedxml.ElementTree import fromstring

    for payload in (XXE, BILLION_LAUGHS):
        with pytest.raises((EntitiesForbidden, DTDForbidden)):
            fromstring(payload)


# --- media_url


def open311_pothole(world: World, **fields: str) -> Any:
    """A large pothole at City Hall, posted anonymously through Open311 with ``fields``."""
    return world.api("anonymous").post(
        "/open311/v2/requests.json",
        open311_form(world.open311_key, **fields),
    )


def test_media_url_is_never_fetched(world: World) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        server.settimeout(1.5)
        port = server.getsockname()[1]
        url = f"http://127.0.0.1:{port}/photo.jpg"
        response = open311_pothole(world, media_url=url)
        assert response.status_code == 200, response.content
        public_id = response.json()[0]["service_request_id"]
        for path in (
            f"/open311/v2/requests/{public_id}.json",
            f"/open311/v2/requests/{public_id}.xml",
            f"/mobile/v1/requests/{public_id}",
            f"/track/{public_id}",
        ):
            world.api("anonymous").get(path)
        with pytest.raises(TimeoutError):
            connection, _ = server.accept()  # nobody connected
            connection.close()


# --- SQL and HTML injection

INJECTION = (
    "<script>alert('x')</script>\"><img src=x onerror=alert(1)> "
    "' OR '1'='1'; DROP TABLE service_requests_servicerequest; --"
)
SHORT = "<b>1</b>' OR 1=1; --"  # fits the 40 characters of a phone number
# A mobile report whose every free text holds the injection string.
INJECTED_REPORT: dict[str, Any] = {
    "service_code": "pothole",
    "lat": BOSTON[0],
    "long": BOSTON[1],
    "address": INJECTION,
    "description": INJECTION,
    "attributes": {"size": "large"},
}


def strings(data: Any) -> set[str]:
    if isinstance(data, dict):
        return set().union(*(strings(v) for v in data.values()))
    if isinstance(data, list):
        return set().union(*(strings(v) for v in data))
    return {data} if isinstance(data, str) else set()


def page_html(browser: Client, path: str, query: dict[str, str] | None = None) -> str:
    """The page at ``path`` (200) as this browser gets it."""
    response = browser.get(path, query or {})
    assert response.status_code == 200
    return response.content.decode()


def html_shows_escaped(html: str, value: str) -> None:
    assert "<script>alert" not in html
    assert "<img src=x onerror" not in html
    assert "&lt;script&gt;alert(" in html, "the value is shown (escaped)"


def test_injection_strings_are_stored_as_given_through_every_channel(world: World) -> None:
    mobile = world.api("anonymous").post(
        "/mobile/v1/requests",
        {
            **INJECTED_REPORT,
            "contact": {"name": INJECTION, "phone": SHORT, "email": "x@example.org"},
        },
        format="json",
    )
    assert mobile.status_code == 201, mobile.content
    open311 = open311_pothole(
        world,
        address_string=INJECTION,
        description=INJECTION,
        first_name=INJECTION[:100],
        phone=SHORT,
    )
    assert open311.status_code == 200, open311.content
    web = world.browser("anonymous").post(
        "/report",
        web_report_form(
            address=INJECTION, description=INJECTION, contact_name=INJECTION, contact_phone=SHORT
        ),
    )
    assert web.status_code == 302, web.content
    filed = ServiceRequest.objects.exclude(pk=world.service_request.pk)
    assert filed.count() == 3
    for sr in filed:
        assert sr.description == INJECTION
        assert sr.address == INJECTION
        assert sr.contact_phone == SHORT
    assert ServiceRequest.objects.filter(description=INJECTION).count() == 3


@pytest.fixture
def injected(world: World) -> ServiceRequest:
    """A request whose every free text holds the injection string, with a public note."""
    api = world.api("anonymous")
    answer = api.post("/mobile/v1/requests", INJECTED_REPORT, format="json")
    public_id = answer.json()["service_request_id"]
    sr = ServiceRequest.objects.get(public_id=public_id)
    order = order_in(WorkOrderStatus.ASSIGNED, staff=world.staff, service_request=sr)
    started = world.api("crew").post(
        f"/mobile/v1/crew/workorders/{order.pk}/start",
        {"client_at": timezone.now().isoformat(), "note": INJECTION, "public_note": INJECTION},
        format="json",
        HTTP_IDEMPOTENCY_KEY="injection-start",
    )
    assert started.status_code == 200, started.content
    assert ServiceRequestEvent.objects.filter(service_request=sr, public_note=INJECTION).exists()
    return sr


def test_the_track_page_shows_them_escaped(world: World, injected: ServiceRequest) -> None:
    browser = world.browser("anonymous")
    html_shows_escaped(page_html(browser, f"/track/{injected.public_id}"), INJECTION)
    live = browser.get(f"/track/{injected.public_id}/live")
    assert live.status_code == 200
    fragment = json.dumps(live.json())
    assert "<script>alert" not in fragment


def test_the_staff_console_shows_them_escaped(world: World, injected: ServiceRequest) -> None:
    browser = world.browser("supervisor")
    order = order_of(injected)
    assert "<script>alert" not in page_html(browser, "/staff/workorders/")
    html_shows_escaped(page_html(browser, f"/staff/workorders/{order.pk}"), INJECTION)


def test_the_admin_shows_them_escaped_and_searches_safely(
    world: World, injected: ServiceRequest
) -> None:
    browser = world.browser("admin")
    html = page_html(browser, "/admin/service_requests/servicerequest/", {"q": INJECTION})
    assert "<script>alert" not in html
    assert injected.public_id in html  # the search itself found the request by its text
    change = page_html(browser, f"/admin/service_requests/servicerequest/{injected.pk}/change/")
    html_shows_escaped(change, INJECTION)


def test_open311_and_mobile_answers_carry_them_verbatim(
    world: World, injected: ServiceRequest
) -> None:
    api = world.api("anonymous")
    data: Any = api.get(f"/open311/v2/requests/{injected.public_id}.json").json()
    assert data[0]["description"] == INJECTION
    xml = api.get(f"/open311/v2/requests/{injected.public_id}.xml").content.decode()
    assert "<script>" not in xml and "&lt;script&gt;" in xml
    mobile = api.get(f"/mobile/v1/requests/{injected.public_id}").json()
    assert INJECTION in strings(mobile)


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize("name", ["start_date", "end_date", "updated_after", "updated_before"])
def test_open311_dates_with_offsets_postgresql_refuses_are_no_500(
    world: World, name: str, fmt: str
) -> None:
    """Found by schemathesis: +23:48 is a valid offset to Python, out of range to PostgreSQL."""
    response = world.api("anonymous").get(
        f"/open311/v2/requests.{fmt}", {name: "3473-04-09T17:57:22.2496+23:48"}
    )
    assert response.status_code in (200, 400), response.content
