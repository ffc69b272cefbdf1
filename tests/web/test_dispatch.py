"""The supervisors' dispatch map in a real browser (integration), desktop and phone: the
console shows one marker per open order with a map point (no map tiles: the map must work on
a plain background), a popup opened from the keyboard or by a tap assigns the order to a team
through the JSON API, the server then has that team and the workload beside the map says so;
a refusal shows the server's own message. axe-core finds no WCAG 2.1 AA violation. Set
``CITY311_SCREENSHOTS_DIR`` to keep dispatch-desktop.png and dispatch-phone.png."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.utils import timezone
from playwright.sync_api import BrowserContext, Page

from tests.web.a11y import assert_accessible
from tests.web.test_e2e import DESKTOP, PHONE, STEP_MS, served_browser
from tests.workorders.factories import Staff, order_in, order_of, request_make, staff_make
from workorders.models import WorkOrder, WorkOrderStatus
from workorders.services import work_order_assign, work_order_start

QUEUE = "/staff/workorders/"
S = WorkOrderStatus


def _sign_in(context: BrowserContext, base: str, staff: Staff) -> None:
    """The supervisor's session, made by Django's test client, handed to the browser."""
    client = Client()
    client.force_login(staff.supervisor)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base}])


def _workload(page: Page, team: object) -> dict[str, int]:
    row = page.locator(f'#workload tr[data-team="{team}"]')
    return {
        name: int(row.locator(f'td[data-count="{name}"]').inner_text())
        for name in ("open", "in_progress", "on_hold", "overdue")
    }


def _open_console(page: Page, base: str, markers: int) -> None:
    page.goto(f"{base}{QUEUE}")
    page.wait_for_selector(f'#dispatch-map[data-orders="{markers}"]')
    assert page.locator(".dm-marker").count() == markers
    assert page.locator(".leaflet-tile").count() == 0  # no tiles configured: none asked for


def _popup(page: Page, order: WorkOrder) -> Any:
    # One popup, faded in: Leaflet fades popups in and out, and axe would read the colours
    # half-way.
    page.wait_for_function(
        """id => {
            const popups = document.querySelectorAll(".leaflet-popup");
            return popups.length === 1 && getComputedStyle(popups[0]).opacity === "1"
                && popups[0].querySelector(`.dm-popup[data-order="${id}"]`) !== null;
        }""",
        arg=order.pk,
    )
    return page.locator(f'.leaflet-popup .dm-popup[data-order="{order.pk}"]')


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_supervisor_dispatches_from_the_map_on_desktop_and_phone(
    catalog: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    assert "test" in str(connection.settings_dict["NAME"])
    shots = Path(os.environ.get("CITY311_SCREENSHOTS_DIR") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    staff = staff_make()
    late: dict[str, Any] = {"requested_at": timezone.now() - timedelta(hours=80)}  # 72 h due
    unassigned = order_of(request_make(lat=42.3612, long=-71.0601))
    overdue = order_of(request_make(lat=42.3550, long=-71.0650, **late))
    order_in(S.ASSIGNED, staff=staff, service_request=request_make(lat=42.3580, long=-71.0550))
    started = order_in(
        S.IN_PROGRESS, staff=staff, service_request=request_make(lat=42.3630, long=-71.0520)
    )
    to_refuse = work_order_assign(
        work_order=order_of(request_make("sidewalk_damage", lat=42.3595, long=-71.0580)),
        team=staff.team,
        actor=staff.supervisor,
    )
    order_of(request_make(lat=None, long=None, address="1 City Hall Sq"))  # table only
    order_in(S.COMPLETED, staff=staff)  # closed: not on the map
    order_of(request_make("graffiti", lat=42.3600))  # Sanitation's: never shown here
    markers = 5

    with served_browser(log=tmp_path / "uvicorn.log") as (base, browser):
        # --- Desktop: the map beside the workload; the keyboard opens a popup.
        desktop = browser.new_context(viewport=DESKTOP, locale="en-US")
        _sign_in(desktop, base, staff)
        page = desktop.new_page()
        page.set_default_timeout(STEP_MS)
        _open_console(page, base, markers)
        map_box = page.locator("#dispatch-map").bounding_box()
        workload_box = page.locator("#workload").bounding_box()
        assert map_box and workload_box and workload_box["x"] > map_box["x"] + map_box["width"]
        assert _workload(page, staff.other_team.pk) == {
            "open": 0, "in_progress": 0, "on_hold": 0, "overdue": 0,
        }  # fmt: skip
        assert _workload(page, "none") == {
            "open": 3, "in_progress": 0, "on_hold": 0, "overdue": 1,
        }  # fmt: skip
        # Shapes say the status, "!" says overdue, and so does each marker's name.
        late_marker = page.locator(f'.dm-marker[data-order="{overdue.pk}"]')
        assert late_marker.get_attribute("class") is not None
        assert "dm-new" in str(late_marker.get_attribute("class"))
        assert late_marker.locator(".dm-glyph").inner_text() == "!"
        assert late_marker.get_attribute("aria-label") == (
            f"WO-{overdue.pk}, Pothole, New, overdue"
        )
        assert "dm-in_progress" in str(
            page.locator(f'.dm-marker[data-order="{started.pk}"]').get_attribute("class")
        )
        assert_accessible(page)

        marker = page.locator(f'.dm-marker[data-order="{unassigned.pk}"]')
        assert marker.get_attribute("tabindex") == "0"  # in the page's Tab order
        assert marker.get_attribute("role") == "button"
        marker.focus()
        page.keyboard.press("Enter")
        popup = _popup(page, unassigned)
        assert page.evaluate("document.activeElement.closest('.leaflet-popup') !== null")
        text = popup.inner_text()
        assert f"WO-{unassigned.pk}" in text and "Pothole" in text and "Not assigned" in text
        popup.get_by_label("Assign to team").select_option(str(staff.other_team.pk))
        assert_accessible(page)
        popup.get_by_role("button", name="Assign").click()

        page.wait_for_function(
            "text => document.getElementById('dispatch-status').textContent === text",
            arg=f"WO-{unassigned.pk} assigned to Crew B.",
        )
        page.wait_for_function(
            "() => document.querySelector("
            "'#workload tr[data-team=\"none\"] td[data-count=\"open\"]').textContent === '2'"
        )
        assert _workload(page, staff.other_team.pk)["open"] == 1
        unassigned.refresh_from_db()
        assert unassigned.team_id == staff.other_team.pk
        assert unassigned.status == S.ASSIGNED
        row_team = page.locator(f'[data-cell="team"][data-order="{unassigned.pk}"]')
        assert row_team.inner_text() == "Crew B"
        # The popup is shown again with the new team.
        assert "Crew B" in _popup(page, unassigned).inner_text()

        # Escape closes the popup and gives the focus back to its marker.
        page.keyboard.press("Escape")
        page.wait_for_function(
            "id => document.activeElement.getAttribute('data-order') === String(id)"
            " && document.querySelector('.leaflet-popup') === null",
            arg=unassigned.pk,
        )

        # Refused: the crew started the order since the page was read.
        page.locator(f'.dm-marker[data-order="{to_refuse.pk}"]').click()
        refused_popup = _popup(page, to_refuse)
        work_order_start(work_order=to_refuse, actor=staff.crew)
        refused_popup.get_by_label("Assign to team").select_option(str(staff.other_team.pk))
        refused_popup.get_by_role("button", name="Assign").click()
        message = (
            f"WO-{to_refuse.pk} was not assigned: Cannot assign a work order that is in progress."
        )
        page.wait_for_function(
            "text => document.getElementById('dispatch-status').textContent === text",
            arg=message,
        )
        assert message in refused_popup.inner_text()
        to_refuse.refresh_from_db()
        assert to_refuse.team_id == staff.team.pk
        page.screenshot(path=shots / "dispatch-desktop.png", full_page=True)
        desktop.close()

        # --- Phone: the map stacked above the workload and the table; a tap.
        phone_context = browser.new_context(
            viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US"
        )
        _sign_in(phone_context, base, staff)
        phone = phone_context.new_page()
        phone.set_default_timeout(STEP_MS)
        _open_console(phone, base, markers)
        boxes = [
            phone.locator(selector).bounding_box()
            for selector in ("#dispatch-map", "#workload", "#orders")
        ]
        assert all(boxes)
        tops = [box["y"] for box in boxes if box]
        assert tops == sorted(tops)
        assert boxes[0] and boxes[0]["width"] >= PHONE["width"] - 40
        # Nothing wider than the phone (the table scrolls inside its own box).
        assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        assert_accessible(phone)

        phone.locator(f'.dm-marker[data-order="{overdue.pk}"]').tap()
        phone_popup = _popup(phone, overdue)
        assert "Overdue" in phone_popup.inner_text()
        phone_popup.get_by_label("Assign to team").select_option(str(staff.team.pk))
        button = phone_popup.get_by_role("button", name="Assign")
        button_box = button.bounding_box()
        assert button_box and button_box["height"] >= 44
        button.tap()
        phone.wait_for_function(
            "text => document.getElementById('dispatch-status').textContent === text",
            arg=f"WO-{overdue.pk} assigned to Crew A.",
        )
        phone.wait_for_function(
            "() => document.querySelector("
            "'#workload tr[data-team=\"none\"] td[data-count=\"open\"]').textContent === '1'"
        )
        assert _workload(phone, staff.team.pk) == {
            "open": 4, "in_progress": 2, "on_hold": 0, "overdue": 1,
        }  # fmt: skip
        overdue.refresh_from_db()
        assert overdue.team_id == staff.team.pk
        assert "Crew A" in _popup(phone, overdue).inner_text()  # shown again, faded in
        assert_accessible(phone)
        phone.screenshot(path=shots / "dispatch-phone.png", full_page=True)
        phone_context.close()
