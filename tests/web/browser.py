"""Shared helpers of the browser tests: signing in at /accounts/login/ as a person would, and
a network cut that service workers feel too.

Playwright's ``context.set_offline(True)`` alone does not reach a service worker's fetches.
``offline`` therefore also routes every request of the context to fail (which does reach the
worker's fetches in Playwright with Chromium) and records what it refused, so a test can show
that the page or its worker tried and nothing reached the server. ``online`` undoes both;
``set_offline(False)`` fires the page's ``online`` event: the on-reconnect path."""

from __future__ import annotations

from dataclasses import dataclass, field

from playwright.sync_api import BrowserContext, Page, Route


@dataclass
class NetworkCut:
    """The requests refused while offline: (method, url)."""

    refused: list[tuple[str, str]] = field(default_factory=list)

    def refused_urls(self, *, method: str = "") -> list[str]:
        return [url for verb, url in self.refused if not method or verb == method]


def offline(context: BrowserContext) -> NetworkCut:
    cut = NetworkCut()

    def refuse(route: Route) -> None:
        cut.refused.append((route.request.method, route.request.url))
        route.abort("internetdisconnected")

    context.route("**/*", refuse)
    context.set_offline(True)
    return cut


def online(context: BrowserContext) -> None:
    context.unroute("**/*")
    context.set_offline(False)


def sign_in(page: Page, base: str, *, username: str, password: str, next_path: str = "") -> None:
    """Signs in through the sign-in form (``/accounts/login/``, optionally with ``next``) and
    waits for the page it leads to."""
    url = f"{base}/accounts/login/" + (f"?next={next_path}" if next_path else "")
    if not page.url.startswith(f"{base}/accounts/login/"):
        page.goto(url)
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', password)
    with page.expect_navigation():
        page.locator('form[action^="/accounts/login/"] button[type="submit"]').click()
