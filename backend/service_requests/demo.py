"""Demo data for development: four users, a crew per department, three dozen requests
around central Boston and their work orders.

Everything goes through the real services: requests are filed with ``service_request_submit``
(on several channels, backdated over the last month) and their work orders are assigned,
started, held, completed with proof photos, cancelled or merged with the work-order services
and use cases (``workorders.services``, ``backend.cases``), so the request statuses follow as
in real traffic. The sample wards (``workorders/data/sample_wards_boston.geojson``) are
loaded and one routing rule sends South Boston potholes straight to their own crew. The
requests themselves, with the plan of each, are data (``data/demo_requests.json``).

Running it again creates nothing: users, teams and the rule are looked up by name, and each
demo request carries an idempotency key (``demo-01`` ...), so the requests are only filed
when none exists.

Each step of a story is stamped with a time between the request's filing and now.
"""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.db import transaction
from django.utils import timezone
from PIL import ExifTags, Image, ImageDraw

from backend.cases.merge import service_request_merge
from backend.catalog.models import Department, ServiceType
from backend.intake.services import service_request_submit
from backend.service_requests.models import Channel, CloseReason, ServiceRequest
from backend.service_requests.services import (
    do_service_request_close,
    do_service_request_reopen,
)
from workorders.areas import areas_load
from workorders.models import Area, HoldReason, RoutingRule, Team, TeamMember, TeamRole, WorkOrder
from workorders.services import (
    work_order_assign,
    work_order_cancel,
    work_order_complete,
    work_order_hold,
    work_order_start,
)

DEMO_KEY_PREFIX = "demo-"
SUPERVISORS_GROUP = "supervisors"
CREW_GROUP = "crew"


class DemoRefused(Exception):
    """Demo data is not loaded into a production database unless forced, nor without the
    catalog it files requests against."""


@dataclass(frozen=True)
class DemoUserSpec:
    username: str
    password: str
    email: str
    first_name: str
    is_staff: bool = False
    is_superuser: bool = False
    group: str = ""


# Development passwords only: printed by ``demo_load``, never used outside development.
DEMO_USERS = (
    DemoUserSpec("admin", "admin-dev-password", "admin@example.com", "Ada", True, True),
    DemoUserSpec(
        "supervisor",
        "supervisor-dev-password",
        "supervisor@example.com",
        "Sam",
        is_staff=True,
        group=SUPERVISORS_GROUP,
    ),
    DemoUserSpec(
        "crew",
        "crew-dev-password",
        "crew@example.com",
        "Casey",
        group=CREW_GROUP,
    ),
    DemoUserSpec("resident", "resident-dev-password", "resident@example.com", "Rosa"),
)

# What supervisors may do in the admin: enter phone reports, move requests, read the rest.
SUPERVISOR_PERMISSIONS = (
    ("service_requests", "add_servicerequest"),
    ("service_requests", "change_servicerequest"),
    ("service_requests", "view_servicerequest"),
    ("service_requests", "view_servicerequestevent"),
    ("photos", "view_photo"),
    ("workorders", "view_workorder"),
    ("workorders", "view_routingrule"),
    ("workorders", "view_team"),
    ("workorders", "view_feedback"),
    ("workorders", "view_area"),
    ("catalog", "view_department"),
    ("catalog", "view_servicetype"),
    ("catalog", "view_serviceattribute"),
)


@dataclass(frozen=True)
class DemoRequest:
    """One demo request: how it is filed and where its story goes (``plan``)."""

    days_ago: float
    service_code: str
    channel: str
    address: str
    lat: float | None
    long: float | None
    description: str
    attributes: dict[str, Any]
    plan: str
    duplicate_of: int | None = None  # index of the original, for plan "duplicate"


