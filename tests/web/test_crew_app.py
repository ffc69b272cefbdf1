"""The crew app (/crew/) in a real browser (integration), on a phone-sized screen: a crew
member signs in, works offline, and the server gets each action once, in order, with the
phone's time. The server is uvicorn on the pytest database (``asgi_server``), the browser
Debian's Chromium. "Offline" is ``tests.web.browser.offline``: every request of the context
refused (which the service worker feels too) and ``set_offline``; back online fires the
page's ``online`` event. No map tiles are loaded. With ``CITY311_SCREENSHOTS_DIR`` set, the
README's phone screenshots are saved there."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.utils import timezone
from PIL import Image, ImageDraw
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Dialog,
    Geolocation,
    Page,
)
from rest_framework.authtoken.models import Token

from backend.intake.services import PhotoUpload
from backend.service_requests.models import ServiceRequest
from mobile_api.models import ActionReplay
from tests.conftest import BOSTON, jpeg_bytes
from tests.photos.images import encode, exif_block
from tests.web.a11y import assert_accessible
from tests.web.browser import offline, online, sign_in
from tests.web.test_e2e import CHROMIUM, PHONE, STEP_MS, served_browser
from tests.workorders.factories import Staff, exif_time, order_of, request_make, staff_make
from workorders.models import (
    ProofPhoto,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderEventKind,
    WorkOrderStatus,
)
from workorders.services import (
    work_order_assign,
    work_order_hold,
    work_order_start,
)

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PASSWORD = "Crew-app-test-5ecret"
HERE: Geolocation = {"latitude": BOSTON[0] + 0.01, "longitude": BOSTON[1]}  # about 1.1 km north


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CITY311_SCREENSHOTS_DIR") or tmp_path / "shots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def server_env(request: pytest.FixtureRequest) -> dict[str, str]:
    """Settings of the server under test, by environment (parametrize indirectly)."""
    return dict(getattr(request, "param", {}))


@pytest.fixture
def site(
    catalog: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, server_env: dict[str, str]
) -> Iterator[tuple[str, Browser]]:
    assert Path(CHROMIUM).exists(), "Debian's Chromium is missing: `make test` installs it"
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the tests are
    # plain synchronous ones between its calls.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    for name, value in server_env.items():
        monkeypatch.setenv(name, value)
    with served_browser(log=tmp_path / "uvicorn.log") as (base, browser):
        yield base, browser


def crew_staff() -> Staff:
    staff = staff_make()
    for user in (staff.crew, staff.supervisor):
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return staff


def phone(browser: Browser, base: str, **options: Any) -> tuple[BrowserContext, Page]:
    context = browser.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        locale="en-US",
        timezone_id="America/New_York",
        service_workers="allow",
        geolocation=HERE,
        permissions=["geolocation"],
        **options,
    )
    context.set_default_timeout(STEP_MS)
    return context, context.new_page()


def worker_ready(page: Page) -> str:
    """The scope of the service worker that controls the page (once it does)."""
    page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller")
    return str(page.evaluate("navigator.serviceWorker.ready.then(r => r.scope)"))


def eventually(page: Page, check: Callable[[], bool], *, seconds: float = STEP_MS / 1000) -> None:
    """Waits for ``check`` (the database, what the network cut saw), letting Playwright
    deliver its events meanwhile (``time.sleep`` would hold them)."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "not within the time allowed"
        page.wait_for_timeout(100)


def outbox_count(page: Page, state: str) -> int:
    return int(page.locator(f'#outbox li[data-state="{state}"]').count())


def open_order(page: Page, order: WorkOrder) -> None:
    page.evaluate(f"location.hash = '#/order/{order.pk}'")
    page.wait_for_selector(
        f"#order-view:not([hidden]) #order-title:has-text('{order.service_request.public_id}')"
    )


def act(page: Page, order: WorkOrder, action: str, fields: dict[str, str] | None = None) -> None:
    """Takes one action on the order through its form; it is kept on the phone at once."""
    waiting = outbox_count(page, "waiting")
    open_order(page, order)
    page.locator(f'details[data-action="{action}"] > summary').click()
    for selector, value in (fields or {}).items():
        if selector.endswith("reason"):
            page.select_option(selector, value)
        else:
            page.fill(selector, value)
    page.locator(f'form[data-action="{action}"] button[type="submit"]').click()
    page.wait_for_function(
        "() => document.querySelectorAll('#outbox li[data-state=\"waiting\"]').length"
        f" >= {waiting + 1}"
    )


