"""Pages with scripts of their own that are not the residents' or staff's apps, in a real
browser under the site's Content-Security-Policy (script-src 'self', no inline script): the
API documentation (Swagger UI, vendored) and an admin page with a map (GeoDjango's widget,
OpenLayers vendored). ``served_browser`` fails the test on any violation of the policy; here
the pages also must work and load nothing from another host."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, Request

from backend.catalog.models import ServiceType
from tests.web.test_e2e import CHROMIUM, DESKTOP, STEP_MS, served_browser

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def elsewhere(page: Page) -> list[str]:
    """Collects the URLs ``page`` asks of any host but this machine's."""
    asked: list[str] = []

    def heard(request: Request) -> None:
        host = urlsplit(request.url).hostname or ""
        if request.url.startswith(("http:", "https:", "ws:", "wss:")) and host != "127.0.0.1":
            asked.append(request.url)

    page.on("request", heard)
    return asked


@pytest.fixture
def _browser_ready(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Path(CHROMIUM).exists(), "Debian's Chromium is missing: `make test` installs it"
    # Playwright's sync API runs an event loop in this thread; the ORM calls are synchronous.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def test_api_docs_and_an_admin_map_work_under_the_policy(
    _browser_ready: None, catalog: None, tmp_path: Path
) -> None:
    User.objects.create_superuser("root", "root@example.org", "a long admin passphrase 7")
    service_type = ServiceType.objects.get(service_code="pothole")
    with served_browser(log=tmp_path / "uvicorn.log") as (base, browser):
        page = browser.new_page(viewport=DESKTOP, locale="en-US")
        page.set_default_timeout(STEP_MS)
        asked = elsewhere(page)

        # Swagger UI lists the operations of the schema.
        page.goto(f"{base}/api/docs/")
        page.locator(".opblock").first.wait_for()
        paths = page.locator(".opblock-summary-path").all_inner_texts()
        assert any(path.startswith("/mobile/v1/requests") for path in paths), paths[:10]
        assert any(path.startswith("/open311/v2/") for path in paths), paths[:10]

        # The admin's change page of a service type, with its service area's map.
        change = f"/admin/catalog/servicetype/{service_type.pk}/change/"
        page.goto(f"{base}/admin/login/?next={change}")
        page.fill("#id_username", "root")
        page.fill("#id_password", "a long admin passphrase 7")
        with page.expect_navigation():
            page.locator('input[type="submit"]').click()
        assert page.url.endswith(change)
        # GeoDjango's widget started from its options: an OpenLayers map (in a fieldset that
        # starts collapsed), its drawing tools on.
        page.locator("#id_service_area_map .ol-viewport").wait_for(state="attached")
        assert page.evaluate("typeof window.geodjango_service_area") == "object"
        assert page.evaluate("window.geodjango_service_area.ready") is True
        assert asked == []
