"""Web Push in the browser (integration), without a vendor's push service:

- the display code of static/web/push-sw.js, called directly with stand-ins for the
  service-worker registration and its clients: what it shows and which window a tap opens;
- the residents' real worker (/sw.js, which imports push-sw.js) given a push message through
  Chromium's DevTools protocol (ServiceWorker.deliverPushMessage): the notification it shows;
- the opt-in ("Get updates on this phone", static/web/push.js) on /me/, on the report page
  after a filing and on the confirmation page: it fetches the site's VAPID key, subscribes
  with it, and the server stores the subscription for the account, or bound to the request.
  The browser's own pushManager.subscribe needs the vendor's service, so it is replaced by a
  stand-in that records its options and answers a subscription on an allowed push host.

Accessibility (axe-core) on each page, with the opt-in shown."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.db import connection
from playwright.sync_api import Browser, Page

from backend.accounts.services import account_signup
from backend.service_requests.models import ServiceRequest
from mobile_api.models import Device
from tests.factories import submit
from tests.mobile_api.push_service import b64d, b64e, point, vapid_pair
from tests.web.a11y import assert_accessible
from tests.web.browser import sign_in
from tests.web.test_e2e import CHROMIUM, PHONE, STEP_MS, served_browser

PASSWORD = "a long passphrase 7"
ENDPOINT = "https://fcm.googleapis.com/fcm/send/stand-in-"


@pytest.fixture
def vapid(monkeypatch: pytest.MonkeyPatch) -> str:
    """The server's VAPID pair (uvicorn reads it from the environment); the public key."""
    private, public = vapid_pair()
    monkeypatch.setenv("WEB_PUSH_VAPID_PRIVATE_KEY", private)
    monkeypatch.setenv("WEB_PUSH_VAPID_PUBLIC_KEY", public)
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    assert Path(CHROMIUM).exists(), "Debian's Chromium is missing: `make test` installs it"
    assert "test" in str(connection.settings_dict["NAME"])
    return public


@pytest.fixture
def site(vapid: str, tmp_path: Path) -> Iterator[tuple[str, Browser]]:
    with served_browser(log=tmp_path / "uvicorn.log") as (base, browser):
        yield base, browser


def _phone(browser: Browser, base: str) -> Page:
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    context.set_default_timeout(STEP_MS)
    context.grant_permissions(["notifications"], origin=base)
    return context.new_page()


def _phone_with_push(browser: Browser, base: str, name: str) -> tuple[Page, dict[str, Any]]:
    """A phone whose browser subscribes with the stand-in subscription ``name``."""
    subscription = _stand_in_subscription(name)
    page = _phone(browser, base)
    page.add_init_script(STAND_IN_PUSH_MANAGER % json.dumps(subscription))
    return page, subscription


def _opt_in_binds_the_request(
    page: Page, subscription: dict[str, Any], filed: ServiceRequest
) -> None:
    """An anonymous resident turns updates on: the subscription is bound to ``filed``."""
    optin = page.locator("[data-push-optin]")
    page.get_by_role("button", name="Get updates on this phone").click()
    optin.locator("[data-push-status]").filter(has_text="Updates are on for this phone.").wait_for()
    device = Device.objects.get(push_token=subscription["endpoint"])
    assert (device.user_id, device.service_request_id) == (None, filed.pk)
    assert_accessible(page)


@pytest.fixture
def report_page(catalog: None, site: tuple[str, Browser]) -> tuple[str, Page]:
    """The site's base URL, and its report page on a phone that allows notifications."""
    base, browser = site
    page = _phone(browser, base)
    page.goto(f"{base}/report")
    return base, page