def big_proof_photo(*, taken: datetime, lat: float, long: float) -> bytes:
    """A 12-megapixel JPEG (what a phone's camera makes) whose EXIF carries the capture time
    and the GPS position: the app shrinks it before it is kept, and the proof check on the
    server must still read both."""
    image = Image.new("RGB", (4000, 3000), (120, 120, 125))
    draw = ImageDraw.Draw(image)
    for x in range(0, 4000, 40):  # some detail, so the file is a few megabytes like a real one
        draw.line([(x, 0), (4000 - x, 3000)], fill=(x % 255, 90, 200 - x % 200), width=9)
    stamp, offset = exif_time(taken)
    return encode(
        image, "JPEG", quality=92, exif=exif_block(gps=(lat, long), taken=stamp, offset=offset)
    )


def test_a_crew_member_completes_an_order_offline_with_a_proof_photo(
    site: tuple[str, Browser], shots: Path, tmp_path: Path
) -> None:
    base, browser = site
    staff = crew_staff()
    now = timezone.now()
    # Given an order of the crew's team, started an hour ago, of a request filed two hours ago
    service_request = request_make(requested_at=now - timedelta(hours=2), address="12 Tremont St")
    order = work_order_assign(
        work_order=order_of(service_request),
        team=staff.team,
        actor=staff.supervisor,
        at=now - timedelta(minutes=90),
    )
    order = work_order_start(work_order=order, actor=staff.crew, at=now - timedelta(minutes=60))
    # ...a phone whose clock says 20 minutes ago (not the server's time)...
    phone_time = (now - timedelta(minutes=20)).replace(microsecond=0)
    # ...and a photo taken on site half an hour ago
    photo = tmp_path / "proof.jpg"
    photo.write_bytes(
        big_proof_photo(taken=now - timedelta(minutes=30), lat=BOSTON[0], long=BOSTON[1])
    )
    assert photo.stat().st_size > 1_000_000

    context, page = phone(browser, base)
    page.clock.set_fixed_time(phone_time)
    # When the crew member signs in on the phone, they land on their queue
    sign_in(page, base, username=staff.crew.username, password=PASSWORD)
    assert page.url == f"{base}/crew/"
    page.wait_for_selector(f'#queue a[data-id="{order.pk}"]')
    assert worker_ready(page) == f"{base}/crew/"
    # ...and open the order, then lose the network
    open_order(page, order)
    page.wait_for_selector('details[data-action="complete"]:not([hidden])')
    cut = offline(context)
    page.wait_for_selector("#net:has-text('You are offline')")

    # When they complete it with a proof photo from the camera
    page.locator('details[data-action="complete"] > summary').click()
    page.set_input_files("#complete-photos", str(photo))
    page.fill("#complete-public", "Filled and rolled. Thank you!")
    page.locator('form[data-action="complete"] button[type="submit"]').click()

    # Then the phone keeps it, "waiting to send"; it tried, and nothing reached the server
    page.wait_for_selector('#outbox li[data-state="waiting"]')
    assert "Waiting to send" in page.inner_text("#outbox")
    assert "Saved on this phone" in page.inner_text("#action-status")
    complete_url = f"{base}/mobile/v1/crew/workorders/{order.pk}/complete"
    eventually(page, lambda: complete_url in cut.refused_urls(method="POST"))
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.IN_PROGRESS
    page.screenshot(path=shots / "crew-offline-phone.png", full_page=True)

    # When the phone is back online
    online(context)

    # Then the action is sent, once, and the server has the order completed at the phone's
    # time, the proof check passed on the shrunk photo, the request closed with the note
    page.wait_for_function("() => document.querySelectorAll('#outbox li').length === 0")
    eventually(page, lambda: WorkOrder.objects.get(pk=order.pk).status == WorkOrderStatus.COMPLETED)
    order.refresh_from_db()
    assert order.completed_at == phone_time
    assert order.review_required is False
    completed = WorkOrderEvent.objects.filter(work_order=order, kind=WorkOrderEventKind.COMPLETED)
    assert completed.count() == 1 and completed.get().created_at == phone_time
    proof = ProofPhoto.objects.select_related("photo").get(work_order=order)
    assert proof.verified, proof.reasons
    assert max(proof.photo.width, proof.photo.height) <= 2048  # shrunk on the phone
    assert proof.distance_m is not None and proof.distance_m < 5
    assert ActionReplay.objects.filter(user=staff.crew).count() == 1

    # ...and the resident's track page shows the proof photo and the crew's words
    resident = browser.new_page(viewport=PHONE)
    resident.goto(f"{base}/track/{service_request.public_id}")
    resident.wait_for_selector('[data-status="closed"]')
    resident.wait_for_selector('img[alt="Photo of the finished work"]')
    assert "Filled and rolled. Thank you!" in resident.inner_text("main")
    resident.close()
    context.close()


