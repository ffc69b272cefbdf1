"""The residents' installable app (backend/web/installable.py, static/web/report*.js): the
manifest and its icons, the service worker served from the root, and in a real browser on a
phone: the worker registers and a reload while offline renders the report page; a report
composed offline with a photo waits on the phone and is filed exactly once when back online,
showing its id and turnaround. Accessibility (axe-core) on the sign-in, sign-up, report and
/me/ pages.

"Offline" in the browser is both ``context.set_offline(True)`` (navigator.onLine and the
online/offline events) and a route that fails every request of the context, which also
reaches the service worker's own fetches (the test checks it saw them)."""

from __future__ import annotations

import io
import json
import os
import random
import re
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.staticfiles import finders
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.utils import translation
from PIL import Image
from playwright.sync_api import BrowserContext, Page, Route
from playwright.sync_api import Error as PlaywrightError
from rest_framework.test import APIClient

from backend.accounts.services import account_signup
from backend.service_requests.models import Channel, ServiceRequest
from backend.web.installable import NETWORK_ONLY, shell_version
from backend.web.turnaround import turnaround_sentence
from tests.conftest import jpeg_bytes, pothole_payload
from tests.factories import submit
from tests.web.a11y import assert_accessible
from tests.web.test_e2e import (
    CHROMIUM,
    STEP_MS,
    phone_context,
    served_browser,
)

PASSWORD = "a long passphrase 7"


# --- The manifest and the worker's script (no browser)


@pytest.mark.django_db
def test_the_manifest_names_the_app_and_its_icons_exist_with_their_sizes() -> None:
    response = Client().get("/manifest.webmanifest")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.content)
    assert manifest["name"] and manifest["short_name"]
    assert manifest["start_url"] == "/" and manifest["scope"] == "/"
    assert manifest["display"] == "standalone"
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["theme_color"])
    assert re.fullmatch(r"#[0-9a-f]{6}", manifest["background_color"])
    sizes = set()
    for icon in manifest["icons"]:
        assert icon["type"] == "image/png"
        assert icon["src"].startswith("/static/")
        path = finders.find(icon["src"].split("/static/", 1)[1])
        assert isinstance(path, str), f"{icon['src']} does not exist"
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert f"{image.width}x{image.height}" == icon["sizes"]
        sizes.add(icon["sizes"])
    assert {"192x192", "512x512"} <= sizes
    assert {icon.get("purpose", "any") for icon in manifest["icons"]} >= {"any", "maskable"}


@pytest.mark.django_db
def test_the_pages_link_the_manifest_and_the_theme_colour(catalog: None) -> None:
    html = Client().get("/report").content.decode()
    manifest = json.loads(Client().get("/manifest.webmanifest").content)
    assert '<link rel="manifest" href="/manifest.webmanifest">' in html
    assert f'<meta name="theme-color" content="{manifest["theme_color"]}">' in html
    assert 'data-sw="/sw.js"' in html


@pytest.mark.django_db
def test_the_worker_is_served_from_the_root_as_javascript_never_from_a_stale_copy(
    catalog: None,
) -> None:
    response = Client().get("/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Cache-Control"] == "no-cache"
    script = response.content.decode()
    # Its scope is "/" because it is served from there; it precaches the shell...
    shell = json.loads(re.search(r"var SHELL = (\[.*?\]);", script).group(1))  # type: ignore[union-attr]
    for url in ("/report", "/track", "/offline", "/static/web/report.js",
                "/static/web/report-queue.js", "/static/web/web.css",
                "/static/web/vendor/leaflet/leaflet.js", "/static/web/vendor/leaflet/leaflet.css",
                "/static/web/icons/icon-192.png"):  # fmt: skip
        assert url in shell, url
    for url in shell:  # each exists (whitenoise serves the static ones)
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url
        else:
            assert Client().get(url).status_code == 200, url
    # ...never handles the other apps' requests...
    never = json.loads(re.search(r"var NETWORK_ONLY = (\[.*?\]);", script).group(1))  # type: ignore[union-attr]
    assert set(never) >= {"/crew/", "/staff/", "/admin/", "/api/", "/mobile/", "/open311/",
                          "/ws/", "/media/"}  # fmt: skip
    assert list(NETWORK_ONLY) == never
    # ...uses versioned caches and loads the push handlers.
    assert f'var VERSION = "{shell_version()}";' in script
    assert 'importScripts("/static/web/push-sw.js")' in script
    assert 'importScripts("/static/web/report-queue.js")' in script
    assert 'caches["delete"]' in script


