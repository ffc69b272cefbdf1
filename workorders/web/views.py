"""Server-rendered pages: the supervisor console and the residents' feedback page.

The console (/staff/workorders/) is for the department's supervisors: the queue of open work
orders by due time with overdue ones highlighted, each order's page with its actions, and the
proof-photo review queue. Every action is a plain form POSTed to ``console_action``, which
calls the same services as the API and redirects back with a message: it works without
JavaScript. The feedback page (/feedback/<token>) is public, reached from the closing e-mail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from backend.catalog.models import Department
from workorders.feedback import feedback_form_get, feedback_submit
from workorders.models import HoldReason, WorkOrder
from workorders.selectors import (
    StaffAccess,
    departments_supervised,
    service_request_get_for_staff,
    staff_access_get,
    teams_of_department,
    work_order_get_for_user,
    work_order_history,
    work_order_queue,
    work_order_review_count,
    work_order_review_queue,
)
from workorders.services import (
    WorkOrderError,
    service_request_change_type,
    service_request_merge,
    work_order_assign,
    work_order_cancel,
    work_order_complete,
    work_order_hold,
    work_order_resume,
    work_order_review_resolve,
    work_order_start,
)
from workorders.web.forms import (
    AssignForm,
    CancelForm,
    ChangeTypeForm,
    CompleteForm,
    FeedbackForm,
    HoldForm,
    MergeForm,
    NoteForm,
    ReviewForm,
)

PAGE_SIZE = 50
LOGIN_URL = "admin:login"
# The queue counts at most this many orders (and pages through them): a backlog of tens of
# thousands shows as "more than 5,000", not counted on every page view.
QUEUE_COUNT_CAP = 5000


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


@login_required(login_url=LOGIN_URL)
@require_GET
def console_queue(request: HttpRequest) -> HttpResponse:
    access = _access(request)
    department, departments = _department(request, access)
    page = CappedPaginator(work_order_queue(department_id=department.pk), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "workorders/console/queue.html",
        {
            "department": department,
            "departments": departments,
            "page": page,
            "teams": list(teams_of_department(department_id=department.pk)),
            "review_count": work_order_review_count(department_id=department.pk),
            "hold_reasons": HoldReason.choices,
            "count_cap": QUEUE_COUNT_CAP,
        },
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
    return render(
        request,
        "workorders/console/detail.html",
        {
            "order": work_order,
            "request_": work_order.service_request,
            "events": list(work_order_history(work_order=work_order)),
            "forms": {
                "assign": AssignForm(department_id=work_order.department_id),
                "start": NoteForm(),
                "hold": HoldForm(),
                "resume": NoteForm(),
                "complete": CompleteForm(),
                "cancel": CancelForm(),
                "review": ReviewForm(),
                "merge": MergeForm(),
                "change_type": ChangeTypeForm(),
            },
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
    except WorkOrderError as exc:
        messages.error(request, f"{action} — {exc.field}: {exc.message}")
    return _back(request, order)


# --- Feedback


@require_http_methods(["GET", "POST"])
def feedback_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        form_data = feedback_form_get(token=token)
    except WorkOrderError as exc:
        return render(
            request,
            "workorders/feedback/problem.html",
            {"message": exc.message},
            status=exc.status_code,
        )
    context: dict[str, Any] = {"info": form_data, "request_": form_data.service_request}
    if form_data.answer is not None:
        return render(
            request, "workorders/feedback/thanks.html", {**context, "answer": form_data.answer}
        )
    form = FeedbackForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            result = feedback_submit(
                close_event=form_data.close_event,
                fixed=form.cleaned_data["fixed"],
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
                channel="web",
            )
        except WorkOrderError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            return render(
                request,
                "workorders/feedback/thanks.html",
                {**context, "answer": result.feedback, "result": result},
                status=201,
            )
    return render(
        request,
        "workorders/feedback/form.html",
        {**context, "form": form},
        status=400 if request.method == "POST" else 200,
    )
