"""The staff's response templates on the console's work order page: a select whose choice
fills the public-note box of the form it goes with (the closing note for "completed", the
cancel form's message for "cancelled", the message to the resident otherwise). Without
JavaScript the select is a plain GET form: the page comes back with the box filled in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.forms import Form
from django.http import HttpRequest
from django.urls import reverse

from workorders.models import WorkOrder, WorkOrderStatus
from workorders.response_templates import response_templates_for_work_order

# The console form (its action in ACTIONS) and field a template of each status fills.
TARGETS: dict[str, tuple[str, str]] = {
    WorkOrderStatus.COMPLETED: ("complete", "note"),
    WorkOrderStatus.CANCELLED: ("cancel", "public_note"),
}
DEFAULT_TARGET = ("note", "public_note")


@dataclass(frozen=True)
class ConsoleTemplate:
    id: int
    label: str
    text: str
    # The form's action URL and the field the text goes into (for the script).
    form_action: str
    field: str


def console_templates(
    request: HttpRequest, *, work_order: WorkOrder, forms: dict[str, Form]
) -> dict[str, Any]:
    """The templates offered for the order, and the chosen one (``?template=<id>``) filled
    into its form's box. The caller has checked that the user may act on the order."""
    offered = []
    chosen = request.GET.get("template", "")
    for template in response_templates_for_work_order(work_order=work_order):
        action, field = TARGETS.get(template.status, DEFAULT_TARGET)
        form_name = action.replace("-", "_")
        if str(template.id) == chosen and form_name in forms:
            forms[form_name].initial[field] = template.text
        status = WorkOrderStatus(template.status).label if template.status else ""
        offered.append(
            ConsoleTemplate(
                id=template.id,
                label=f"{template.name} ({status})" if status else template.name,
                text=template.text,
                form_action=reverse("workorders:console-action", args=[work_order.pk, action]),
                field=field,
            )
        )
    return {"templates": offered, "template_chosen": chosen}