# Plans: the transitions each request goes through after it is filed.
# Steps are work-order actions (assign, start, hold, complete, cancel:<reason>, merge); the
# request's status follows them. "resolved_far" completes with a proof photo taken 300 m
# away, which lands in the supervisors' proof-review queue. "reopened" is told on the request
# itself (closed by staff, reopened) while its work order stays in progress, so the demo keeps
# one work order per request.
PLANS: dict[str, tuple[str, ...]] = {
    "new": (),
    "acknowledged": ("assign",),
    "started": ("assign", "start"),
    "in_progress": ("assign", "start"),
    "on_hold": ("assign", "start", "hold"),
    "resolved": ("assign", "start", "complete"),
    "resolved_far": ("assign", "start", "complete:far"),
    "not_city": ("assign", "cancel:not_city_responsibility"),
    "cannot_locate": ("assign", "start", "cancel:cannot_locate"),
    "cancelled": ("cancel:cancelled",),
    "duplicate": ("merge",),
    "reopened": ("assign", "start", "request:close", "request:reopen"),
}

DEMO_REQUESTS_FILE = Path(__file__).resolve().parent / "data" / "demo_requests.json"
# Oldest first; lat/long around downtown Boston (42.36, -71.06).
DEMO_REQUESTS: tuple[DemoRequest, ...] = tuple(
    DemoRequest(**row)
    for row in json.loads(DEMO_REQUESTS_FILE.read_text(encoding="utf-8"))["requests"]
)

CONTACTS = (
    ("Maria Lopez", "maria.lopez@example.com", "617-555-0101"),
    ("Tuan Nguyen", "tuan.nguyen@example.com", "617-555-0102"),
    ("Grace Kelly", "grace.kelly@example.com", "617-555-0103"),
    ("Omar Haddad", "", "617-555-0104"),
    ("", "anon.reporter@example.com", ""),
)

NOTES = {
    "assign": "Thanks for the report: the {department} team has it on its list.",
    "start": "A crew is on the way.",
    "reopen": "Reopened: the problem is back, and a crew will look again.",
    "hold": "Waiting for the power company to make the wires safe.",
    "resolved": "Fixed. Thank you for reporting it.",
    "not_city_responsibility": "This is private property, so the owner has to deal with it; "
    "we have written to them.",
    "cannot_locate": "Our crew could not find this at the place given. Please report it "
    "again with a nearby address.",
    "cancelled": "Cancelled at the caller's request.",
    "duplicate": "This was reported already as {original}; follow that request for news.",
}


@dataclass(frozen=True)
class DemoUserResult:
    username: str
    password: str
    role: str
    created: bool


@dataclass
class DemoReport:
    users: list[DemoUserResult] = field(default_factory=list)
    requests_created: int = 0
    requests_existing: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    channels: Counter[str] = field(default_factory=Counter)
    services: set[str] = field(default_factory=set)
    teams: int = 0


SAMPLE_WARDS = (
    Path(__file__).resolve().parents[2] / "workorders" / "data" / ("sample_wards_boston.geojson")
)
SOUTH_BOSTON_WARD = "Sample Ward 3 - South Boston"
SOUTH_BOSTON_TEAM = "Public Works South Boston crew"
SOUTH_BOSTON_RULE = "Potholes in South Boston: the South Boston crew"


def demo_load(*, force: bool = False, now: datetime | None = None) -> DemoReport:
    """Creates the demo users and requests that do not exist yet."""
    if settings.ENVIRONMENT == "production" and not force:
        raise DemoRefused(
            "This is a production environment (CITY311_ENV=production): demo data would mix "
            "with real requests. Nothing was done. Use --force if you really mean it."
        )
    needed = {spec.service_code for spec in DEMO_REQUESTS}
    active = set(
        ServiceType.objects.filter(service_code__in=needed, active=True).values_list(
            "service_code", flat=True
        )
    )
    if needed - active:
        raise DemoRefused(
            f"The catalog lacks the active services {', '.join(sorted(needed - active))}. "
            "Load it first with `python manage.py catalog_load`. Nothing was done."
        )
    report = DemoReport()
    with transaction.atomic():
        users = {spec.username: _demo_user(spec=spec, report=report) for spec in DEMO_USERS}
        report.teams = _demo_teams(users=users)
        existing = ServiceRequest.objects.filter(idempotency_key__startswith=DEMO_KEY_PREFIX)
        report.requests_existing = existing.count()
        if report.requests_existing == 0:
            _demo_requests(users=users, now=now or timezone.now(), report=report)
        # After the demo requests, which tell their own stories: new reports use the rule.
        _demo_routing(users=users)
    return report


