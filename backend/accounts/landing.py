"""Where a person lands after signing in: crews on their app (``/crew/``), residents on their
page (``/me/``), staff where they were going or on their console. A ``next`` is followed only
when it is safe (this site, ``url_has_allowed_host_and_scheme``) and leads where the person's
role may go: a crew member's only into the crew app, a resident's never into the staff,
crew or admin pages (they would meet a refusal there)."""

from __future__ import annotations

import enum
from urllib.parse import urlsplit

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from workorders.selectors import StaffAccess, staff_access_get

CREW_HOME = "/crew/"
STAFF_AREAS = ("/staff/", "/admin/", CREW_HOME)


class Role(enum.Enum):
    STAFF = "staff"  # admins, leadership (is_staff) and supervisors
    CREW = "crew"  # on a work-order team, not staff
    RESIDENT = "resident"


def account_role(*, user: AbstractBaseUser | AnonymousUser, access: StaffAccess) -> Role:
    if getattr(user, "is_staff", False) or access.is_superuser or access.supervised:
        return Role.STAFF
    if access.teams:
        return Role.CREW
    return Role.RESIDENT


def role_home(*, role: Role, access: StaffAccess) -> str:
    if role is Role.CREW:
        return CREW_HOME
    if role is Role.STAFF:
        if access.is_superuser or access.supervised:
            return reverse("workorders:console-queue")
        return reverse("analytics:scorecard")
    return reverse("accounts:me")


def _role_may_go(role: Role, path: str) -> bool:
    if role is Role.STAFF:
        return True
    if role is Role.CREW:
        return path.startswith(CREW_HOME)
    return not path.startswith(STAFF_AREAS)


def landing_url(
    *,
    user: AbstractBaseUser | AnonymousUser,
    next_url: str,
    allowed_hosts: set[str],
    require_https: bool,
) -> str:
    access = staff_access_get(user=user)
    role = account_role(user=user, access=access)
    if next_url and url_has_allowed_host_and_scheme(
        next_url, allowed_hosts=allowed_hosts, require_https=require_https
    ):
        path = urlsplit(next_url).path
        if path.startswith("/") and not path.startswith("/accounts/") and _role_may_go(role, path):
            return next_url
    return role_home(role=role, access=access)
