"""Secure headers and cookies in production settings (checked in a fresh interpreter, as
tests/test_docker.py does), and CSRF on every form and on session-authenticated API calls."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.test import Client

from tests.conftest import web_report_form
from tests.processes import python_with_settings
from tests.security.conftest import World, fresh_address

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import json, django
django.setup()
from django.conf import settings
from django.test import Client
response = Client().get("/healthz", secure=True)
print(json.dumps({
    "headers": dict(response.headers),
    "session_secure": settings.SESSION_COOKIE_SECURE,
    "session_httponly": settings.SESSION_COOKIE_HTTPONLY,
    "session_samesite": settings.SESSION_COOKIE_SAMESITE,
    "csrf_secure": settings.CSRF_COOKIE_SECURE,
    "csrf_samesite": settings.CSRF_COOKIE_SAMESITE,
    "proxy_header": list(settings.SECURE_PROXY_SSL_HEADER or []),
}))
"""


def probe(**env: str) -> dict[str, Any]:
    result = python_with_settings(PROBE, **env)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def test_production_sends_secure_headers_and_cookies() -> None:
    found = probe(CITY311_ENV="production", SECRET_KEY=secrets.token_urlsafe(50), DEBUG="0")
    headers = found["headers"]
    assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    assert headers["X-Frame-Options"] == "DENY"
    csp = headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-eval" not in csp
    assert "object-src 'none'" in csp and "frame-ancestors 'none'" in csp
    assert "https://tile.openstreetmap.org" in csp  # Leaflet's tiles still load
    assert found["session_secure"] and found["csrf_secure"] and found["session_httponly"]
    assert found["session_samesite"] == found["csrf_samesite"] == "Lax"
    assert found["proxy_header"] == ["HTTP_X_FORWARDED_PROTO", "https"]


def test_every_environment_sends_the_csp_and_the_policy_can_be_replaced() -> None:
    """Development runs under the policy too (and the tests: the next test), so a page it
    breaks fails a test."""
    csp = probe(CITY311_ENV="development")["headers"]["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-eval" not in csp
    assert "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    custom = probe(
        CITY311_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="0",
        CONTENT_SECURITY_POLICY="default-src 'none'",
    )
    assert custom["headers"]["Content-Security-Policy"] == "default-src 'none'"
    assert "Content-Security-Policy" not in probe(CONTENT_SECURITY_POLICY="")["headers"]


def test_the_test_settings_send_the_policy(client: Client) -> None:
    csp = client.get("/healthz")["Content-Security-Policy"]
    assert csp.startswith("default-src 'self'; script-src 'self';")


def _scripts_and_styles(page: str) -> tuple[list[str], list[str]]:
    """The ``<script>`` tags that would run and the URLs of every script and style sheet."""
    import re

    running = [
        tag for tag in re.findall(r"<script\b[^>]*>", page) if 'type="application/json"' not in tag
    ]
    urls = re.findall(r'<script\b[^>]*\bsrc="([^"]*)"', page)
    urls += re.findall(r'<link\b[^>]*\bhref="([^"]*)"', page)
    return running, urls


def assert_served_from_here_without_inline_script(page: str) -> list[str]:
    running, urls = _scripts_and_styles(page)
    assert running, "no script at all"
    for tag in running:
        assert "src=" in tag, f"an inline script the policy blocks: {tag}"
    outside = [url for url in urls if url.startswith(("http:", "https:", "//"))]
    assert outside == [], outside
    return urls


@pytest.mark.django_db
def test_api_docs_are_served_from_here_under_the_policy(client: Client) -> None:
    page = client.get("/api/docs/")
    assert page.status_code == 200
    assert "script-src 'self';" in page["Content-Security-Policy"]
    urls = assert_served_from_here_without_inline_script(page.content.decode())
    assert any("swagger-ui-bundle.js" in url for url in urls)
    start = [url for url in urls if "script" in url and "swagger" not in url]
    assert start, urls  # the start-up script: a file of its own
    script = client.get(start[0].replace("&amp;", "&"))
    assert script.status_code == 200
    assert script["Content-Type"].startswith("application/javascript")
    assert "/api/schema/" in script.content.decode()
    bundle = next(url for url in urls if "swagger-ui-bundle.js" in url)
    # Vendored: one of the static files (collectstatic, WhiteNoise).
    assert finders.find(bundle.removeprefix(settings.STATIC_URL)) is not None