def _demo_user(*, spec: DemoUserSpec, report: DemoReport) -> AbstractUser:
    user_model = get_user_model()
    user = user_model.objects.filter(username=spec.username).first()
    created = user is None
    if user is None:
        user = user_model(
            username=spec.username,
            email=spec.email,
            first_name=spec.first_name,
            is_staff=spec.is_staff,
            is_superuser=spec.is_superuser,
        )
        user.set_password(spec.password)
        user.save()
    if spec.group:
        group, _ = Group.objects.get_or_create(name=spec.group)
        if spec.group == SUPERVISORS_GROUP:
            group.permissions.add(*_permissions(SUPERVISOR_PERMISSIONS))
        user.groups.add(group)
    role = "superuser" if spec.is_superuser else (spec.group or "resident")
    report.users.append(
        DemoUserResult(username=spec.username, password=spec.password, role=role, created=created)
    )
    assert isinstance(user, AbstractUser)
    return user


def _demo_teams(*, users: dict[str, AbstractUser]) -> int:
    """A crew per department with the demo supervisor and crew member in it. Returns the
    number of teams."""
    teams = []
    for department in Department.objects.order_by("name"):
        team, _ = Team.objects.get_or_create(department=department, name=f"{department.name} crew")
        teams.append(team)
    for team in teams:
        _demo_members(team=team, users=users)
    return len(teams)


def _demo_members(*, team: Team, users: dict[str, AbstractUser]) -> None:
    TeamMember.objects.get_or_create(
        team=team, user_id=users["supervisor"].pk, defaults={"role": TeamRole.SUPERVISOR}
    )
    TeamMember.objects.get_or_create(
        team=team, user_id=users["crew"].pk, defaults={"role": TeamRole.CREW}
    )


def _demo_routing(*, users: dict[str, AbstractUser]) -> None:
    """The sample wards and a rule that gives South Boston potholes to their own crew."""
    public_works = Department.objects.filter(code="public-works").first()
    if public_works is not None:
        south, _ = Team.objects.get_or_create(department=public_works, name=SOUTH_BOSTON_TEAM)
        _demo_members(team=south, users=users)
        if not Area.objects.filter(kind="ward", name=SOUTH_BOSTON_WARD).exists():
            areas_load(
                data=json.loads(SAMPLE_WARDS.read_text(encoding="utf-8")),
                name_property="NAME",
                kind="ward",
            )
        ward = Area.objects.get(kind="ward", name=SOUTH_BOSTON_WARD)
        pothole = ServiceType.objects.filter(service_code="pothole").first()
        RoutingRule.objects.get_or_create(
            name=SOUTH_BOSTON_RULE,
            defaults={
                "order": 10,
                "service_type": pothole,
                "area": ward,
                "department": public_works,
                "team": south,
            },
        )


def proof_jpeg(*, lat: float, long: float, taken: datetime, seed: int) -> bytes:
    """A small JPEG "of the finished work" whose EXIF carries when and where it was taken."""
    img = Image.new("RGB", (640, 480), (90 + seed % 100, 110, 120))
    draw = ImageDraw.Draw(img)
    draw.rectangle((80 + seed % 200, 120, 360 + seed % 200, 360), fill=(60, 60, 60))
    draw.text((20, 20), f"demo proof {seed}", fill=(255, 255, 255))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "city311 demo"
    local = timezone.localtime(taken)
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = local.strftime("%Y:%m:%d %H:%M:%S")
    offset = local.strftime("%z")
    sub[ExifTags.Base.OffsetTimeOriginal] = f"{offset[:3]}:{offset[3:]}"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
    gps[ExifTags.GPS.GPSLatitude] = _dms(abs(lat))
    gps[ExifTags.GPS.GPSLongitudeRef] = "E" if long >= 0 else "W"
    gps[ExifTags.GPS.GPSLongitude] = _dms(abs(long))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80, exif=exif)
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4)


def _permissions(names: tuple[tuple[str, str], ...]) -> list[Permission]:
    permissions = []
    for app_label, codename in names:
        permission = Permission.objects.filter(
            content_type__app_label=app_label, codename=codename
        ).first()
        if permission is not None:
            permissions.append(permission)
    return permissions