def test_twenty_actions_queued_offline_arrive_once_in_order_across_a_new_sign_in(
    site: tuple[str, Browser],
) -> None:
    base, browser = site
    staff = crew_staff()
    now = timezone.now()

    def order_for(status: str) -> WorkOrder:
        made = order_of(request_make(requested_at=now - timedelta(hours=3)))
        made = work_order_assign(
            work_order=made, team=staff.team, actor=staff.supervisor, at=now - timedelta(hours=2)
        )
        if status != WorkOrderStatus.ASSIGNED:
            made = work_order_start(work_order=made, actor=staff.crew, at=now - timedelta(hours=2))
        if status == WorkOrderStatus.ON_HOLD:
            made = work_order_hold(
                work_order=made, reason="parts", actor=staff.crew, at=now - timedelta(hours=2)
            )
        return made

    first, second, third = (
        order_for(WorkOrderStatus.ASSIGNED),
        order_for(WorkOrderStatus.IN_PROGRESS),
        order_for(WorkOrderStatus.ON_HOLD),
    )
    moved = order_for(WorkOrderStatus.ASSIGNED)

    context, page = phone(browser, base)
    sign_in(page, base, username=staff.crew.username, password=PASSWORD, next_path="/crew/")
    page.wait_for_selector(f'#queue a[data-id="{moved.pk}"]')
    worker_ready(page)
    old_token = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")

    # Given twenty actions on three orders, and one on a fourth, all taken offline
    cut = offline(context)
    plan: list[tuple[WorkOrder, str, dict[str, str]]] = [
        (first, "start", {}),
        (first, "note", {"#note-public": "Note 1 on the first order"}),
        (first, "hold", {"#hold-reason": "weather"}),
        (second, "hold", {"#hold-reason": "access", "#hold-public": "The gate is locked."}),
        (third, "resume", {"#resume-public": "The parts came."}),
        (first, "resume", {}),
        (second, "resume", {}),
    ]
    plan += [(order, "note", {"#note-public": f"Note {n}"}) for n, order in
             enumerate([first, second, third] * 5, start=2)][:13]  # fmt: skip
    assert len(plan) == 20
    for order, action, fields in plan:
        act(page, order, action, fields)
    act(page, moved, "note", {"#note-public": "On my way"})
    assert outbox_count(page, "waiting") == 21
    assert cut.refused_urls(method="POST")  # the phone tried: nothing reached the server
    assert not ActionReplay.objects.exists()

    # ...while the supervisor gave the fourth order to the other team, and the crew member's
    # session ended
    work_order_assign(work_order=moved, team=staff.other_team, actor=staff.supervisor)
    Session.objects.all().delete()

    # When the phone is back online, it asks to sign in again and keeps every action
    online(context)
    page.wait_for_selector("#signin:not([hidden])")
    assert outbox_count(page, "waiting") == 21
    assert not ActionReplay.objects.exists()

    # When the crew member signs in again (a new CSRF token) and is back in the app
    page.click("#signin a")
    page.wait_for_url(f"{base}/accounts/login/?next=/crew/")
    sign_in(page, base, username=staff.crew.username, password=PASSWORD)
    assert page.url == f"{base}/crew/"
    new_token = next(c["value"] for c in context.cookies() if c["name"] == "csrftoken")
    assert new_token != old_token

    # Then the twenty actions arrive once each, in the order they were taken...
    page.wait_for_selector('#outbox li[data-state="failed"]')  # after the whole queue's turn
    assert outbox_count(page, "waiting") == 0
    delivered = list(ActionReplay.objects.filter(user=staff.crew).order_by("id"))
    assert [replay.action for replay in delivered] == [
        f"{action}:{order.pk}" for order, action, _ in plan
    ]
    for order, kind, count in [
        (first, WorkOrderEventKind.STARTED, 1),
        (first, WorkOrderEventKind.HELD, 1),
        (first, WorkOrderEventKind.RESUMED, 1),
        (second, WorkOrderEventKind.HELD, 1),
        (second, WorkOrderEventKind.RESUMED, 1),
        (third, WorkOrderEventKind.RESUMED, 1),
    ]:
        assert WorkOrderEvent.objects.filter(work_order=order, kind=kind).count() == count
    notes = [
        text
        for order in (first, second, third)
        for text in order.service_request.events.filter(kind="note")
        .exclude(public_note="")
        .values_list("public_note", flat=True)
    ]
    assert sorted(notes) == sorted(
        [fields["#note-public"] for _, action, fields in plan if action == "note"]
        + ["The gate is locked.", "The parts came."]
    )
    for order in (first, second, third):
        order.refresh_from_db()
    assert (first.status, second.status, third.status) == ("in_progress",) * 3

    # ...and the action on the reassigned order shows the server's message, and is not sent
    failed = page.locator('#outbox li[data-state="failed"]')
    assert failed.count() == 1
    assert f"Work order {moved.pk} is with another team now" in failed.inner_text()
    assert not moved.service_request.events.filter(kind="note").exists()
    context.close()


