"""Who may read analytics: staff only, in one place.

Leadership (superusers and ``is_staff`` users) sees the whole city; a team member (crew or
supervisor) sees the departments of their teams, and the team view of their own teams (all of
a department's teams for its supervisors). Anyone else gets nothing: the API answers 403 to a
signed-in resident and 401/403 to an anonymous caller, the pages send them to the log-in."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from workorders.selectors import staff_access_get


@dataclass(frozen=True)
class AnalyticsAccess:
    citywide: bool
    departments: frozenset[int]
    supervised: frozenset[int]
    teams: frozenset[int]

    @property
    def allowed(self) -> bool:
        return self.citywide or bool(self.departments)

    def sees_department(self, department_id: int) -> bool:
        return self.citywide or department_id in self.departments

    def sees_team(self, *, team_id: int, department_id: int) -> bool:
        return self.citywide or department_id in self.supervised or team_id in self.teams


NONE = AnalyticsAccess(False, frozenset(), frozenset(), frozenset())


def analytics_access_get(*, user: AbstractBaseUser | AnonymousUser | None) -> AnalyticsAccess:
    if user is None or not user.is_authenticated or not user.is_active:
        return NONE
    staff = staff_access_get(user=user)
    citywide = bool(getattr(user, "is_superuser", False) or getattr(user, "is_staff", False))
    return AnalyticsAccess(
        citywide=citywide,
        departments=staff.departments,
        supervised=staff.supervised,
        teams=staff.teams,
    )
