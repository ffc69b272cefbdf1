"""Server-rendered pages: the supervisor console.

The console (/staff/workorders/) is for the department's supervisors: the queue of open work
orders by due time with overdue ones highlighted, filtered by team, service and status, with
the teams' workload beside a map of the same orders (its data from ``console_map_json``; the
map's popups assign through the JSON API), each order's page with its actions, and the
proof-photo review queue. Every action is a plain form POSTed to ``console_action``, which
calls the same services as the API and redirects back with a message: it works without
JavaScript. The residents' feedback page is in ``workorders.web.feedback``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from backend.cases.adopt import service_request_adopt
from backend.cases.change_type import service_request_change_type
from backend.cases.merge import service_request_merge
from backend.cases.review import work_order_review_resolve
from backend.catalog.models import Department
from backend.errors import City311Error
from backend.i18n import language_current
from workorders.access import imported_request_access
from workorders.errors import WorkOrderError
from workorders.models import HoldReason, Team, WorkOrder, WorkOrderStatus
from workorders.selectors import (
    QUEUE_BY_SUPPORTERS,
    DispatchFilters,
    MapOrder,
    StaffAccess,
    departments_supervised,
    service_request_get_for_staff,
    service_requests_imported_for_department,
    service_types_dispatch,
    staff_access_get,
    team_workload,
    teams_of_department,
    work_order_get_for_user,
    work_order_history,
    work_order_map_points,
    work_order_queue,
    work_order_review_count,
    work_order_review_queue,
    work_orders_open_extent,
)
from workorders.services import (
    TRANSITIONS,
    work_order_assign,
    work_order_cancel,
    work_order_complete,
    work_order_hold,
    work_order_note_add,
    work_order_resume,
    work_order_start,
)
from workorders.web.feedback import refusal_page
from workorders.web.forms import (
    AssignForm,
    CancelForm,
    ChangeTypeForm,
    CompleteForm,
    DispatchFilterForm,
    HoldForm,
    MergeForm,
    NoteForm,
    ResidentNoteForm,
    ReviewForm,
)
from workorders.web.labels import STATUS_LABELS, hold_reason_label, status_label
from workorders.web.responses import console_templates

PAGE_SIZE = 50
LOGIN_URL = "accounts:login"  # backend/accounts: residents, crews and staff sign in there
# The queue counts at most this many orders (and pages through them): a backlog of tens of
# thousands shows as "more than 5,000", not counted on every page view.
QUEUE_COUNT_CAP = 5000
# The dispatch map shows at most this many orders (the soonest due); the table lists all.
MAP_MARKER_CAP = 2000
# Each status has its own marker shape (dispatch.css), so the map reads without colours.
MARKER_SHAPES = {
    WorkOrderStatus.NEW: gettext_lazy("blue circle"),
    WorkOrderStatus.ASSIGNED: gettext_lazy("green square"),
    WorkOrderStatus.IN_PROGRESS: gettext_lazy("purple triangle"),
    WorkOrderStatus.ON_HOLD: gettext_lazy("brown diamond"),
}


class CappedPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        assert isinstance(queryset, QuerySet)
        return int(queryset.order_by().values("pk")[: QUEUE_COUNT_CAP + 1].count())

    @property
    def capped(self) -> bool:
        return self.count > QUEUE_COUNT_CAP


def _access(request: HttpRequest) -> StaffAccess:
    access = staff_access_get(user=request.user)
    if not access.supervised and not access.is_superuser:
        raise PermissionDenied("The console is for supervisors.")
    return access


def _department(request: HttpRequest, access: StaffAccess) -> tuple[Department, list[Department]]:
    departments = list(departments_supervised(access=access))
    if not departments:
        raise PermissionDenied("You supervise no department.")
    code = request.GET.get("department")
    chosen = next((d for d in departments if d.code == code), None) if code else departments[0]
    if chosen is None:
        raise Http404(f"No department {code!r} of yours.")
    return chosen, departments


@dataclass(frozen=True)
class Dispatch:
    """The console's filters for one department, read from the query string."""

    department: Department
    teams: list[Team]
    form: DispatchFilterForm
    filters: DispatchFilters

    @property
    def query(self) -> str:
        """The department and the valid filters, as a query string (pages, map data)."""
        params = {"department": self.department.code}
        cleaned = getattr(self.form, "cleaned_data", {})
        params.update({name: value for name, value in cleaned.items() if value})
        return urlencode(params)


