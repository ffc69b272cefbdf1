"""Secure headers and cookies in production settings (checked in a fresh interpreter, as
tests/test_docker.py does), and CSRF on every form and on session-authenticated API calls."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest
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


def test_development_sends_no_csp_and_the_policy_can_be_replaced() -> None:
    assert "Content-Security-Policy" not in probe(CITY311_ENV="development")["headers"]
    custom = probe(
        CITY311_ENV="production",
        SECRET_KEY=secrets.token_urlsafe(50),
        DEBUG="0",
        CONTENT_SECURITY_POLICY="default-src 'none'",
    )
    assert custom["headers"]["Content-Security-Policy"] == "default-src 'none'"


def test_pages_use_no_inline_script_the_policy_would_block() -> None:
    """script-src 'self': every <script> of the templates has a src."""
    import re

    templates = [*ROOT.glob("backend/**/templates/**/*.html"), *ROOT.glob("*/templates/**/*.html")]
    templates += [*ROOT.glob("*/*/templates/**/*.html")]
    assert templates
    for template in set(templates):
        text = template.read_text(encoding="utf-8")
        for tag in re.findall(r"<script\b[^>]*>", text):
            assert "src=" in tag, f"inline script in {template.relative_to(ROOT)}"
        assert not re.search(r"\son(click|load|change|submit)=", text), template


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