def _demo_requests(*, users: dict[str, AbstractUser], now: datetime, report: DemoReport) -> None:
    filed: list[ServiceRequest] = []
    for index, spec in enumerate(DEMO_REQUESTS):
        name, email, phone = CONTACTS[index % len(CONTACTS)]
        is_app = spec.channel == Channel.APP
        is_phone = spec.channel == Channel.PHONE
        result = service_request_submit(
            service_code=spec.service_code,
            channel=spec.channel,
            lat=spec.lat,
            long=spec.long,
            address=spec.address,
            description=spec.description,
            attributes=spec.attributes,
            reporter=users["resident"] if is_app else None,
            contact_name="" if is_app else name,
            contact_email="" if is_app or is_phone else email,
            contact_phone=phone if is_phone else "",
            actor=users["supervisor"] if is_phone else None,
            idempotency_key=f"{DEMO_KEY_PREFIX}{index + 1:02d}",
            requested_at=now - timedelta(days=spec.days_ago),
        )
        service_request = result.service_request
        if not result.replayed:
            report.requests_created += 1
            original = filed[spec.duplicate_of] if spec.duplicate_of is not None else None
            service_request = _demo_story(
                service_request=service_request,
                plan=spec.plan,
                original=original,
                users=users,
                now=now,
            )
        filed.append(service_request)
        report.statuses[service_request.status] += 1
        report.channels[service_request.channel] += 1
        report.services.add(spec.service_code)


def _demo_story(
    *,
    service_request: ServiceRequest,
    plan: str,
    original: ServiceRequest | None,
    users: dict[str, AbstractUser],
    now: datetime,
) -> ServiceRequest:
    supervisor, crew = users["supervisor"], users["crew"]
    department = service_request.service_type.department
    steps = PLANS[plan]
    # Spread the story between filing and now (at most 18 hours a step) so response times in
    # the demo look like a city's, not like a script that ran in one second.
    gap = min(timedelta(hours=18), (now - service_request.requested_at) / (len(steps) + 1))
    order = WorkOrder.objects.filter(service_request=service_request).order_by("-id").first()
    assert order is not None, "intake makes a work order for every request"
    for number, step in enumerate(steps, start=1):
        at = service_request.requested_at + gap * number
        action, _, detail = step.partition(":")
        if action == "assign":
            team = (
                order.team
                or Team.objects.filter(department=order.department).order_by("pk").first()
            )
            order = work_order_assign(
                work_order=order,
                team=team,
                actor=supervisor,
                public_note=NOTES["assign"].format(department=department.name),
                at=at,
            )
        elif action == "start":
            order = work_order_start(
                work_order=order, actor=crew, public_note=NOTES["start"], at=at
            )
        elif action == "hold":
            order = work_order_hold(
                work_order=order,
                reason=HoldReason.CONTRACTOR,
                note=NOTES["hold"],
                actor=crew,
                at=at,
            )
        elif action == "complete":
            location = service_request.location
            lat, long = (location.y, location.x) if location else (42.3601, -71.0589)
            if detail == "far":
                lat += 0.0027  # about 300 m north: the photo will need a supervisor's review
            taken = max(
                service_request.requested_at + timedelta(minutes=1), at - timedelta(minutes=5)
            )
            photo = proof_jpeg(lat=lat, long=long, taken=taken, seed=service_request.pk)
            order = work_order_complete(
                work_order=order,
                actor=crew,
                proof_photos=[photo],
                note=NOTES["resolved"],
                at=at,
            ).work_order
        elif action == "cancel":
            order = work_order_cancel(
                work_order=order,
                actor=supervisor,
                close_reason=detail,
                public_note=NOTES[detail],
                at=at,
            )
        elif action == "merge":
            assert original is not None
            service_request_merge(
                service_request=service_request, into=original, actor=supervisor, at=at
            )
        elif step == "request:close":
            # The request alone closes and reopens: its work order stays in progress
            # throughout, as the story shows.
            do_service_request_close(
                service_request=service_request,
                reason=CloseReason.RESOLVED,
                actor=crew,
                public_note=NOTES["resolved"],
                at=at,
            )
        elif step == "request:reopen":
            do_service_request_reopen(
                service_request=service_request,
                actor=supervisor,
                public_note=NOTES["reopen"],
                at=at,
            )
        else:
            raise ValueError(f"unknown demo step {step!r}")
        service_request.refresh_from_db()
    return service_request
