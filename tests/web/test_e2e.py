"""End to end in a real browser (integration): a resident files a report with a photo on the
web page, sees its id and expected date; the crew completes the work order through the crew
API; the open track page changes to "Closed" without a reload, brought by the websocket push.

The server is uvicorn (``backend.asgi:application``) in a subprocess on the pytest database;
the browser is Debian's Chromium (``/usr/bin/chromium``, installed by ``make test``) driven by
Playwright. No map tiles are loaded: the page must work without them. Set
``CITY311_SCREENSHOTS_DIR=docs/screenshots`` to refresh the README's screenshots."""

from __future__ import annotations

import os
import re
import socket
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone, translation
from playwright.sync_api import Browser, BrowserContext, ViewportSize, sync_playwright
from rest_framework.authtoken.models import Token

from backend.service_requests.models import ServiceRequest
from backend.web.turnaround import expected_date_words
from tests.conftest import jpeg_bytes
from tests.processes import database_url, running
from tests.web.browser import csp_watch
from tests.workorders.factories import order_of, proof_jpeg, staff_make

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
STARTUP_S = 30.0
STEP_MS = 20_000
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def asgi_server(*, log: Path) -> Iterator[str]:
    """uvicorn on a free port, against the test database; always stopped."""
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DB_POOL": "0",
        "CITY311_ENV": "test",
        "DEBUG": "1",
        "SERVE_MEDIA": "1",
        "CELERY_TASK_ALWAYS_EAGER": "1",
        "CATALOG_CACHE_SECONDS": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PRIVATE_UPLOAD_ROOT": str(settings.PRIVATE_UPLOAD_ROOT),
        "WEB_MAP_TILE_URL": "",  # no tiles: nothing leaves the machine
        # Polling (the fallback) is slower than the test: the change must come by websocket.
        "WEB_TRACK_POLL_SECONDS": "600",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        sys.executable, "-m", "uvicorn", "backend.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning",
    ]  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with running(command, env=env, log=log) as server:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if server.poll() is not None:
                pytest.fail(f"uvicorn exited ({server.returncode}):\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"uvicorn not up after {STARTUP_S:.0f} s:\n{log.read_text()}")
            time.sleep(0.2)
        yield base


@contextmanager
def served_browser(*, log: Path) -> Iterator[tuple[str, Browser]]:
    """The server (``asgi_server``) and Debian's Chromium driven by Playwright: its base URL
    and the browser, both always stopped (and the test's database connections closed)."""
    try:
        with asgi_server(log=log) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, timeout=STEP_MS
            )
            violations = csp_watch(browser)
            try:
                yield base, browser
            finally:
                browser.close()
            assert violations.found == [], "Content-Security-Policy violations:\n" + "\n".join(
                violations.found
            )
    finally:
        # A test's ORM calls ran in Playwright's loop context, on a connection of their own:
        # closed here, or the test database could not be dropped.
        connections.close_all()


def phone_context(browser: Browser) -> BrowserContext:
    """A browser context the size of a phone, with touch, in English."""
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    context.set_default_timeout(STEP_MS)
    return context


def _crew_call(base: str, token: str, path: str, **kwargs: Any) -> httpx.Response:
    response = httpx.post(
        f"{base}{path}", headers={"Authorization": f"Token {token}"}, timeout=30, **kwargs
    )
    assert response.status_code == 200, response.text
    return response


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_report_then_crew_completes_and_the_track_page_updates_live(
    catalog: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's Chromium is missing: `make test` installs it")
    # Playwright's sync API runs an event loop in this thread; the ORM calls below are
    # plain synchronous ones between its calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    assert "test" in str(connection.settings_dict["NAME"])
    shots = Path(os.environ.get("CITY311_SCREENSHOTS_DIR") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    staff = staff_make()
    supervisor = Token.objects.create(user=staff.supervisor).key
    crew = Token.objects.create(user=staff.crew).key
    photo = tmp_path / "pothole.jpg"
    photo.write_bytes(jpeg_bytes(size=(640, 480), color=(90, 90, 95)))

    with served_browser(log=tmp_path / "uvicorn.log") as (base, browser):
        page = browser.new_page(viewport=DESKTOP, locale="en-US")
        page.set_default_timeout(STEP_MS)

        # Given a resident on the report page
        page.goto(f"{base}/report")
        page.locator(".service-card", has_text="Pothole").click()
        page.select_option("#attr-pothole-size", "large")
        page.locator("#map").click()  # the pin, at the map's centre: no tiles needed
        assert page.input_value("#lat") and page.input_value("#long")
        page.fill("#description", "Deep pothole in the right lane by the bus stop")
        page.set_input_files("#photos", str(photo))
        page.screenshot(path=shots / "report-desktop.png", full_page=True)

        # When they send it
        page.get_by_role("button", name="Send report").click()
        page.wait_for_url(re.compile(r"/track/SR-\d{4}-\d{6}\?filed=1$"))

        # Then they see its id and the expected turnaround as a date
        public_id = page.inner_text(".public-id").strip()
        service_request = ServiceRequest.objects.get(public_id=public_id)
        assert service_request.channel == "web"
        assert service_request.expected_at is not None
        with translation.override("en"):
            by = expected_date_words(service_request.expected_at)
        assert page.inner_text(".turnaround") == (
            f"We aim to deal with Pothole reports within 3 days — by {by}."
        )
        assert service_request.photos.count() == 1
        page.wait_for_selector('img[alt="Photo of the reported problem"]')
        page.screenshot(path=shots / "track-desktop.png", full_page=True)
        page.evaluate("window.__notReloaded = true")
        page.wait_for_selector('#live[data-websocket="open"]')

        # When the crew completes its work order through the crew API
        order = order_of(service_request)
        path = f"/api/v1/workorders/{order.pk}"
        _crew_call(base, supervisor, f"{path}/assign", json={"team": staff.team.pk})
        _crew_call(base, crew, f"{path}/start", json={})
        proof = proof_jpeg(taken=timezone.now(), seed=7)
        _crew_call(
            base,
            crew,
            f"{path}/complete",
            data={"note": "Filled and rolled."},
            files={"photos": ("proof.jpg", proof, "image/jpeg")},
        )

        # Then the open page changes by itself, without a reload
        page.wait_for_selector('[data-status="closed"]', timeout=STEP_MS)
        assert page.evaluate("window.__notReloaded") is True
        assert page.get_attribute("#live", "data-updated-by") == "websocket"
        page.wait_for_selector('img[alt="Photo of the finished work"]')
        assert "Filled and rolled." in page.inner_text("#live")
        page.screenshot(path=shots / "track-closed-desktop.png", full_page=True)

        phone = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
        phone.set_default_timeout(STEP_MS)
        phone.goto(f"{base}/report")
        phone.locator(".service-card", has_text="Pothole").click()
        phone.screenshot(path=shots / "report-phone.png", full_page=True)
        phone.goto(f"{base}/track/{public_id}")
        phone.wait_for_selector('[data-status="closed"]')
        phone.screenshot(path=shots / "track-phone.png", full_page=True)