def test_installable_worker_scoped_to_crew_and_the_shell_offline(
    site: tuple[str, Browser], shots: Path
) -> None:
    base, browser = site
    staff = crew_staff()
    now = timezone.now()
    reported = request_make(
        requested_at=now - timedelta(days=10),
        address="1 Court St",
        description="Deep hole by the bus stop, cars swerve around it",
        photos=[PhotoUpload(data=jpeg_bytes(size=(640, 480), color=(90, 90, 95)), field="photos")],
    )
    overdue = work_order_assign(
        work_order=order_of(reported),
        team=staff.team,
        actor=staff.supervisor,
    )
    WorkOrder.objects.filter(pk=overdue.pk).update(due_at=now - timedelta(hours=3))
    later = work_order_assign(
        work_order=order_of(request_make(lat=BOSTON[0] + 0.004, long=BOSTON[1] - 0.003)),
        team=staff.team,
        actor=staff.supervisor,
    )
    ServiceRequest.objects.filter(pk=later.service_request_id).update(supporters_count=3)
    context, page = phone(browser, base)
    sign_in(page, base, username=staff.crew.username, password=PASSWORD)
    page.wait_for_selector(f'#queue a[data-id="{later.pk}"]')

    # The manifest: its fields, and icons that exist in the sizes it says
    manifest = page.evaluate(
        "fetch(document.querySelector('link[rel=manifest]').href).then(r => r.json())"
    )
    assert manifest["start_url"] == "/crew/" and manifest["scope"] == "/crew/"
    assert manifest["display"] == "standalone" and manifest["name"] and manifest["short_name"]
    sizes = set()
    for icon in manifest["icons"]:
        response = context.request.get(base + icon["src"])
        assert response.ok
        with Image.open(io.BytesIO(response.body())) as image:
            assert f"{image.width}x{image.height}" == icon["sizes"]
        sizes.add(icon["sizes"])
    assert sizes == {"192x192", "512x512"}
    # The worker controls the page, scoped to /crew/
    assert worker_ready(page) == f"{base}/crew/"

    # The queue: by due time, the overdue one first and marked in words, distance from here
    links = page.locator("#queue a")
    assert links.count() == 2
    assert links.nth(0).get_attribute("data-id") == str(overdue.pk)
    assert "Overdue" in links.nth(0).inner_text()
    assert "Overdue" not in links.nth(1).inner_text()
    page.wait_for_selector("#queue .away")
    assert "km away" in links.nth(0).inner_text()
    assert page.locator("#map .leaflet-marker-icon").count() == 2  # no tiles needed
    assert page.locator("#map .leaflet-tile").count() == 0
    page.wait_for_selector('body[data-live="open"]')
    assert_accessible(page)
    page.screenshot(path=shots / "crew-queue-phone.png", full_page=True)

    # "Most reported" first: the one three residents said "me too" to, and it is kept
    assert "Me too: 3" in links.nth(1).inner_text()
    page.select_option("#queue-sort", "supporters")
    assert links.nth(0).get_attribute("data-id") == str(later.pk)
    page.reload()
    page.wait_for_selector(f'#queue a[data-id="{later.pk}"]')
    assert page.locator("#queue-sort").input_value() == "supporters"
    assert page.locator("#queue a").nth(0).get_attribute("data-id") == str(later.pk)
    page.select_option("#queue-sort", "due")
    assert page.locator("#queue a").nth(0).get_attribute("data-id") == str(overdue.pk)

    # Live: an order given to the team appears without a reload
    page.evaluate("window.__notReloaded = true")
    newcomer = order_of(request_make(address="5 Milk St"))
    supervisor = context.request.post(
        f"{base}/api/v1/workorders/{newcomer.pk}/assign",
        data={"team": staff.team.pk},
        headers={"Authorization": f"Token {token_of(staff.supervisor)}"},
    )
    assert supervisor.ok, supervisor.text()
    page.wait_for_selector(f'#queue a[data-id="{newcomer.pk}"]')
    assert page.evaluate("window.__notReloaded") is True

    # An order: what the resident said and where, the way there, the actions allowed now
    page.click(f'#queue a[data-id="{overdue.pk}"]')
    page.wait_for_selector('#order-view[data-detail="full"]')
    assert page.inner_text("#f-address") == "1 Court St"
    assert "About how big is it?" in page.inner_text("#f-attributes")
    assert page.get_attribute("#navigate", "href") == f"geo:{BOSTON[0]},{BOSTON[1]}"
    assert "cars swerve around it" in page.inner_text("#f-description")
    page.wait_for_selector('#f-photos img[alt="Photo of the reported problem 1"]')
    visible = page.locator("#actions details:not([hidden])")
    assert [visible.nth(i).get_attribute("data-action") for i in range(visible.count())] == [
        "start",
        "hold",
        "note",
    ]
    page.locator('details[data-action="hold"] > summary').click()
    assert_accessible(page)
    page.screenshot(path=shots / "crew-order-phone.png", full_page=True)

    # Offline, a reload still renders the shell and the orders seen
    offline(context)
    page.reload()
    page.wait_for_selector(f'#order-title:has-text("{overdue.service_request.public_id}")')
    page.wait_for_selector("#net:has-text('You are offline')")
    page.goto(f"{base}/crew/")
    page.wait_for_selector(f'#queue a[data-id="{newcomer.pk}"]')
    assert page.locator("#queue a").count() == 3
    assert "Offline" in page.inner_text("#queue-status")
    assert_accessible(page)
    online(context)

    # The language changes at once, though the worker keeps a copy of the page
    page.select_option("#language", "es")
    page.locator("form.lang button").click()
    page.wait_for_selector('html[lang="es"] #queue a')
    page.select_option("#language", "en")
    page.locator("form.lang button").click()
    page.wait_for_selector('html[lang="en"] #queue a')

    # Signing out with an action still waiting warns first (and "cancel" keeps everything)
    offline(context)
    act(page, later, "note", {"#note-public": "Back tomorrow with a roller"})
    warnings: list[str] = []

    def cancel(dialog: Dialog) -> None:
        warnings.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", cancel)
    page.locator("#signout button").click()
    eventually(page, lambda: bool(warnings))
    assert "Actions still waiting to send: 1." in warnings[0]
    assert page.url.startswith(f"{base}/crew/") and outbox_count(page, "waiting") == 1
    online(context)
    page.wait_for_function("() => document.querySelectorAll('#outbox li').length === 0")

    # Signing out wipes this user's orders, photos and actions from the phone
    page.locator("#signout button").click()
    page.wait_for_url(lambda url: "/crew/" not in url)
    assert "city311-crew-data" not in page.evaluate("caches.keys()")
    assert page.evaluate("caches.match('/crew/').then(found => !!found)") is False
    databases = page.evaluate("indexedDB.databases().then(list => list.map(d => d.name))")
    assert f"city311-crew-{staff.crew.pk}" not in databases
    # ...and the server has the last note once
    assert (
        later.service_request.events.filter(public_note="Back tomorrow with a roller").count() == 1
    )
    context.close()


