"""Template filters of the supervisor console: translated status and hold-reason labels."""

from __future__ import annotations

from django import template

from workorders.web.labels import hold_reason_label, status_label

register = template.Library()


@register.filter(name="status_label")
def status_label_filter(status: str) -> str:
    return status_label(status)


@register.filter(name="hold_reason_label")
def hold_reason_label_filter(reason: str) -> str:
    return hold_reason_label(reason)