@pytest.mark.django_db
def test_admin_map_pages_work_under_the_policy(world: World) -> None:
    """GeoDjango's map widget (service areas): OpenLayers from here, its options as data, no
    inline script, no CDN."""
    from backend.catalog.models import ServiceType

    service_type = ServiceType.objects.get(service_code="pothole")
    page = world.browser("admin").get(f"/admin/catalog/servicetype/{service_type.pk}/change/")
    assert page.status_code == 200
    assert "script-src 'self';" in page["Content-Security-Policy"]
    text = page.content.decode()
    urls = assert_served_from_here_without_inline_script(text)
    assert any(url.endswith("web/vendor/ol/ol.js") for url in urls), urls
    assert any(url.endswith("web/admin-map.js") for url in urls), urls
    assert 'id="id_service_area_map_options" type="application/json">' in text
    for url in ("web/vendor/ol/ol.js", "web/vendor/ol/ol.css", "web/admin-map.js"):
        assert finders.find(url) is not None, url


@pytest.mark.django_db
def test_every_map_in_the_admin_is_the_city_widget(rf: Any) -> None:
    """Whatever admin shows a geometry field, GISModelAdmin or not."""
    from django.contrib import admin
    from django.contrib.gis.db.models import GeometryField

    from backend.accounts.admin_site import CityMapWidget

    request = rf.get("/admin/")
    request.user = None
    seen = 0
    for model, model_admin in admin.site._registry.items():
        for field in model._meta.get_fields():
            if isinstance(field, GeometryField):
                formfield = model_admin.formfield_for_dbfield(field, request)
                assert formfield is not None, (model, field.name)
                assert isinstance(formfield.widget, CityMapWidget), (model, field.name)
                seen += 1
    assert seen >= 2  # service areas, request locations, areas...


# --- CSRF


@pytest.mark.django_db
def test_the_report_form_needs_its_csrf_token(catalog: None) -> None:
    browser = Client(enforce_csrf_checks=True, REMOTE_ADDR=fresh_address())
    assert browser.post("/report", web_report_form()).status_code == 403
    page = browser.get("/report")
    token = page.cookies["csrftoken"].value
    assert browser.post("/report", web_report_form(csrfmiddlewaretoken=token)).status_code == 302


@pytest.mark.django_db
def test_console_actions_and_admin_login_need_csrf(world: World) -> None:
    browser = Client(enforce_csrf_checks=True, REMOTE_ADDR=fresh_address())
    browser.force_login(world.staff.supervisor)
    from tests.workorders.factories import order_of

    order = order_of(world.service_request)
    refused = browser.post(f"/staff/workorders/{order.pk}/cancel", {"close_reason": "cancelled"})
    assert refused.status_code == 403
    order.refresh_from_db()
    assert order.status != "cancelled"
    anonymous = Client(enforce_csrf_checks=True, REMOTE_ADDR=fresh_address())
    login = anonymous.post("/admin/login/", {"username": "root", "password": "x"})
    assert login.status_code == 403


@pytest.mark.django_db
def test_feedback_page_needs_csrf(world: World) -> None:
    from tests.security.access.fixtures import feedback_token

    token = feedback_token(world)
    browser = Client(enforce_csrf_checks=True, REMOTE_ADDR=fresh_address())
    assert browser.post(f"/feedback/{token}", {"fixed": "yes"}).status_code == 403


@pytest.mark.django_db
def test_session_authenticated_api_calls_need_csrf_token_calls_do_not(world: World) -> None:
    """A browser's session cannot be ridden by another site; the app's token needs no CSRF."""
    browser = Client(enforce_csrf_checks=True, REMOTE_ADDR=fresh_address())
    browser.force_login(world.resident)
    body = {"platform": "ios", "push_token": "csrf-test"}
    assert (
        browser.post("/mobile/v1/devices", body, content_type="application/json").status_code == 403
    )
    staff = Client(enforce_csrf_checks=True, REMOTE_ADDR=fresh_address())
    staff.force_login(world.staff.supervisor)
    from tests.workorders.factories import order_of

    order = order_of(world.service_request)
    cancel = staff.post(
        f"/api/v1/workorders/{order.pk}/cancel", {}, content_type="application/json"
    )
    assert cancel.status_code == 403
    assert world.api("resident").post("/mobile/v1/devices", body, format="json").status_code == 201
