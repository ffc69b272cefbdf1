"""Giving a work order to a team (and optionally to one member of it): the ``assign``
transition. The request follows as acknowledged."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import User as UserModel
from django.db import transaction
from django.utils import timezone

from backend.service_requests.models import ServiceRequest
from workorders.errors import InvalidInput
from workorders.locks import request_and_order_lock
from workorders.models import Team, TeamMember, WorkOrder
from workorders.selectors import team_least_loaded
from workorders.services.machine import User, _check, _follow, _move, note_clean


def do_work_order_assign(
    *,
    service_request: ServiceRequest,
    work_order: WorkOrder,
    team: Team,
    assignee: UserModel | None,
    actor: User,
    note: str,
    public_note: str,
    at: datetime,
) -> ServiceRequest:
    """Assigns without checking the team or the notes. The caller holds the locks of the
    request and the order (``workorders.locks``) and has checked ``team`` and ``assignee``;
    otherwise use ``work_order_assign``."""
    _check("assign", work_order)
    left_team_id = work_order.team_id
    work_order.team = team
    work_order.assignee = assignee
    work_order.assigned_at = at
    _move(
        work_order,
        "assign",
        at=at,
        actor=actor,
        note=note,
        fields=("team", "assignee", "assigned_at"),
        data={
            "team": team.pk,
            "team_name": team.name,
            "assignee": assignee.pk if assignee else None,
        },
        left_team_id=left_team_id,
    )
    return _follow(
        service_request,
        "acknowledge",
        actor=actor,
        public_note=public_note
        or f"The {work_order.department.name} department has your request on its list.",
        at=at,
    )


def work_order_assign(
    *,
    work_order: WorkOrder,
    team: Team | None = None,
    assignee: UserModel | None = None,
    actor: User = None,
    note: str = "",
    public_note: str = "",
    at: datetime | None = None,
) -> WorkOrder:
    """Gives the order to a team of its department (and optionally to one member of it).
    Without a team, to the department's least-loaded team. Reassigning an assigned order
    is allowed."""
    note = note_clean(note)
    public_note = note_clean(public_note, field="public_note")
    if team is not None and team.department_id != work_order.department_id:
        raise InvalidInput("The team belongs to another department.", field="team")
    if team is not None and not team.active:
        raise InvalidInput("The team is not active.", field="team")
    with transaction.atomic():
        service_request, locked = request_and_order_lock(work_order)
        _check("assign", locked)
        if team is None:
            team = team_least_loaded(department_id=locked.department_id)
            if team is None:
                raise InvalidInput("The department has no active team to assign to.", field="team")
        if (
            assignee is not None
            and not TeamMember.objects.filter(team=team, user=assignee).exists()
        ):
            raise InvalidInput("The assignee is not a member of the team.", field="assignee")
        do_work_order_assign(
            service_request=service_request,
            work_order=locked,
            team=team,
            assignee=assignee,
            actor=actor,
            note=note,
            public_note=public_note,
            at=at or timezone.now(),
        )
    return locked
