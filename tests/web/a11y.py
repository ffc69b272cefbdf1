"""Accessibility checks for the browser tests: axe-core (from npm, ``tests/web/axe``,
installed by ``make test``) run inside the page, failing on any WCAG 2.0 / 2.1 level A or AA
violation. The rules are axe's own; the report names each failing rule and element."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE_JS = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(page: Page, *, include: str | None = None) -> list[dict[str, Any]]:
    """axe's violations of WCAG 2.1 A/AA on the page as it is now (``include``: a CSS
    selector to check only part of it)."""
    if not AXE_JS.exists():
        raise AssertionError(f"{AXE_JS} is missing: make test installs it (tests/web/axe)")
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Evaluated, not added as a <script>: a page's Content-Security-Policy cannot block it.
        page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")
    result: dict[str, Any] = page.evaluate(
        """async ([include, tags]) => {
            const context = include ? { include: [include] } : document;
            return await window.axe.run(context, {
                runOnly: { type: "tag", values: tags },
                resultTypes: ["violations"],
            });
        }""",
        [include, WCAG_AA_TAGS],
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def _describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']}")
        for node in violation["nodes"][:5]:
            lines.append(f"    {', '.join(node['target'])}: {node['failureSummary']}")
    return "\n".join(lines)


def assert_accessible(page: Page, *, include: str | None = None) -> None:
    """Fails the test with axe's report when the page breaks a WCAG 2.1 A/AA rule."""
    violations = axe_violations(page, include=include)
    assert not violations, f"axe-core found WCAG 2.1 AA violations on {page.url}:\n" + _describe(
        violations
    )
