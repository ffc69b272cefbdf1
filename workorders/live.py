"""Live updates of the teams' queues: what ``/ws/crew/`` pushes (``workorders.consumers``).

Every lifecycle change of a work order (created, assigned, started, held, resumed, completed,
cancelled; flagged for and out of proof review; marked overdue or escalated by the scan) is
pushed, after the transaction commits, to the group of the order's team (and,
on a reassignment, of the team it left) and to its department's group, which supervisors
hear. A push carries the order's id, status, due time, team and its request's public id,
nothing else; clients re-read the queue API for more. Pushes are hints, not a record: sent
once, ``robust`` (a channel-layer outage loses the push, never the transition), and a client
that reconnects reloads its queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from backend.channel_push import group_send
from backend.outbox.services import outbox_call
from backend.service_requests.models import ServiceRequest
from workorders.models import WorkOrder, WorkOrderEventKind

MESSAGE_TYPE = "workorder.change"
# The events that change what a queue shows.
QUEUE_EVENT_KINDS = frozenset(
    {
        WorkOrderEventKind.CREATED,
        WorkOrderEventKind.ASSIGNED,
        WorkOrderEventKind.STARTED,
        WorkOrderEventKind.HELD,
        WorkOrderEventKind.RESUMED,
        WorkOrderEventKind.COMPLETED,
        WorkOrderEventKind.CANCELLED,
        # A supervisor's review queue gains or loses an order.
        WorkOrderEventKind.REVIEW_FLAGGED,
        WorkOrderEventKind.REVIEWED,
        # Set-based, by the escalation scan: ``work_order_pushes``.
        WorkOrderEventKind.OVERDUE,
        WorkOrderEventKind.ESCALATED,
    }
)


def team_group(*, team_id: int) -> str:
    """The Channels group that hears changes to a team's queue."""
    return f"workorders_team_{team_id}"


def user_group(*, user_id: int) -> str:
    """The Channels group of one user's crew sockets: told when their teams change."""
    return f"workorders_user_{user_id}"


MEMBERSHIPS_MESSAGE_TYPE = "crew.memberships"


def memberships_push(*, user_ids: list[int]) -> None:
    """Tells these users' open crew sockets to read their teams again."""
    for user_id in user_ids:
        group_send(user_group(user_id=user_id), {"type": MEMBERSHIPS_MESSAGE_TYPE})


def memberships_changed(*, user_ids: set[int]) -> None:
    """Queues ``memberships_push`` for after the commit of a change of teams, members, roles
    or a team's ``active`` flag (the admin's team page)."""
    if user_ids:
        outbox_call("workorders.live.memberships_push", user_ids=sorted(user_ids))


def department_group(*, department_id: int) -> str:
    """The Channels group of a department's whole queue (its supervisors)."""
    return f"workorders_department_{department_id}"


def _public_id(work_order: WorkOrder) -> str:
    if WorkOrder.service_request.is_cached(work_order):
        return work_order.service_request.public_id
    return str(
        ServiceRequest.objects.filter(pk=work_order.service_request_id)
        .values_list("public_id", flat=True)
        .get()
    )


def work_order_change_message(*, work_order: WorkOrder, kind: str) -> dict[str, Any]:
    return work_order_push_of(
        kind=kind,
        work_order_id=work_order.pk,
        status=work_order.status,
        due_at=work_order.due_at,
        team_id=work_order.team_id,
        department_id=work_order.department_id,
        public_id=_public_id(work_order),
    )["message"]


def work_order_push(*, groups: list[str], message: dict[str, Any]) -> None:
    for group in groups:
        group_send(group, message)


def work_order_push_of(
    *,
    kind: str,
    work_order_id: int,
    status: str,
    due_at: datetime | None,
    team_id: int | None,
    department_id: int,
    public_id: str,
) -> dict[str, Any]:
    """One order's push from its columns (``work_order_pushes``), for set-based changes
    that hold no model instance."""
    groups = [team_group(team_id=team_id)] if team_id is not None else []
    groups.append(department_group(department_id=department_id))
    message = {
        "type": MESSAGE_TYPE,
        "event": kind,
        "id": work_order_id,
        "status": status,
        "due_at": due_at.isoformat() if due_at else None,
        "team_id": team_id,
        "service_request_id": public_id,
    }
    return {"groups": groups, "message": message}


def work_order_pushes(*, pushes: list[dict[str, Any]]) -> None:
    """Many orders' pushes from one outbox row (the escalation scan marks hundreds at once)."""
    for push in pushes:
        work_order_push(groups=push["groups"], message=push["message"])


def work_order_push_enqueue(
    *, work_order: WorkOrder, kind: str, left_team_id: int | None = None
) -> None:
    """Queues the push of the order as it is now, for after the commit."""
    if kind not in QUEUE_EVENT_KINDS:
        return
    team_ids = [work_order.team_id] if work_order.team_id is not None else []
    if left_team_id is not None and left_team_id not in team_ids:
        team_ids.append(left_team_id)
    groups = [team_group(team_id=team_id) for team_id in team_ids]
    groups.append(department_group(department_id=work_order.department_id))
    message = work_order_change_message(work_order=work_order, kind=kind)
    outbox_call("workorders.live.work_order_push", groups=groups, message=message)