def _dispatch(request: HttpRequest, department: Department) -> Dispatch:
    teams = list(teams_of_department(department_id=department.pk))
    form = DispatchFilterForm(
        request.GET,
        teams=teams,
        service_types=list(service_types_dispatch(department_id=department.pk)),
    )
    return Dispatch(department=department, teams=teams, form=form, filters=form.filters())


def _workload_html(request: HttpRequest, dispatch: Dispatch) -> str:
    return render_to_string(
        "workorders/console/_workload.html",
        {
            "workload": team_workload(
                department_id=dispatch.department.pk, filters=dispatch.filters
            ),
            "department": dispatch.department,
        },
        request=request,
    )


def _map_strings() -> dict[str, Any]:
    """What the map's script shows, translated: it has no words of its own."""
    return {
        "service": gettext("Service"),
        "address": gettext("Address"),
        "due": gettext("Due"),
        "status": gettext("Status"),
        "team": gettext("Team"),
        "assign_to_team": gettext("Assign to team"),
        "assign": gettext("Assign"),
        "least_loaded": gettext("Least-loaded team"),
        "not_assigned": gettext("Not assigned"),
        "no_address": gettext("(map point)"),
        "no_due": gettext("no due time"),
        "open_order": gettext("Open WO-%(id)s"),
        "assigning": gettext("Assigning WO-%(id)s…"),
        "assigned": gettext("WO-%(id)s assigned to %(team)s."),
        "refused": gettext("WO-%(id)s was not assigned: %(reason)s"),
        "unreachable": gettext("The server could not be reached; nothing was changed. Try again."),
        "load_failed": gettext("The map could not load the orders; the table below lists them."),
        "capped": gettext(
            "The map shows the %(count)s orders due soonest; the table lists them all."
        ),
        "shown": gettext("Orders on the map: %(count)s."),
        "overdue": gettext("Overdue"),
        "close": gettext("Close"),
        "zoom_in": gettext("Zoom in"),
        "zoom_out": gettext("Zoom out"),
        "statuses": {code: str(label) for code, label in STATUS_LABELS.items()},
    }