@pytest.mark.django_db
def test_the_offline_page_and_the_report_pages_settings(catalog: None) -> None:
    assert "You are offline" in Client().get("/offline").content.decode()
    html = Client().get("/report").content.decode()
    found = re.search(r'<script id="report-app" type="application/json">(.*?)</script>', html)
    assert found
    app = json.loads(found.group(1))
    assert app["photo_max_bytes"] == settings.PHOTO_MAX_BYTES
    assert app["submit_url"] == "/mobile/v1/requests"
    assert app["track_url"].replace(app["id_slot"], "SR-1") == "/track/SR-1"
    assert all(app["strings"].values())
    assert "web/shrink.js" in html and "web/report-queue.js" in html
    assert "data-push-optin" in html


@pytest.mark.django_db
def test_the_server_refuses_a_photo_over_the_limit_with_413(catalog: None, settings: Any) -> None:
    settings.PHOTO_MAX_BYTES = 50_000
    body = {**pothole_payload(), "attributes": json.dumps({"size": "large"})}
    body["photos"] = SimpleUploadedFile("big.png", noise_png(60_000), content_type="image/png")

    response = APIClient().post("/mobile/v1/requests", body, format="multipart")

    assert response.status_code == 413
    assert "photos" in response.json()["errors"]
    assert not ServiceRequest.objects.exists()


@pytest.mark.django_db
def test_the_track_json_carries_the_turnaround_sentence(catalog: None) -> None:
    service_request = submit("pothole", channel="web")
    body = Client().get(f"/track/{service_request.public_id}/live").json()
    with translation.override("en"):
        expected = turnaround_sentence(
            service_type=service_request.service_type, expected_at=service_request.expected_at
        )
    assert body["turnaround"] == expected


def noise_png(at_least: int) -> bytes:
    """A PNG of random pixels (it does not compress) of at least this many bytes."""
    side = int((at_least / 3) ** 0.5) + 20
    rng = random.Random(7)
    image = Image.frombytes(
        "RGB", (side, side), bytes(rng.getrandbits(8) for _ in range(side * side * 3))
    )
    out = io.BytesIO()
    image.save(out, "PNG")
    assert len(out.getvalue()) >= at_least
    return out.getvalue()


# --- In the browser


class Offline:
    """Every request of the context fails as if the phone had no network (the page's and the
    service worker's), and navigator.onLine says so; ``seen`` lists what was refused."""

    def __init__(self, context: BrowserContext) -> None:
        self.context = context
        self.seen: list[str] = []

    def _refuse(self, route: Route) -> None:
        self.seen.append(route.request.url)
        route.abort("internetdisconnected")

    def __enter__(self) -> Offline:
        self.context.set_offline(True)
        self.context.route("**/*", self._refuse)
        return self

    def __exit__(self, *exc: object) -> None:
        self.context.unroute("**/*")
        self.context.set_offline(False)  # fires the pages' `online` event


def controlled(page: Page) -> None:
    """Waits until the worker is active, has kept the shell and controls the page."""
    page.wait_for_function(
        "() => navigator.serviceWorker.controller !== null", timeout=STEP_MS, polling=100
    )


