"""Who may see and act on what, decided here and only here (zulip's ``access_message``).

One function per kind of object: it returns the object the user may act on, or raises the
refusal the APIs answer. What the user may not see does not exist (404, as if it never
did); what they see but may not act on is a 403 naming the role needed. The crew's app sees
only its teams' orders: another team's order of their department is a 404 that says so.
"""

from __future__ import annotations

from enum import Enum

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from backend.errors import City311Error, ErrorCode, forbidden, found, not_found
from backend.photos.models import Photo, PhotoKind
from backend.service_requests.models import ServiceRequest
from workorders.models import WorkOrder
from workorders.selectors import (
    StaffAccess,
    service_request_get_for_staff,
    service_request_imported_get,
    work_order_active,
    work_order_get_for_user,
    work_order_latest,
    work_order_list_for_user,
    work_orders_visible,
)

PK_MAX = 2**63 - 1  # larger ids cannot exist (and would overflow the database's bigint)
CREW_OR_SUPERVISOR = "Only the assigned team's crew or a supervisor may do this."


class Act(Enum):
    """What the user means to do, with the refusal for those who may not. ``WORK`` is the
    crew's (the assigned team's members, or the department's supervisors); the others are
    the supervisors' alone."""

    WORK = CREW_OR_SUPERVISOR
    ASSIGN = "Only the department's supervisors assign work orders."
    CANCEL = "Only the department's supervisors cancel work orders."
    REVIEW = "Only the department's supervisors review proof photos."
    CHANGE_TYPE = "Only the department's supervisors change a request's service."
    MERGE = "Only the department's supervisors merge requests."
    ADOPT = "Only the department's supervisors adopt imported requests."
    MODERATE = "Only the department's supervisors moderate requests."


def work_order_access(
    *, access: StaffAccess, work_order_id: int, act: Act | None = None
) -> WorkOrder:
    """The work order (with what its answer shows) if the user sees it and, with ``act``,
    may do that to it. Another department's order: 404; not theirs to act on: 403."""
    work_order = found(work_order_get_for_user(access=access, pk=work_order_id), work_order_id)
    if act is Act.WORK:
        allowed = access.works_on(work_order)
    else:
        allowed = act is None or access.supervises(work_order.department_id)
    if not allowed:
        assert act is not None
        raise forbidden(act.value)
    return work_order


def department_in_charge(service_request: ServiceRequest) -> int:
    """The department whose supervisors decide about the request: its open work order's,
    else its last one's, else its service's."""
    order = work_order_active(service_request_id=service_request.pk) or work_order_latest(
        service_request_id=service_request.pk
    )
    return order.department_id if order else service_request.service_type.department_id


def service_request_access(
    *, access: StaffAccess, public_id: str, act: Act | None = None, field: str = "public_id"
) -> ServiceRequest:
    """A request the user acts on as staff (one with a work order in their departments)
    and, with ``act``, may do that to as a supervisor of the department in charge. Any
    other: 404 naming ``field``; not theirs to decide: 403."""
    service_request = found(
        service_request_get_for_staff(access=access, public_id=public_id),
        public_id,
        field=field,
        what="request",
    )
    if act is not None and not access.supervises(department_in_charge(service_request)):
        raise forbidden(act.value)
    return service_request


def imported_request_access(*, access: StaffAccess, public_id: str) -> ServiceRequest:
    """An imported request waiting to be adopted, if the user supervises the department of
    its service (it has no work order yet to name one). Adopted already, closed, unknown or
    another department's: 404 naming ``public_id``; a crew member of the department: 403."""
    service_request = service_request_imported_get(public_id=public_id)
    if service_request is None or not access.sees(service_request.service_type.department_id):
        raise not_found(public_id, field="public_id", what="imported request")
    if not access.supervises(service_request.service_type.department_id):
        raise forbidden(Act.ADOPT.value)
    return service_request


# --- The crew's app: their teams' orders only


def crew_work_orders(*, access: StaffAccess) -> QuerySet[WorkOrder]:
    """The orders a crew member works on: their teams' (all of the department's for a
    supervisor), with the request's photos. Anything else does not exist for the app."""
    queryset = work_order_list_for_user(access=access)
    if not access.is_superuser:
        queryset = queryset.filter(
            Q(team_id__in=access.teams) | Q(department_id__in=access.supervised)
        )
    return queryset.prefetch_related(
        Prefetch(
            "service_request__photos",
            queryset=Photo.objects.filter(kind=PhotoKind.REPORT).order_by("created_at", "id"),
        )
    )


def _work_order_id(raw: str) -> int | None:
    """The id in a path, or None for a malformed or impossible one."""
    if not raw.isascii() or not raw.isdigit() or int(raw) > PK_MAX:
        return None
    return int(raw)


def crew_work_order_access(*, access: StaffAccess, work_order_id: str) -> WorkOrder:
    """The order if the user works on it. Otherwise a 404: one of their own department's
    orders (which they may see in the staff API anyway) that went to another team says so,
    for a phone that acted on it offline before it was reassigned; any other id (a malformed
    or impossible one too) does not exist."""
    pk = _work_order_id(work_order_id)
    work_order = None if pk is None else crew_work_orders(access=access).filter(pk=pk).first()
    if work_order is not None:
        return work_order
    if pk is not None and work_orders_visible(access=access).filter(pk=pk).exists():
        message = _("Work order %(id)s is with another team now: it is not in your queue.") % {
            "id": work_order_id
        }
        raise City311Error({"team": [message]}, code=ErrorCode.NOT_FOUND, detail=message)
    raise not_found(work_order_id)


def crew_work_order_fresh(*, access: StaffAccess, work_order: WorkOrder) -> WorkOrder:
    """The order again, as the crew's app shows it after an action."""
    return crew_work_orders(access=access).get(pk=work_order.pk)
