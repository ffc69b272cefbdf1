"""``{% site_banner %}``: the banner staff set in emergency mode, on every resident page.

Read from the catalog's cached emergency state (``backend.catalog.selectors``), only where
a template asks for it; empty when no banner is in effect."""

from __future__ import annotations

from typing import Any

from django import template

from backend.catalog.selectors import site_banner_current

register = template.Library()


@register.inclusion_tag("web/_site_banner.html")
def site_banner() -> dict[str, Any]:
    notice = site_banner_current()
    if notice is None:
        return {"banner": None}
    return {"banner": {"message": notice.message_in(), "ends_at": notice.ends_at}}