def shots_dir(tmp_path: Path) -> Path:
    shots = Path(os.environ.get("CITY311_SCREENSHOTS_DIR") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    return shots


@pytest.fixture
def browser_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    assert Path(CHROMIUM).exists(), "Debian's Chromium is missing: `make test` installs it"
    assert "test" in str(connection.settings_dict["NAME"])


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_worker_registers_and_a_reload_offline_renders_the_report_page(
    catalog: None, browser_env: None, tmp_path: Path
) -> None:
    with served_browser(log=tmp_path / "uvicorn.log") as (base, browser):
        context = phone_context(browser)
        page = context.new_page()
        page.goto(f"{base}/report")
        controlled(page)
        registration = page.evaluate(
            """async () => {
                const reg = await navigator.serviceWorker.ready;
                return {scope: reg.scope, script: reg.active.scriptURL,
                        caches: await caches.keys()};
            }"""
        )
        assert registration["scope"] == f"{base}/"
        assert registration["script"] == f"{base}/sw.js"
        assert sorted(registration["caches"]) == [f"city311-shell-{shell_version()}"]
        assert_accessible(page)

        with Offline(context) as offline:
            page.reload()
            assert page.inner_text("h1") == "Report a problem"
            assert page.locator("input[name=service_code]").count() == 12
            # The page's scripts came from the phone too: the map and the cards work.
            page.wait_for_selector("#map:not([hidden])")
            # The worker's own fetch of the page met the failing route.
            assert any(url.rstrip("/").endswith("/report") for url in offline.seen), offline.seen
            assert page.evaluate("navigator.onLine") is False

            # A page never kept: the offline page, not the browser's error.
            page.goto(f"{base}/track/SR-2026-999999")
            assert page.inner_text("h1") == "You are offline"
            # The start URL ("/", a redirect online) opens the report page.
            page.goto(f"{base}/")
            assert page.inner_text("h1") == "Report a problem"
            # The other apps are never the worker's: offline, the browser's own error.
            for other in ("/crew/", "/staff/workorders/", "/admin/", "/mobile/v1/services"):
                with pytest.raises(PlaywrightError, match="ERR_INTERNET_DISCONNECTED"):
                    page.goto(f"{base}{other}")

        # Online, the staff pages send a signed-out visitor to the sign-in.
        page.goto(f"{base}/staff/workorders/")
        assert "/accounts/login/" in page.url
        assert_accessible(page)


def compose_pothole(page: Page, photo: Path) -> None:
    page.locator(".service-card", has_text="Pothole").click()
    page.select_option("#attr-pothole-size", "large")
    page.locator("#map").click()  # the pin at the map's centre: no tiles needed
    assert page.input_value("#lat") and page.input_value("#long")
    page.fill("#description", "Deep pothole by the bus stop, composed offline")
    page.set_input_files("#photos", str(photo))


def queued(page: Page) -> list[dict[str, Any]]:
    return page.evaluate(
        """() => window.city311ReportQueue.list().then((all) =>
            all.map((r) => ({key: r.key, state: r.state, photos: r.photos.length,
                             blob: r.photos.length ? r.photos[0].blob instanceof Blob : null})))"""
    )


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_report_composed_offline_is_filed_once_back_online(
    catalog: None, browser_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shots = shots_dir(tmp_path)
    # A small limit for this server: the phone must refuse the big photo before upload.
    monkeypatch.setenv("PHOTO_MAX_BYTES", "300000")
    resident = account_signup(email="rosa@example.org", password=PASSWORD, name="Rosa")
    assert isinstance(resident, User)
    photo = tmp_path / "pothole.jpg"
    photo.write_bytes(jpeg_bytes(size=(640, 480), color=(90, 90, 95)))
    big = tmp_path / "big.png"
    big.write_bytes(noise_png(400_000))

    with served_browser(log=tmp_path / "uvicorn.log") as (base, browser):
        context = phone_context(browser)
        page = context.new_page()

        # Given a resident signed in on their phone, on the report page
        page.goto(f"{base}/accounts/signup/")
        assert_accessible(page)
        page.goto(f"{base}/accounts/login/")
        assert_accessible(page)
        page.fill("#id_username", "rosa@example.org")
        page.fill("#id_password", PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(f"{base}/me/")
        page.goto(f"{base}/report")
        controlled(page)

        with Offline(context) as offline:
            # A photo over the limit is refused on the phone, before anything is kept.
            compose_pothole(page, big)
            page.get_by_role("button", name="Send report").click()
            error = page.locator("#photos-phone-error")
            error.wait_for(state="visible")
            assert "too large" in error.inner_text()
            assert page.get_attribute("#photos", "aria-invalid") == "true"
            assert queued(page) == []

            # When they compose the report with a photo while offline and send it
            page.set_input_files("#photos", str(photo))
            page.evaluate(
                """() => { window.__filed = [];
                    document.addEventListener("city311:filed",
                        (e) => window.__filed.push(e.detail.public_id)); }"""
            )
            page.get_by_role("button", name="Send report").click()

            # Then it waits on the phone, with its photo, and says so
            waiting = page.locator("#outbox .outbox-item.waiting")
            waiting.wait_for()
            assert "Saved on this phone" in waiting.inner_text()
            assert "sent when you are back online" in waiting.inner_text()
            assert_accessible(page)
            kept = queued(page)
            assert len(kept) == 1 and kept[0]["state"] == "waiting"
            assert kept[0]["photos"] == 1 and kept[0]["blob"] is True
            assert page.input_value("#description") == ""  # the form is free again
            page.screenshot(path=shots / "report-offline-waiting-phone.png", full_page=True)

            # ...and still after a reload while offline (the page comes from the phone).
            page.reload()
            page.locator("#outbox .outbox-item.waiting").wait_for()
            page.evaluate(
                """() => { window.__filed = [];
                    document.addEventListener("city311:filed",
                        (e) => window.__filed.push(e.detail.public_id)); }"""
            )
            page.wait_for_timeout(1000)
            assert not ServiceRequest.objects.exists()
            assert offline.seen, "the failing route saw no request"

        # When the phone is back online (the page's `online` event)
        confirmation = page.locator("#outbox .confirmation")
        confirmation.wait_for()

        # Then it is filed once, as the resident's, with its photo, through the app intake
        public_id = confirmation.locator(".public-id").inner_text().strip()
        assert re.fullmatch(r"SR-\d{4}-\d{6}", public_id)
        filed = ServiceRequest.objects.get()
        assert filed.public_id == public_id
        assert filed.channel == Channel.APP
        assert filed.reporter_id == resident.pk
        assert filed.idempotency_key == kept[0]["key"]
        assert filed.attributes == {"size": "large"}
        assert filed.photos.count() == 1
        # ...and the page shows its id and the expected turnaround, as an online filing does
        with translation.override("en"):
            sentence = turnaround_sentence(
                service_type=filed.service_type, expected_at=filed.expected_at
            )
        page.wait_for_function(
            "() => document.querySelector('#outbox .confirmation .turnaround').textContent !== ''"
        )
        assert confirmation.locator(".turnaround").inner_text() == sentence
        assert confirmation.get_by_role("link").get_attribute("href") == f"/track/{public_id}"
        assert page.evaluate("window.__filed") == [public_id]
        assert queued(page) == []
        assert_accessible(page)
        page.screenshot(path=shots / "report-offline-filed-phone.png", full_page=True)

        # A reload, another sync: nothing is filed twice.
        page.reload()
        page.wait_for_timeout(1500)
        assert ServiceRequest.objects.count() == 1

        # Background Sync: the worker files a report by itself. Composed offline, then the
        # resident moves to a page without the report script (it cannot send) and the
        # network comes back: the browser's sync event (dispatched here) sends it.
        with Offline(context):
            compose_pothole(page, photo)
            page.get_by_role("button", name="Send report").click()
            page.locator("#outbox .outbox-item.waiting").wait_for()
            page.goto(f"{base}/track")  # from the phone
            assert page.evaluate("typeof window.city311ReportQueue") == "undefined"
        cdp = context.new_cdp_session(page)
        registrations: list[dict[str, Any]] = []
        cdp.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda event: registrations.extend(event["registrations"]),
        )
        cdp.send("ServiceWorker.enable")
        deadline = time.monotonic() + STEP_MS / 1000
        while not registrations and time.monotonic() < deadline:
            page.wait_for_timeout(100)
        scope = next(r for r in registrations if r["scopeURL"] == f"{base}/")
        cdp.send(
            "ServiceWorker.dispatchSyncEvent",
            {
                "origin": base,
                "registrationId": scope["registrationId"],
                "tag": "city311-reports",
                "lastChance": False,
            },
        )
        deadline = time.monotonic() + STEP_MS / 1000
        while ServiceRequest.objects.count() < 2 and time.monotonic() < deadline:
            page.wait_for_timeout(200)
        second = ServiceRequest.objects.exclude(public_id=public_id).get()
        assert second.reporter_id == resident.pk and second.photos.count() == 1
        # The next visit to the report page says it was sent, and the phone lets it go.
        page.goto(f"{base}/report")
        by_worker = page.locator("#outbox .confirmation .public-id")
        by_worker.wait_for()
        assert by_worker.inner_text().strip() == second.public_id
        assert queued(page) == []
        assert ServiceRequest.objects.count() == 2

        # The resident's page lists it with the others they filed.
        for code, address in (("streetlight", "4 Oak Ave"), ("graffiti", "Main St bridge")):
            submit(code, channel="web", reporter=resident, address=address)
        page.goto(f"{base}/me/")
        assert public_id in page.inner_text("main")
        assert page.locator(".request-card").count() == 4
        assert_accessible(page)
        page.screenshot(path=shots / "me-phone.png", full_page=True)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_report_sent_on_a_dead_link_that_looks_online_is_kept_not_lost(
    catalog: None, browser_env: None, tmp_path: Path
) -> None:
    """The phone says "online" (no `offline` event, ``navigator.onLine`` true) but nothing
    reaches the server: the report is kept on the phone instead of being lost to the
    browser's error page (the page asks /healthz before the form's POST; the queue's own try
    through the app intake fails and the report waits), and is filed once when the server
    answers again."""
    photo = tmp_path / "pothole.jpg"
    photo.write_bytes(jpeg_bytes(size=(640, 480), color=(90, 90, 95)))
    with served_browser(log=tmp_path / "uvicorn.log") as (base, browser):
        context = phone_context(browser)
        page = context.new_page()
        page.goto(f"{base}/report")
        controlled(page)
        refused: list[str] = []

        def dead(route: Any) -> None:
            refused.append(f"{route.request.method} {route.request.url}")
            route.abort("timedout")

        # Given a link that carries nothing while the phone believes it is online
        context.route("**/*", dead)
        compose_pothole(page, photo)
        page.get_by_role("button", name="Send report").click()

        # Then the report waits on the phone (the server was asked first, and never got it)
        waiting = page.locator("#outbox .outbox-item.waiting")
        waiting.wait_for()
        assert "Saved on this phone" in waiting.inner_text()
        assert page.evaluate("navigator.onLine") is True
        assert any(entry.endswith("/healthz") for entry in refused), refused
        # (the form's own POST never left: the browser's error page would have shown)
        assert not any(entry.endswith("/report") for entry in refused if "POST" in entry)
        assert page.url == f"{base}/report"
        assert not ServiceRequest.objects.exists()
        assert len(queued(page)) == 1

        # When the server answers again, the next start of the page files it, once
        context.unroute("**/*")
        page.reload()
        page.locator("#outbox .confirmation").wait_for()
        assert ServiceRequest.objects.count() == 1
        page.reload()
        page.wait_for_timeout(1000)
        assert ServiceRequest.objects.count() == 1
        assert queued(page) == []