def token_of(user: User) -> str:
    return str(Token.objects.get_or_create(user=user)[0].key)


@pytest.mark.parametrize("server_env", [{"PHOTO_MAX_BYTES": "300000"}], indirect=True)
def test_a_photo_over_the_servers_limit_is_refused_on_the_phone(
    site: tuple[str, Browser], tmp_path: Path
) -> None:
    base, browser = site
    staff = crew_staff()
    order = work_order_start(
        work_order=work_order_assign(
            work_order=order_of(request_make()), team=staff.team, actor=staff.supervisor
        ),
        actor=staff.crew,
    )
    # A PNG (the app shrinks only JPEGs, as cameras make them) of about 1 MB
    noise = Image.frombytes("RGB", (600, 600), os.urandom(600 * 600 * 3))
    big = tmp_path / "screenshot.png"
    noise.save(big, "PNG")
    assert big.stat().st_size > 300_000
    context, page = phone(browser, base)
    sign_in(page, base, username=staff.crew.username, password=PASSWORD)
    open_order(page, order)
    page.wait_for_selector('#order-view[data-detail="full"]')
    page.locator('details[data-action="complete"] > summary').click()
    page.set_input_files("#complete-photos", str(big))
    page.locator('form[data-action="complete"] button[type="submit"]').click()
    page.wait_for_selector("#action-status.bad")
    assert "Photo 1 is over 0.3 MB" in page.inner_text("#action-status")
    assert outbox_count(page, "waiting") == 0
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.IN_PROGRESS
    context.close()
