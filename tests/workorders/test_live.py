"""Teams' live queue updates are queued for after the commit, one per lifecycle change."""

from __future__ import annotations

from typing import Any

import pytest

from tests.outbox import outbox_written
from tests.workorders.factories import Staff, order_of, request_make
from workorders.live import department_group, team_group
from workorders.services import work_order_assign

pytestmark = pytest.mark.django_db


def test_a_reassignment_is_pushed_after_commit_to_both_teams_and_the_department(
    staff: Staff, django_capture_on_commit_callbacks: Any
) -> None:
    order = order_of(request_make())
    work_order_assign(work_order=order, team=staff.team, actor=staff.supervisor)

    with django_capture_on_commit_callbacks() as callbacks:
        work_order_assign(work_order=order, team=staff.other_team, actor=staff.supervisor)

    (push,) = outbox_written(callbacks, "workorders.live.work_order_push")
    assert push.kwargs["groups"] == [
        team_group(team_id=staff.other_team.pk),
        team_group(team_id=staff.team.pk),
        department_group(department_id=staff.department.pk),
    ]
    assert push.kwargs["message"]["event"] == "assigned"
