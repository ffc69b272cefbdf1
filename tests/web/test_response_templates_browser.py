"""Issue 16's edit window and response templates in a real browser (integration): the crew
app offers the staff's templates next to each message for the resident, and the supervisor
console's select fills the message box, each choice filling in the text the server rendered
for the order; the reporter corrects a request from its track page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser

from backend.catalog.models import ResponseTemplate, ServiceType
from tests.factories import submit
from tests.web.a11y import assert_accessible
from tests.web.browser import sign_in
from tests.web.test_crew_app import PASSWORD, crew_staff, open_order, phone, server_env, site
from tests.workorders.factories import order_of, request_make, user_make
from workorders.models import WorkOrderStatus
from workorders.response_templates import response_templates_for_work_order
from workorders.services import work_order_assign, work_order_start

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

__all__ = ["server_env", "site"]  # fixtures shared with the crew app's tests


def test_the_crew_app_and_the_console_fill_a_message_from_a_template(
    site: tuple[str, Browser],
) -> None:
    base, browser = site
    staff = crew_staff()
    pothole = ServiceType.objects.get(service_code="pothole")
    parts = ResponseTemplate.objects.create(
        name="Parts ordered",
        service_type=pothole,
        status=WorkOrderStatus.ON_HOLD,
        text="Parts are ordered for {service} {public_id}; {team} will be back.",
    )
    ResponseTemplate.objects.create(
        name="Done", status=WorkOrderStatus.COMPLETED, text="Your {service} is fixed."
    )
    order = work_order_assign(
        work_order=order_of(request_make()), team=staff.team, actor=staff.supervisor
    )
    order = work_order_start(work_order=order, actor=staff.crew)
    texts = {t.name: t.text for t in response_templates_for_work_order(work_order=order)}
    assert texts["Parts ordered"].endswith("; Crew A will be back.")

    # The crew app: the hold form offers "Parts ordered" (on hold), the completion "Done"
    context, page = phone(browser, base)
    sign_in(page, base, username=staff.crew.username, password=PASSWORD)
    open_order(page, order)
    page.locator('details[data-action="hold"] > summary').click()
    # The order shows from the phone's copy of the queue first; its templates come with
    # the detail the app fetches next.
    page.wait_for_selector("#hold-public-template option[value]:not([value=''])", state="attached")
    hold_options = page.locator("#hold-public-template option").all_inner_texts()
    assert hold_options[1:] == ["Parts ordered"]
    page.select_option("#hold-public-template", str(parts.pk))
    assert page.input_value("#hold-public") == texts["Parts ordered"]
    page.locator('details[data-action="complete"] > summary').click()
    assert page.locator("#complete-public-template option").all_inner_texts()[1:] == ["Done"]
    context.close()

    # The console: the select fills the box its template goes with
    console = browser.new_context()
    page = console.new_page()
    sign_in(page, base, username=staff.supervisor.username, password=PASSWORD)
    page.goto(f"{base}/staff/workorders/{order.pk}")
    page.select_option("#response-template", str(parts.pk))
    assert page.input_value("#note-public_note") == texts["Parts ordered"]
    console.close()


def test_the_reporter_edits_on_the_web_in_an_accessible_page(site: tuple[str, Browser]) -> None:
    base, browser = site
    resident = user_make("rita@example.org")
    resident.set_password(PASSWORD)
    resident.save(update_fields=["password"])
    sr = submit("pothole", channel="web", reporter=resident, description="Hole on the left")

    context = browser.new_context(locale="en-US")
    page = context.new_page()
    sign_in(page, base, username=resident.username, password=PASSWORD)
    page.goto(f"{base}/track/{sr.public_id}")
    page.locator(f'a[href="/track/{sr.public_id}/edit"]').click()
    page.wait_for_selector("textarea#description")
    assert_accessible(page)
    page.fill("#description", "Hole on the right")
    with page.expect_navigation():
        page.locator('main form button[type="submit"]').click()
    assert page.url == f"{base}/track/{sr.public_id}"
    assert "The reporter corrected the description." in page.content()
    assert_accessible(page)
    context.close()
    sr.refresh_from_db()
    assert sr.description == "Hole on the right"