@login_required(login_url=LOGIN_URL)
@require_GET
def console_queue(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    department, departments = _department(request, access)
    dispatch = _dispatch(request, department)
    sort = dispatch.form.queue_sort()
    page = CappedPaginator(
        work_order_queue(department_id=department.pk, filters=dispatch.filters, sort=sort),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    lat, long = [*settings.WEB_MAP_CENTER, "", ""][:2]
    return render(
        request,
        "workorders/console/queue.html",
        {
            "department": department,
            "departments": departments,
            "page": page,
            "teams": dispatch.teams,
            "filter_form": dispatch.form,
            "filter_query": dispatch.query,
            "filtered": dispatch.filters != DispatchFilters(),
            "by_supporters": sort == QUEUE_BY_SUPPORTERS,
            # The workload comes with the map's data (the script fills the panel): counting a
            # big department's open orders would double the page's time (bench/workorders.py).
            # Without the script, a link asks for it here.
            "workload_html": (
                _workload_html(request, dispatch) if request.GET.get("workload") == "1" else ""
            ),
            "review_count": work_order_review_count(department_id=department.pk),
            # Translated once for the page, not once per row.
            "hold_reasons": [(value, hold_reason_label(value)) for value in HoldReason.values],
            "count_cap": QUEUE_COUNT_CAP,
            "map": {
                "data_url": f"{reverse('workorders:console-map')}?{dispatch.query}",
                "tile_url": settings.WEB_MAP_TILE_URL,
                "attribution": settings.WEB_MAP_ATTRIBUTION,
                "center_lat": lat,
                "center_long": long,
            },
            "map_strings": _map_strings(),
            "team_options": [{"id": team.pk, "name": team.name} for team in dispatch.teams],
            "legend": [
                (status.value, STATUS_LABELS[status], shape)
                for status, shape in MARKER_SHAPES.items()
            ],
        },
        status=400 if dispatch.form.errors else 200,
    )


def _json_error(status: int, field: str, message: str) -> JsonResponse:
    return JsonResponse({"detail": message, "errors": {field: [message]}}, status=status)


def _map_order(order: MapOrder, *, language: str) -> dict[str, Any]:
    service = str(order.service_name_i18n.get(language) or order.service_name)
    label = gettext("WO-%(id)s, %(service)s, %(status)s") % {
        "id": order.id,
        "service": service,
        "status": status_label(order.status),
    }
    due = timezone.localtime(order.due_at) if order.due_at is not None else None
    return {
        "id": order.id,
        "lat": order.location.y,
        "long": order.location.x,
        "service": service,
        "address": order.address,
        "status": order.status,
        "status_label": status_label(order.status),
        "overdue": order.overdue,
        "due": date_format(due, "D j M H:i") if due is not None else "",
        "due_iso": due.isoformat() if due is not None else None,
        "team_id": order.team_id,
        "team": order.team_name or "",
        "label": f"{label}, {gettext('overdue')}" if order.overdue else label,
        "url": reverse("workorders:console-detail", args=[order.id]),
        "assign_url": reverse("workorders_api:assign", args=[order.id]),
        "assignable": order.status in TRANSITIONS["assign"].sources,
    }


@never_cache
@require_GET
def console_map_json(request: HttpRequest) -> JsonResponse:
    """The map's data: the filtered open orders with a map point (what the table shows of
    them, nothing more of the resident), and the workload panel to swap in after an
    assignment. The console's access rules, answered as JSON."""
    if not request.user.is_authenticated:
        return _json_error(401, "session", "Sign in first.")
    try:
        access = _access(request)
        department, _departments = _department(request, access)
    except PermissionDenied as exc:
        return _json_error(403, "role", str(exc))
    except Http404 as exc:
        return _json_error(404, "department", str(exc))
    dispatch = _dispatch(request, department)
    if dispatch.form.errors:
        errors = {name: [str(e) for e in errs] for name, errs in dispatch.form.errors.items()}
        return JsonResponse(
            {"detail": "Invalid filters: " + ", ".join(errors), "errors": errors}, status=400
        )
    points = work_order_map_points(
        department_id=department.pk, filters=dispatch.filters, limit=MAP_MARKER_CAP + 1
    )
    language = language_current()
    return JsonResponse(
        {
            "department": department.code,
            "orders": [_map_order(order, language=language) for order in points[:MAP_MARKER_CAP]],
            "capped": len(points) > MAP_MARKER_CAP,
            "cap": MAP_MARKER_CAP,
            # Where to look when no order matches the filters: the department's open orders.
            "extent": None if points else work_orders_open_extent(department_id=department.pk),
            "workload_html": _workload_html(request, dispatch),
        }
    )


@login_required(login_url=LOGIN_URL)
@require_GET
def console_review(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    department, departments = _department(request, access)
    return render(
        request,
        "workorders/console/review.html",
        {
            "department": department,
            "departments": departments,
            "orders": list(work_order_review_queue(department_id=department.pk)[:PAGE_SIZE]),
            "review_form": ReviewForm(),
        },
    )


@login_required(login_url=LOGIN_URL)
@require_GET
def console_imported(request: HttpRequest) -> HttpResponse:
    """The department's imported requests still open and not adopted: history, kept out of
    the queue, the overdue lists and the scorecard until a supervisor adopts one."""
    access = _access(request)
    department, departments = _department(request, access)
    page = CappedPaginator(
        service_requests_imported_for_department(department_id=department.pk), PAGE_SIZE
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "workorders/console/imported.html",
        {
            "department": department,
            "departments": departments,
            "page": page,
            "count_cap": QUEUE_COUNT_CAP,
        },
    )


@login_required(login_url=LOGIN_URL)
@require_POST
def console_adopt(request: HttpRequest, public_id: str) -> HttpResponse:
    """Adopts one imported request (``backend.cases.adopt``) and goes back to the list.
    Another department's request, or one adopted already, is a 404 page; a crew member
    cannot reach the console (403)."""
    access = _access(request)
    try:
        service_request = imported_request_access(access=access, public_id=public_id)
    except City311Error as exc:
        return refusal_page(request, "workorders/console/problem.html", exc)
    department_code = service_request.service_type.department.code
    try:
        work_order = service_request_adopt(
            service_request=service_request,
            actor=request.user,
            note=request.POST.get("note", ""),
        )
    except City311Error as exc:
        messages.error(request, exc.message)
    else:
        due = timezone.localtime(work_order.due_at) if work_order.due_at else None
        messages.success(
            request,
            gettext("%(id)s adopted as WO-%(order)s, due %(due)s.")
            % {
                "id": service_request.public_id,
                "order": work_order.pk,
                "due": date_format(due, "D j M H:i") if due is not None else "—",
            },
        )
    query = urlencode({"department": department_code})
    return HttpResponseRedirect(f"{reverse('workorders:console-imported')}?{query}")


def _order_for(request: HttpRequest, access: StaffAccess, pk: int) -> WorkOrder:
    work_order = work_order_get_for_user(access=access, pk=pk)
    if work_order is None or not access.supervises(work_order.department_id):
        raise Http404(f"No work order {pk}.")
    return work_order


@login_required(login_url=LOGIN_URL)
@require_GET
def console_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = _access(request)
    work_order = _order_for(request, access, pk)
    forms: dict[str, Form] = {
        "assign": AssignForm(department_id=work_order.department_id),
        "start": NoteForm(),
        "hold": HoldForm(),
        "resume": NoteForm(),
        "note": ResidentNoteForm(auto_id="note-%s"),
        "complete": CompleteForm(),
        "cancel": CancelForm(),
        "review": ReviewForm(),
        "merge": MergeForm(),
        "change_type": ChangeTypeForm(),
    }
    return render(
        request,
        "workorders/console/detail.html",
        {
            "order": work_order,
            "request_": work_order.service_request,
            "events": list(work_order_history(work_order=work_order)),
            "forms": forms,
            **console_templates(request, work_order=work_order, forms=forms),
        },
    )


@dataclass(frozen=True)
class Action:
    form: type[Form]
    run: Callable[[HttpRequest, StaffAccess, WorkOrder, dict[str, Any]], str]


def _assign(request: HttpRequest, _: StaffAccess, order: WorkOrder, data: dict[str, Any]) -> str:
    member = data.get("assignee")
    team = data.get("team") or (member.team if member is not None else None)
    done = work_order_assign(
        work_order=order,
        team=team,
        assignee=member.user if member is not None else None,
        actor=request.user,
        note=data["note"],
    )
    assert done.team is not None
    return f"WO-{order.pk} assigned to {done.team.name}."


def _start(request: HttpRequest, _: StaffAccess, order: WorkOrder, data: dict[str, Any]) -> str:
    work_order_start(work_order=order, actor=request.user, note=data["note"])
    return f"WO-{order.pk} started."


def _hold(request: HttpRequest, _: StaffAccess, order: WorkOrder, data: dict[str, Any]) -> str:
    work_order_hold(work_order=order, reason=data["reason"], note=data["note"], actor=request.user)
    return f"WO-{order.pk} is on hold: its SLA clock is paused."


def _resume(request: HttpRequest, _: StaffAccess, order: WorkOrder, data: dict[str, Any]) -> str:
    done = work_order_resume(work_order=order, actor=request.user, note=data["note"])
    return f"WO-{order.pk} resumed ({done.get_status_display().lower()})."


def _note(request: HttpRequest, _: StaffAccess, order: WorkOrder, data: dict[str, Any]) -> str:
    work_order_note_add(
        work_order=order, actor=request.user, public_note=data["public_note"], note=data["note"]
    )
    return gettext("WO-%(id)s: the message is on the resident's track page.") % {"id": order.pk}


def _complete(request: HttpRequest, _: StaffAccess, order: WorkOrder, data: dict[str, Any]) -> str:
    result = work_order_complete(
        work_order=order,
        actor=request.user,
        proof_photos=[upload.read() for upload in data["photos"]],
        note=data["note"],
    )
    flagged = " Its proof photos need a review." if result.work_order.review_required else ""
    return f"WO-{order.pk} completed; the request is closed.{flagged}"


def _cancel(request: HttpRequest, _: StaffAccess, order: WorkOrder, data: dict[str, Any]) -> str:
    work_order_cancel(
        work_order=order,
        actor=request.user,
        close_reason=data["close_reason"],
        public_note=data["public_note"],
        note=data["note"],
    )
    return f"WO-{order.pk} cancelled; the request is closed."


def _review(request: HttpRequest, _: StaffAccess, order: WorkOrder, data: dict[str, Any]) -> str:
    done = work_order_review_resolve(
        work_order=order, decision=data["decision"], actor=request.user, note=data["note"]
    )
    return f"WO-{order.pk} review: {done.get_review_decision_display().lower()}."


def _merge(
    request: HttpRequest, access: StaffAccess, order: WorkOrder, data: dict[str, Any]
) -> str:
    into_id = data["into"].strip()
    into = service_request_get_for_staff(access=access, public_id=into_id)
    if into is None:
        raise WorkOrderError(f"No request {into_id} in your departments.", field="into")
    service_request_merge(
        service_request=order.service_request, into=into, actor=request.user, note=data["note"]
    )
    return f"{order.service_request.public_id} merged into {into.public_id}."


def _change_type(
    request: HttpRequest, _: StaffAccess, order: WorkOrder, data: dict[str, Any]
) -> str:
    new = service_request_change_type(
        service_request=order.service_request,
        service_type=data["service_type"],
        actor=request.user,
        note=data["note"],
    )
    where = f" as WO-{new.pk} ({new.department.name})" if new is not None else ""
    return f"{order.service_request.public_id} re-routed{where}."


ACTIONS: dict[str, Action] = {
    "assign": Action(AssignForm, _assign),
    "start": Action(NoteForm, _start),
    "hold": Action(HoldForm, _hold),
    "resume": Action(NoteForm, _resume),
    "note": Action(ResidentNoteForm, _note),
    "complete": Action(CompleteForm, _complete),
    "cancel": Action(CancelForm, _cancel),
    "review": Action(ReviewForm, _review),
    "merge": Action(MergeForm, _merge),
    "change-type": Action(ChangeTypeForm, _change_type),
}


def _back(request: HttpRequest, order: WorkOrder) -> HttpResponseRedirect:
    target = request.POST.get("next", "")
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("workorders:console-detail", args=[order.pk])
    return HttpResponseRedirect(target)


@login_required(login_url=LOGIN_URL)
@require_POST
def console_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    access = _access(request)
    spec = ACTIONS.get(action)
    if spec is None:
        raise Http404(f"No action {action!r}.")
    order = _order_for(request, access, pk)
    kwargs: dict[str, Any] = (
        {"department_id": order.department_id} if spec.form is AssignForm else {}
    )
    form = spec.form(request.POST, request.FILES, **kwargs)
    if not form.is_valid():
        for field, errors in form.errors.items():
            label = field if field != "__all__" else "form"
            messages.error(request, f"{action} — {label}: {' '.join(str(e) for e in errors)}")
        return _back(request, order)
    try:
        messages.success(request, spec.run(request, access, order, form.cleaned_data))
    except City311Error as exc:
        messages.error(request, f"{action} — {exc.field}: {exc.message}")
    return _back(request, order)


# --- Feedback