def _shots(tmp_path: Path) -> Path:
    shots = Path(os.environ.get("CITY311_SCREENSHOTS_DIR") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    return shots


# The browser's pushManager, replaced: subscribe() records its options and answers a
# subscription on an allowed push host with real keys; getSubscription() what it answered.
STAND_IN_PUSH_MANAGER = """
(() => {
  const stub = %s;
  let current = null;
  window.__subscribeCalls = [];
  PushManager.prototype.subscribe = function (options) {
    window.__subscribeCalls.push({
      userVisibleOnly: options.userVisibleOnly,
      key: Array.from(new Uint8Array(options.applicationServerKey)),
    });
    current = {
      endpoint: stub.endpoint,
      options: { applicationServerKey: new Uint8Array(options.applicationServerKey).buffer },
      toJSON() { return { endpoint: stub.endpoint, expirationTime: null, keys: stub.keys }; },
      unsubscribe() { current = null; return Promise.resolve(true); },
    };
    return Promise.resolve(current);
  };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(current); };
})();
"""


def _stand_in_subscription(name: str) -> dict[str, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    return {
        "endpoint": ENDPOINT + name,
        "keys": {"p256dh": b64e(point(key)), "auth": b64e(os.urandom(16))},
    }


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_display_code_shows_the_servers_words_and_a_tap_opens_the_track_page(
    report_page: tuple[str, Page],
) -> None:
    _, page = report_page
    # The file as served, in the page: its functions without the worker's events
    page.add_script_tag(url="/static/web/push-sw.js")
    result = page.evaluate(
        """async () => {
            const shown = [];
            const registration = {
                showNotification(title, options) {
                    shown.push({ title, options });
                    return Promise.resolve();
                },
            };
            await self.city311Push.show(registration, {
                title: "city311: work on SR-2026-000123 has started",
                body: "A crew is on the way.",
                url: "/track/SR-2026-000123",
                tag: "city311-SR-2026-000123",
            });
            const focused = [], opened = [];
            const track = location.origin + "/track/SR-2026-000123";
            const withWindow = {
                matchAll: () => Promise.resolve([
                    { url: location.origin + "/report", focus() { focused.push(this.url); } },
                    { url: track, focus() { focused.push(this.url); } },
                ]),
                openWindow: (url) => { opened.push(url); },
            };
            const none = {
                matchAll: () => Promise.resolve([]),
                openWindow: (url) => { opened.push(url); },
            };
            await self.city311Push.open(withWindow, shown[0].options.data.url);
            await self.city311Push.open(none, "/track/SR-2026-000124");
            await self.city311Push.open(none, "https://evil.example.com/phish");
            return { shown, focused, opened, origin: location.origin };
        }"""
    )
    origin = result["origin"]
    assert result["shown"] == [
        {
            "title": "city311: work on SR-2026-000123 has started",
            "options": {
                "body": "A crew is on the way.",
                "icon": "/static/web/icons/icon-192.png",
                "badge": "/static/web/icons/icon-192.png",
                "data": {"url": f"{origin}/track/SR-2026-000123"},
                "tag": "city311-SR-2026-000123",
                "renotify": True,
            },
        }
    ]
    # A tap focuses the window already on the track page, else opens it; never another site
    assert result["focused"] == [f"{origin}/track/SR-2026-000123"]
    assert result["opened"] == [f"{origin}/track/SR-2026-000124", f"{origin}/"]
    assert_accessible(page)


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_residents_worker_shows_a_delivered_push(report_page: tuple[str, Page]) -> None:
    base, page = report_page
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", polling=100)
    cdp = page.context.new_cdp_session(page)
    registrations: list[dict[str, Any]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda event: registrations.extend(event["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    page.wait_for_timeout(200)
    ours = [r for r in registrations if r["scopeURL"] == f"{base}/" and not r["isDeleted"]]
    assert ours, registrations
    payload = {
        "title": "city311: SR-2026-000777 is closed",
        "body": "Filled and sealed.",
        "url": "/track/SR-2026-000777",
        "tag": "city311-SR-2026-000777",
    }
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {"origin": base, "registrationId": ours[0]["registrationId"], "data": json.dumps(payload)},
    )
    shown: list[dict[str, Any]] = []
    for _ in range(100):  # the worker shows it asynchronously
        shown = page.evaluate(
            """async () => {
                const reg = await navigator.serviceWorker.ready;
                const list = await reg.getNotifications();
                return list.map((n) => ({
                    title: n.title, body: n.body, tag: n.tag, data: n.data,
                }));
            }"""
        )
        if shown:
            break
        page.wait_for_timeout(100)
    assert shown == [
        {
            "title": "city311: SR-2026-000777 is closed",
            "body": "Filled and sealed.",
            "tag": "city311-SR-2026-000777",
            "data": {"url": f"{base}/track/SR-2026-000777"},
        }
    ]


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_the_opt_in_subscribes_the_account_on_me_and_a_request_after_filing(
    catalog: None, site: tuple[str, Browser], vapid: str, tmp_path: Path
) -> None:
    base, browser = site
    user = account_signup(email="pia@example.org", password=PASSWORD, name="Pia")
    # On /me/, signed in: the account's subscription
    page, account_browser = _phone_with_push(browser, base, "account")
    sign_in(page, base, username="pia@example.org", password=PASSWORD, next_path="/me/")
    page.goto(f"{base}/me/")
    optin = page.locator("[data-push-optin]")
    optin.wait_for(state="visible")
    button = page.get_by_role("button", name="Get updates on this phone")
    assert button.bounding_box()["height"] >= 44  # type: ignore[index]
    button.click()
    status = optin.locator("[data-push-status]")
    status.filter(has_text="Updates are on for this phone.").wait_for()
    calls = page.evaluate("window.__subscribeCalls")
    assert calls == [{"userVisibleOnly": True, "key": list(b64d(vapid))}]
    device = Device.objects.get(push_token=account_browser["endpoint"])
    assert (device.user_id, device.service_request_id, device.platform) == (user.pk, None, "web")
    assert (device.p256dh, device.auth) == (
        account_browser["keys"]["p256dh"],
        account_browser["keys"]["auth"],
    )
    assert_accessible(page)
    page.screenshot(path=_shots(tmp_path) / "push-optin-me-phone.png", full_page=True)
    # Turning it off forgets it on the server too
    page.get_by_role("button", name="Turn off updates on this phone").click()
    status.filter(has_text="Updates are off for this phone.").wait_for()
    assert not Device.objects.filter(push_token=account_browser["endpoint"]).exists()

    # On the report page, anonymous: hidden until a filing names the request
    filed = submit("pothole", channel="web")
    page, anonymous_browser = _phone_with_push(browser, base, "anonymous")
    page.goto(f"{base}/report")
    optin = page.locator("[data-push-optin]")
    assert optin.is_hidden()
    page.evaluate(
        "(id) => document.dispatchEvent(new CustomEvent('city311:filed', "
        "{ detail: { public_id: id } }))",
        filed.public_id,
    )
    optin.wait_for(state="visible")
    _opt_in_binds_the_request(page, anonymous_browser, filed)

    # On the confirmation page after an online filing: shown at once, bound to that request
    page, confirmed_browser = _phone_with_push(browser, base, "confirmation")
    page.goto(f"{base}/track/{filed.public_id}?filed=1")
    optin = page.locator("[data-push-optin]")
    optin.wait_for(state="visible")
    _opt_in_binds_the_request(page, confirmed_browser, filed)
