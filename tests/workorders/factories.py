"""Work-order test data, made through the real services (never by writing status fields)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.utils import timezone
from PIL import Image
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from backend.cases.feedback import feedback_submit
from backend.catalog.models import Department, ResponseTemplate
from backend.service_requests.models import CloseReason, ServiceRequest
from backend.service_requests.services import do_service_request_close
from tests.conftest import BOSTON
from tests.factories import submit
from tests.photos.images import encode, exif_block
from workorders.areas import areas_load
from workorders.models import (
    Area,
    HoldReason,
    PublicHoliday,
    RoutingRule,
    Team,
    TeamMember,
    TeamRole,
    WorkOrder,
    WorkOrderStatus,
)
from workorders.selectors import close_event_latest
from workorders.services import (
    work_order_assign,
    work_order_cancel,
    work_order_complete,
    work_order_hold,
    work_order_start,
)

NY = ZoneInfo("America/New_York")
SAMPLE_WARDS = "workorders/data/sample_wards_boston.geojson"


def user_make(username: str, **fields: Any) -> User:
    fields.setdefault("email", f"{username}@example.org")
    return get_user_model().objects.create_user(username=username, password=None, **fields)


def team_make(*, department: str = "public-works", name: str = "Crew A") -> Team:
    return Team.objects.create(department=Department.objects.get(code=department), name=name)


def member_add(team: Team, user: User, role: str = TeamRole.CREW) -> TeamMember:
    return TeamMember.objects.create(team=team, user=user, role=role)


@dataclass
class Staff:
    department: Department
    team: Team
    other_team: Team
    supervisor: User
    crew: User
    other_crew: User
    outsider: User


def staff_make() -> Staff:
    """Public Works with two crews and a supervisor, and a crew member of Sanitation."""
    team, other = team_make(name="Crew A"), team_make(name="Crew B")
    supervisor, crew = user_make("sam", is_staff=True), user_make("casey")
    other_crew, outsider = user_make("robin"), user_make("olga")
    member_add(team, supervisor, TeamRole.SUPERVISOR)
    member_add(team, crew)
    member_add(other, other_crew)
    member_add(team_make(department="sanitation", name="Sanitation crew"), outsider)
    return Staff(team.department, team, other, supervisor, crew, other_crew, outsider)


def token_client(user: User) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def exif_time(moment: datetime) -> tuple[str, str]:
    local = moment.astimezone(NY)
    offset = local.strftime("%z")
    return local.strftime("%Y:%m:%d %H:%M:%S"), f"{offset[:3]}:{offset[3:]}"


def proof_jpeg(
    *,
    lat: float | None = BOSTON[0],
    long: float | None = BOSTON[1],
    taken: datetime | None = None,
    seed: int = 1,
) -> bytes:
    """A real JPEG whose EXIF carries the capture time and GPS position given (none when
    None)."""
    stamp, offset = exif_time(taken) if taken is not None else (None, None)
    exif = exif_block(
        gps=(lat, long) if lat is not None and long is not None else None,
        taken=stamp,
        offset=offset,
    )
    colour = (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256)
    return encode(Image.new("RGB", (320, 240), colour), "JPEG", quality=85, exif=exif)


def request_make(service_code: str = "pothole", **kwargs: Any) -> ServiceRequest:
    """A request filed two hours ago (so photos taken since are after it)."""
    kwargs.setdefault("requested_at", timezone.now() - timedelta(hours=2))
    return submit(service_code, **kwargs)


def order_of(service_request: ServiceRequest) -> WorkOrder:
    order = WorkOrder.objects.filter(service_request=service_request).order_by("-id").first()
    assert order is not None
    return order


def good_proof(*, seed: int = 1) -> bytes:
    return proof_jpeg(taken=timezone.now() - timedelta(minutes=30), seed=seed)


def order_in(
    status: str, *, staff: Staff, service_request: ServiceRequest | None = None
) -> WorkOrder:
    """A work order brought into ``status`` through the services."""
    order = order_of(service_request or request_make())
    if status == WorkOrderStatus.NEW:
        return order
    if status == WorkOrderStatus.CANCELLED:
        return work_order_cancel(work_order=order, actor=staff.supervisor)
    order = work_order_assign(work_order=order, team=staff.team, actor=staff.supervisor)
    if status == WorkOrderStatus.ASSIGNED:
        return order
    order = work_order_start(work_order=order, actor=staff.crew)
    if status == WorkOrderStatus.IN_PROGRESS:
        return order
    if status == WorkOrderStatus.ON_HOLD:
        return work_order_hold(work_order=order, reason=HoldReason.PARTS, actor=staff.crew)
    if status == WorkOrderStatus.COMPLETED:
        return work_order_complete(
            work_order=order, actor=staff.crew, proof_photos=[good_proof()]
        ).work_order
    raise ValueError(status)


def sample_wards_load() -> None:
    with open(SAMPLE_WARDS, encoding="utf-8") as handle:
        areas_load(data=json.load(handle), name_property="NAME", kind="ward")


def one_of_each_workorders_model() -> None:
    """One row of every admin-registered model of the work-order issue (and DRF's tokens),
    for the admin's every-page test."""
    sample_wards_load()
    staff = staff_make()
    RoutingRule.objects.create(
        name="Graffiti in ward 1",
        service_type=None,
        area=Area.objects.order_by("name").first(),
        department=staff.department,
        team=staff.other_team,
        active=False,
    )
    PublicHoliday.objects.create(date=datetime(2026, 12, 25).date(), name="Christmas Day")
    Token.objects.create(user=staff.supervisor)
    closed = do_service_request_close(
        service_request=submit("graffiti"), reason=CloseReason.RESOLVED
    )
    event = close_event_latest(service_request_id=closed.pk)
    assert event is not None
    feedback_submit(close_event=event, fixed=True, rating=5)
    ResponseTemplate.objects.create(
        name="Parts ordered", status=WorkOrderStatus.ON_HOLD, text="Parts ordered for {service}."
    )
