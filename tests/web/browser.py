"""Shared helpers of the browser tests: signing in at /accounts/login/ as a person would, and
a network cut that service workers feel too.

Playwright's ``context.set_offline(True)`` alone does not reach a service worker's fetches.
``offline`` therefore also routes every request of the context to fail (which does reach the
worker's fetches in Playwright with Chromium) and records what it refused, so a test can show
that the page or its worker tried and nothing reached the server. ``online`` undoes both;
``set_offline(False)`` fires the page's ``online`` event: the on-reconnect path.

``csp_watch`` records every Content-Security-Policy violation of the pages a browser opens
(the console's "Refused to ..." and the ``securitypolicyviolation`` events);
``served_browser`` (tests/web/test_e2e.py) fails any browser test that had one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Route

# Run in every page before its own scripts (through the browser's debugging protocol, so the
# page's policy does not apply to it): each violation becomes a console error.
_REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error("CSP violation: " + event.violatedDirective + " blocked " +
    (event.blockedURI || "inline") + " at " + event.sourceFile + ":" + event.lineNumber);
});
"""


@dataclass
class NetworkCut:
    """The requests refused while offline: (method, url)."""

    refused: list[tuple[str, str]] = field(default_factory=list)

    def refused_urls(self, *, method: str = "") -> list[str]:
        return [url for verb, url in self.refused if not method or verb == method]


@dataclass
class CspViolations:
    """What the policy refused in the pages of a browser: the console's messages."""

    found: list[str] = field(default_factory=list)

    def heard(self, message: ConsoleMessage) -> None:
        text = message.text
        if text.startswith("CSP violation:") or (
            text.startswith("Refused to") and "Content Security Policy" in text
        ):
            self.found.append(f"{message.page.url if message.page else ''}: {text}")

    def watch(self, context: BrowserContext) -> BrowserContext:
        context.add_init_script(_REPORT_VIOLATIONS)
        context.on("console", self.heard)
        return context


def csp_watch(browser: Browser) -> CspViolations:
    """Watches every context and page ``browser`` opens from now on for CSP violations."""
    violations = CspViolations()
    new_context = browser.new_context

    def watched_context(**kwargs: Any) -> BrowserContext:
        return violations.watch(new_context(**kwargs))

    def watched_page(**kwargs: Any) -> Page:
        # A context of its own, as Browser.new_page makes; closed with the browser.
        return watched_context(**kwargs).new_page()

    setattr(browser, "new_context", watched_context)  # noqa: B010 (an instance's method)
    setattr(browser, "new_page", watched_page)  # noqa: B010
    return violations


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
