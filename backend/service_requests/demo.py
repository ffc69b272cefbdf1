"""Demo data for development: four users and three dozen requests around central Boston.

Everything goes through the real services: requests are filed with ``service_request_submit``
(on several channels, backdated over the last month) and moved with the transition
services, so the demo has the same events, work orders and receipts as real traffic.

Running it again creates nothing: users are looked up by name, and each demo request carries
an idempotency key (``demo-01`` ...), so the requests are only filed when none exists.

The transition services stamp their events with the current time, so every status change
of the demo happens at load time, while the requests themselves are backdated.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractUser, Group, Permission
from django.db import transaction
from django.utils import timezone

from backend.catalog.models import ServiceType
from backend.intake.services import service_request_submit
from backend.service_requests.models import Channel, CloseReason, ServiceRequest
from backend.service_requests.services import (
    service_request_acknowledge,
    service_request_close,
    service_request_reopen,
    service_request_start,
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
PLANS: dict[str, tuple[str, ...]] = {
    "new": (),
    "acknowledged": ("acknowledge",),
    "started": ("start",),
    "in_progress": ("acknowledge", "start"),
    "resolved": ("acknowledge", "start", "close:resolved"),
    "not_city": ("acknowledge", "close:not_city_responsibility"),
    "cannot_locate": ("acknowledge", "start", "close:cannot_locate"),
    "cancelled": ("close:cancelled",),
    "duplicate": ("close:duplicate",),
    "reopened": ("acknowledge", "start", "close:resolved", "reopen"),
}

R = DemoRequest
# Oldest first; lat/long around downtown Boston (42.36, -71.06).
DEMO_REQUESTS: tuple[DemoRequest, ...] = (
    R(29.5, "pothole", "app", "Commonwealth Ave & Massachusetts Ave", 42.3486, -71.0878,
      "Deep pothole in the right lane, cars swerving around it.",
      {"size": "large", "lane": "traffic_lane"}, "resolved"),
    R(28.8, "streetlight", "web", "12 Mount Vernon St", 42.3578, -71.0680,
      "Light outside number 12 has been out for a week.",
      {"problem": "out", "pole_number": "BH-1142"}, "resolved"),
    R(28.1, "graffiti", "chat", "Beach St & Harrison Ave", 42.3514, -71.0605,
      "Tags sprayed across the shop shutters.",
      {"surface": "private", "offensive": "no"}, "not_city"),
    R(27.4, "illegal_dumping", "open311", "Alley behind 300 Hanover St", 42.3643, -71.0544,
      "Two mattresses and a sofa left in the alley.",
      {"items": ["furniture"], "volume": "van"}, "resolved"),
    R(26.6, "abandoned_vehicle", "phone", "L St & East Broadway", 42.3340, -71.0350,
      "White van with flat tyres, parked for weeks.",
      {"colour": "white", "make": "Ford", "days_parked": 21}, "resolved"),
    R(25.9, "missed_collection", "app", "45 Bunker Hill St", 42.3770, -71.0640,
      "Recycling not picked up on Tuesday.",
      {"stream": "recycling"}, "reopened"),
    R(25.2, "sidewalk_damage", "web", "Boylston St & Arlington St", 42.3519, -71.0704,
      "Raised slab, someone tripped here yesterday.",
      {"hazard": "raised"}, "resolved"),
    R(24.5, "tree_hazard", "chat", "Commonwealth Ave Mall at Dartmouth St", 42.3511, -71.0776,
      "Large branch hanging over the footpath.",
      {"blocking": "sidewalk"}, "cannot_locate"),
    R(23.8, "traffic_signal", "open311", "Columbus Ave & Massachusetts Ave", 42.3408, -71.0810,
      "Signal stuck on red for the northbound traffic.",
      {"problem": "stuck"}, "resolved"),
    R(23.0, "water_leak", "phone", "Summer St & A St", 42.3491, -71.0500,
      "Water bubbling up through the road near the hydrant.",
      {"source": "street", "flow": "steady"}, "cancelled"),
    R(22.3, "rodents", "app", "Tremont St & Dwight St", 42.3440, -71.0703,
      "Rats around the restaurant bins every evening.",
      {"location_type": "business"}, "in_progress"),
    R(21.6, "dead_animal", "web", "Storrow Dr path near Fairfield St", 42.3540, -71.0840,
      "Dead raccoon on the path.",
      {"animal": "medium"}, "resolved"),
    R(20.9, "pothole", "chat", "Tremont St & Boylston St", 42.3521, -71.0645,
      "Pothole in the crosswalk, bikes have to swerve.",
      {"size": "medium", "lane": "crosswalk"}, "in_progress"),
    R(20.1, "streetlight", "open311", "Charles St & Beacon St", 42.3561, -71.0700,
      "Street light flickering all night.",
      {"problem": "flickering"}, "in_progress"),
    R(19.4, "graffiti", "phone", "Bus shelter, Washington St & Essex St", 42.3526, -71.0628,
      "Offensive words sprayed on the bus shelter.",
      {"surface": "public", "offensive": "yes"}, "resolved"),
    R(18.7, "illegal_dumping", "app", "Lot at Dudley St & Washington St", 42.3294, -71.0840,
      "Construction debris and tyres dumped in the lot.",
      {"items": ["construction", "tyres"], "volume": "truck"}, "in_progress"),
    R(18.0, "abandoned_vehicle", "web", "Salem St & Prince St", 42.3650, -71.0555,
      "Blue sedan with no plates, hasn't moved in a month.",
      {"colour": "blue", "plate": "none"}, "acknowledged"),
    R(17.3, "missed_collection", "chat", "Marlborough St & Clarendon St", 42.3530, -71.0770,
      "Trash missed on our side of the street.",
      {"stream": "trash"}, "in_progress"),
    R(16.5, "sidewalk_damage", "open311", "Huntington Ave & Gainsborough St", 42.3420, -71.0870,
      "Large crack across the whole sidewalk.",
      {"hazard": "cracked"}, "started"),
    R(15.8, "tree_hazard", "phone", "Jersey St near Fenway Park", 42.3465, -71.0975,
      "Tree leaning on the overhead wires after the storm.",
      {"blocking": "wires"}, "in_progress"),
    R(15.1, "traffic_signal", "app", "Cambridge St & Charles St", 42.3610, -71.0705,
      "Walk button does nothing.",
      {"problem": "pedestrian"}, "acknowledged"),
    R(14.4, "water_leak", "web", "Hydrant at Blossom St & Cambridge St", 42.3630, -71.0680,
      "Fire hydrant leaking into the gutter.",
      {"source": "hydrant", "flow": "trickle"}, "in_progress"),
    R(13.6, "rodents", "chat", "Boston Common near Park St", 42.3555, -71.0635,
      "Burrows along the path by the fountain.",
      {"location_type": "park"}, "acknowledged"),
    R(12.9, "dead_animal", "open311", "Kenmore Sq", 42.3488, -71.0955,
      "Dead pigeon on the sidewalk.",
      {"animal": "small"}, "resolved"),
    R(12.2, "pothole", "phone", "West Broadway & D St", 42.3359, -71.0502,
      "Pothole in the bike lane, about a tyre wide.",
      {"size": "medium", "lane": "bike_lane"}, "acknowledged"),
    R(11.5, "streetlight", "app", "Hanover St & Cross St", 42.3625, -71.0560,
      "Light pole hit by a truck, fixture hanging.",
      {"problem": "damaged"}, "acknowledged"),
    R(10.7, "graffiti", "web", "Lincoln St & Beach St", 42.3510, -71.0575,
      "Tag on the traffic signal box.",
      {"surface": "public", "offensive": "no"}, "acknowledged"),
    R(9.8, "illegal_dumping", "chat", "Church St & Winchester St", 42.3488, -71.0690,
      "Bags of rubbish and paint cans by the corner.",
      {"items": ["bags", "hazardous"]}, "new"),
    R(8.6, "abandoned_vehicle", "open311", "Main St & Warren St, Charlestown", 42.3750, -71.0640,
      "Red hatchback covered in leaves.",
      {"colour": "red", "days_parked": 14}, "new"),
    R(7.4, "missed_collection", "phone", "88 Salem St", None, None,
      "Yard waste bags still out from Monday.",
      {"stream": "yard_waste"}, "acknowledged"),
    R(6.1, "sidewalk_damage", "app", "Newbury St & Dartmouth St", 42.3505, -71.0775,
      "Missing bricks in front of the café.",
      {"hazard": "missing"}, "new"),
    R(4.9, "tree_hazard", "web", "Tremont St near Mission Church", 42.3330, -71.1000,
      "Dead tree, branches falling on parked cars.",
      {"blocking": "road"}, "new"),
    R(3.7, "traffic_signal", "chat", "Maverick Sq", 42.3691, -71.0395,
      "All lights dark at the intersection.",
      {"problem": "dark"}, "started"),
    R(2.5, "water_leak", "open311", "Atlantic Ave near South Station", 42.3523, -71.0552,
      "Water running from a meter box into the street.",
      {"source": "meter", "flow": "steady"}, "new"),
    R(1.3, "rodents", "phone", "Faneuil Hall Marketplace", 42.3600, -71.0568,
      "Mice seen running under the food stalls at night.",
      {"location_type": "street"}, "new"),
    R(0.4, "pothole", "app", "West Broadway & D St (bike lane)", 42.33602, -71.05010,
      "Pothole in the bike lane near D St.",
      {"size": "medium", "lane": "bike_lane"}, "duplicate", duplicate_of=24),
    R(0.2, "dead_animal", "web", "Cambridge St & Staniford St", 42.3614, -71.0630,
      "Dead cat in the gutter.",
      {"animal": "small"}, "new"),
)  # fmt: skip

CONTACTS = (
    ("Maria Lopez", "maria.lopez@example.com", "617-555-0101"),
    ("Tuan Nguyen", "tuan.nguyen@example.com", "617-555-0102"),
    ("Grace Kelly", "grace.kelly@example.com", "617-555-0103"),
    ("Omar Haddad", "", "617-555-0104"),
    ("", "anon.reporter@example.com", ""),
)

NOTES = {
    "acknowledge": "Thanks for the report: the {department} team has it on its list.",
    "start": "A crew is on the way.",
    "reopen": "Reopened: the problem is back, and a crew will look again.",
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
        existing = ServiceRequest.objects.filter(idempotency_key__startswith=DEMO_KEY_PREFIX)
        report.requests_existing = existing.count()
        if report.requests_existing == 0:
            _demo_requests(users=users, now=now or timezone.now(), report=report)
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
    department = service_request.service_type.department.name
    steps = PLANS[plan]
    # Spread the story between filing and now (at most 18 hours a step) so response times in
    # the demo look like a city's, not like a script that ran in one second.
    gap = min(timedelta(hours=18), (now - service_request.requested_at) / (len(steps) + 1))
    for number, step in enumerate(steps, start=1):
        at = service_request.requested_at + gap * number
        if step == "acknowledge":
            service_request = service_request_acknowledge(
                service_request=service_request,
                actor=supervisor,
                public_note=NOTES["acknowledge"].format(department=department),
                at=at,
            )
        elif step == "start":
            service_request = service_request_start(
                service_request=service_request,
                actor=crew,
                public_note=NOTES["start"],
                at=at,
            )
        elif step == "reopen":
            service_request = service_request_reopen(
                service_request=service_request,
                actor=supervisor,
                public_note=NOTES["reopen"],
                at=at,
            )
        else:
            reason = step.removeprefix("close:")
            is_duplicate = reason == CloseReason.DUPLICATE
            service_request = service_request_close(
                service_request=service_request,
                reason=reason,
                actor=crew if reason == CloseReason.RESOLVED else supervisor,
                public_note=NOTES[reason].format(original=original.public_id if original else ""),
                duplicate_of=original if is_duplicate else None,
                at=at,
            )
    return service_request
