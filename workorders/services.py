"""Writes to work orders: creation with routing, the lifecycle state machine, proof photos,
review, re-routing, merging duplicates and reopening.

The state machine: one table of allowed transitions (``TRANSITIONS``) and one function per
transition. Each locks the request row and then the work-order row (always in that order,
so two writers never deadlock), checks the from-status against the table, saves with
``update_fields`` and writes a ``WorkOrderEvent``, all in one transaction. The status the
resident sees follows through the request's own transition services (acknowledged when
assigned, in progress when started, closed as resolved when completed); a step the request
has already taken is skipped, never an error.

These functions do not check who may call them (the system calls them too): the views check
access with ``workorders.selectors.staff_access_get`` first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.models import User as UserModel
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from backend.catalog.models import ServiceType
from backend.photos.models import PhotoKind
from backend.photos.processing import PhotoRejected
from backend.photos.services import (
    CheckedUpload,
    photo_attach,
    photo_process_enqueue,
    photo_upload_check,
)
from backend.service_requests.models import (
    OPEN_STATUSES as REQUEST_OPEN_STATUSES,
)
from backend.service_requests.models import (
    CloseReason,
    EventKind,
    RequestFollower,
    ServiceRequest,
    Status,
)
from backend.service_requests.services import TRANSITIONS as REQUEST_TRANSITIONS
from backend.service_requests.services import (
    service_request_acknowledge,
    service_request_close,
    service_request_event_create,
    service_request_follower_add,
    service_request_reopen,
    service_request_start,
)
from backend.users import actor_user

# Re-exported: callers that still import the errors from here (workorders.errors owns them).
from workorders.errors import Conflict as Conflict
from workorders.errors import IllegalTransition as IllegalTransition
from workorders.errors import InvalidInput as InvalidInput
from workorders.errors import ProofRequired as ProofRequired
from workorders.errors import WorkOrderError as WorkOrderError
from workorders.live import work_order_push_enqueue
from workorders.models import (
    OPEN_STATUSES,
    HoldReason,
    ProofPhoto,
    ReviewDecision,
    Team,
    TeamMember,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderEventKind,
    WorkOrderHold,
    WorkOrderStatus,
)
from workorders.proof import proof_check, proof_exif_read
from workorders.routing import route_find
from workorders.selectors import business_calendar_get, team_least_loaded
from workorders.sla import duration_add, duration_between

User = AbstractBaseUser | AnonymousUser | None

NOTE_MAX = 4000
KEY_MAX = 128
# What residents read when a crew closes without a note of its own.
DEFAULT_CLOSING_NOTE = "The work is done. Thank you for reporting it."
# Close reasons a cancellation may give the request (resolved needs a completion with proof,
# duplicate needs a merge).
CANCEL_CLOSE_REASONS = (
    CloseReason.NOT_CITY_RESPONSIBILITY,
    CloseReason.CANNOT_LOCATE,
    CloseReason.CANCELLED,
)


# --- The state machine


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    # None: back to the status the order had before its hold.
    target: str | None


TRANSITIONS: dict[str, Transition] = {
    "assign": Transition(
        frozenset({WorkOrderStatus.NEW, WorkOrderStatus.ASSIGNED}), WorkOrderStatus.ASSIGNED
    ),
    "start": Transition(frozenset({WorkOrderStatus.ASSIGNED}), WorkOrderStatus.IN_PROGRESS),
    "hold": Transition(
        frozenset({WorkOrderStatus.ASSIGNED, WorkOrderStatus.IN_PROGRESS}),
        WorkOrderStatus.ON_HOLD,
    ),
    "resume": Transition(frozenset({WorkOrderStatus.ON_HOLD}), None),
    "complete": Transition(frozenset({WorkOrderStatus.IN_PROGRESS}), WorkOrderStatus.COMPLETED),
    "cancel": Transition(frozenset(OPEN_STATUSES), WorkOrderStatus.CANCELLED),
}
# Statuses a hold can come back to (the possible targets of "resume").
RESUME_TARGETS = TRANSITIONS["hold"].sources
# Where proof photos may be added before completing.
PROOF_STATUSES = frozenset(
    {WorkOrderStatus.ASSIGNED, WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.ON_HOLD}
)
# Where a crew may still add a note (public or internal).
NOTE_STATUSES = frozenset(OPEN_STATUSES)
# The crew's actions, in the order a phone offers them.
CREW_ACTIONS = ("start", "hold", "resume", "complete")


def work_order_actions(*, status: str) -> list[str]:
    """The crew's actions the transition table allows from ``status`` (and ``note`` while
    the order is open): what a phone offers, so that no client keeps a copy of the table."""
    actions = [action for action in CREW_ACTIONS if status in TRANSITIONS[action].sources]
    return [*actions, "note"] if status in NOTE_STATUSES else actions


def _check(action: str, work_order: WorkOrder) -> None:
    if work_order.status not in TRANSITIONS[action].sources:
        raise IllegalTransition(action=action, current_status=work_order.status)


def _note(value: str, *, field: str = "note", required: bool = False) -> str:
    value = (value or "").strip()
    if len(value) > NOTE_MAX:
        raise InvalidInput(f"At most {NOTE_MAX} characters.", field=field)
    if required and not value:
        raise InvalidInput("A note is required.", field=field)
    return value


def _event(
    *,
    work_order: WorkOrder,
    kind: str,
    at: datetime,
    actor: User = None,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    data: dict[str, Any] | None = None,
    left_team_id: int | None = None,
) -> WorkOrderEvent:
    """Writes the event and queues the teams' live update (``workorders.live``)."""
    event = WorkOrderEvent.objects.create(
        work_order=work_order,
        kind=kind,
        created_at=at,
        actor=actor_user(actor),
        from_status=from_status,
        to_status=to_status,
        note=note,
        data=data or {},
    )
    work_order_push_enqueue(work_order=work_order, kind=kind, left_team_id=left_team_id)
    return event


def _lock(work_order: WorkOrder) -> tuple[ServiceRequest, WorkOrder]:
    """Locks the request, then the work order, and returns both as they are now."""
    service_request = ServiceRequest.objects.select_for_update().get(
        pk=work_order.service_request_id
    )
    locked = WorkOrder.objects.select_for_update().get(pk=work_order.pk)
    return service_request, locked


def _save(work_order: WorkOrder, *fields: str) -> None:
    work_order.save(update_fields=[*fields, "updated_at"])


def _follow(
    service_request: ServiceRequest,
    action: str,
    *,
    actor: User,
    public_note: str,
    at: datetime,
    reason: str = "",
) -> ServiceRequest:
    """Moves the (locked) request along with its work order, unless it is already there."""
    if service_request.status not in REQUEST_TRANSITIONS[action].sources:
        return service_request
    if action == "acknowledge":
        return service_request_acknowledge(
            service_request=service_request, actor=actor, public_note=public_note, at=at
        )
    if action == "start":
        return service_request_start(
            service_request=service_request, actor=actor, public_note=public_note, at=at
        )
    if action == "close":
        return service_request_close(
            service_request=service_request,
            reason=reason,
            actor=actor,
            public_note=public_note,
            at=at,
        )
    raise ValueError(f"no request action {action!r} follows a work order")


def _public_note_add(
    service_request: ServiceRequest,
    *,
    actor: User,
    public_note: str,
    internal_note: str = "",
    at: datetime,
) -> None:
    """A note on the request's history (the resident sees ``public_note`` on the track page
    and in the timeline, never ``internal_note``); nothing when both are empty."""
    if public_note or internal_note:
        service_request_event_create(
            service_request=service_request,
            kind=EventKind.NOTE,
            actor=actor,
            public_note=public_note,
            internal_note=internal_note,
            at=at,
        )


def _expected_at_sync(service_request: ServiceRequest, due_at: datetime | None) -> None:
    """The resident's expected date follows the active work order's due time."""
    if due_at is not None and service_request.expected_at != due_at:
        service_request.expected_at = due_at
        ServiceRequest.objects.filter(pk=service_request.pk).update(expected_at=due_at)


# --- Creation


def _create(
    *,
    service_request: ServiceRequest,
    at: datetime,
    sla_start: datetime,
    actor: User,
    data: dict[str, Any] | None = None,
) -> WorkOrder:
    service_type = service_request.service_type
    route = route_find(service_type=service_type, location=service_request.location)
    calendar = business_calendar_get(department=route.department)
    turnaround = timedelta(hours=service_type.turnaround_hours)
    business = service_type.turnaround_business_hours
    due_at = duration_add(
        start=sla_start, duration=turnaround, business_hours=business, calendar=calendar
    )
    escalate_again_at = duration_add(
        start=sla_start, duration=2 * turnaround, business_hours=business, calendar=calendar
    )
    work_order = WorkOrder.objects.create(
        service_request=service_request,
        department=route.department,
        routing_rule=route.rule,
        turnaround_hours=service_type.turnaround_hours,
        turnaround_business_hours=business,
        due_at=due_at,
        escalate_again_at=escalate_again_at,
        created_at=at,
        updated_at=at,
    )
    _event(
        work_order=work_order,
        kind=WorkOrderEventKind.CREATED,
        at=at,
        actor=actor,
        to_status=work_order.status,
        data={
            "department": route.department.code,
            "routing_rule": route.rule.pk if route.rule else None,
            "service_code": service_type.service_code,
            **(data or {}),
        },
    )
    _expected_at_sync(service_request, due_at)
    team = route.team
    if team is None and route.assign_automatically:
        team = team_least_loaded(department_id=route.department.pk)
    if team is not None:
        rule_name = route.rule.name if route.rule else ""
        _assign(
            service_request=service_request,
            work_order=work_order,
            team=team,
            assignee=None,
            actor=actor,
            note=f"Assigned by the routing rule “{rule_name}”.",
            public_note="",
            at=at,
        )
    return work_order


def work_order_create(
    *,
    service_request: ServiceRequest,
    at: datetime,
    sla_start: datetime | None = None,
    actor: User = None,
) -> WorkOrder:
    """The work order for a request, routed to a department (and team) by the routing
    rules, due after the service's turnaround counted from ``sla_start`` (the request's
    submission by default). Called by the intake pipeline inside its transaction.

    A request filed with an earlier ``requested_at`` (an import, the demo) gets its work
    order, and its routing, stamped at that time too, so its history stays in order."""
    requested = service_request.requested_at
    return _create(
        service_request=service_request,
        at=min(at, requested) if requested is not None else at,
        sla_start=sla_start or requested,
        actor=actor,
    )


# --- Transitions


def _assign(
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
    _check("assign", work_order)
    from_status = work_order.status
    left_team_id = work_order.team_id
    work_order.status = WorkOrderStatus.ASSIGNED
    work_order.team = team
    work_order.assignee = assignee
    work_order.assigned_at = at
    work_order.updated_at = at
    _save(work_order, "status", "team", "assignee", "assigned_at")
    _event(
        work_order=work_order,
        kind=WorkOrderEventKind.ASSIGNED,
        at=at,
        actor=actor,
        from_status=from_status,
        to_status=work_order.status,
        note=note,
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
    note = _note(note)
    public_note = _note(public_note, field="public_note")
    if team is not None and team.department_id != work_order.department_id:
        raise InvalidInput("The team belongs to another department.", field="team")
    if team is not None and not team.active:
        raise InvalidInput("The team is not active.", field="team")
    with transaction.atomic():
        service_request, locked = _lock(work_order)
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
        _assign(
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


def work_order_start(
    *,
    work_order: WorkOrder,
    actor: User = None,
    note: str = "",
    public_note: str = "",
    at: datetime | None = None,
) -> WorkOrder:
    note = _note(note)
    public_note = _note(public_note, field="public_note")
    with transaction.atomic():
        service_request, locked = _lock(work_order)
        _check("start", locked)
        now = at or timezone.now()
        from_status = locked.status
        locked.status = WorkOrderStatus.IN_PROGRESS
        locked.started_at = locked.started_at or now
        locked.updated_at = now
        _save(locked, "status", "started_at")
        _event(
            work_order=locked,
            kind=WorkOrderEventKind.STARTED,
            at=now,
            actor=actor,
            from_status=from_status,
            to_status=locked.status,
            note=note,
        )
        _follow(
            service_request,
            "start",
            actor=actor,
            public_note=public_note or "A crew is working on it.",
            at=now,
        )
    return locked


def work_order_hold(
    *,
    work_order: WorkOrder,
    reason: str,
    note: str = "",
    actor: User = None,
    at: datetime | None = None,
    public_note: str = "",
) -> WorkOrder:
    """Puts the order on hold (waiting for parts, weather...): its SLA clock stops.
    ``public_note`` (optional) tells the resident why."""
    if reason not in HoldReason.values:
        choices = ", ".join(HoldReason.values)
        raise InvalidInput(f"Unknown hold reason {reason!r}; one of {choices}.", field="reason")
    note = _note(note, required=reason == HoldReason.OTHER)
    public_note = _note(public_note, field="public_note")
    with transaction.atomic():
        service_request, locked = _lock(work_order)
        _check("hold", locked)
        now = at or timezone.now()
        from_status = locked.status
        WorkOrderHold.objects.create(
            work_order=locked, reason=reason, note=note, from_status=from_status, started_at=now
        )
        locked.status = WorkOrderStatus.ON_HOLD
        locked.updated_at = now
        _save(locked, "status")
        _event(
            work_order=locked,
            kind=WorkOrderEventKind.HELD,
            at=now,
            actor=actor,
            from_status=from_status,
            to_status=locked.status,
            note=note,
            data={"reason": reason},
        )
        _public_note_add(service_request, actor=actor, public_note=public_note, at=now)
    return locked


def work_order_resume(
    *,
    work_order: WorkOrder,
    actor: User = None,
    note: str = "",
    at: datetime | None = None,
    public_note: str = "",
) -> WorkOrder:
    """Ends the hold: back to the status before it, with the due times (and the resident's
    expected date) moved by the time paused, in business or calendar hours as the order's
    turnaround counts. ``public_note`` (optional) tells the resident."""
    note = _note(note)
    public_note = _note(public_note, field="public_note")
    with transaction.atomic():
        service_request, locked = _lock(work_order)
        _check("resume", locked)
        now = at or timezone.now()
        hold = (
            WorkOrderHold.objects.select_for_update()
            .filter(work_order=locked, ended_at__isnull=True)
            .first()
        )
        target = hold.from_status if hold is not None else WorkOrderStatus.IN_PROGRESS
        if target not in RESUME_TARGETS:
            target = WorkOrderStatus.IN_PROGRESS
        paused = timedelta(0)
        fields = ["status"]
        if hold is not None:
            calendar = business_calendar_get(department=locked.department)
            business = locked.turnaround_business_hours
            paused = duration_between(
                start=hold.started_at, end=now, business_hours=business, calendar=calendar
            )
            hold.ended_at = now
            hold.paused_seconds = int(paused.total_seconds())
            hold.save(update_fields=["ended_at", "paused_seconds"])
            for name in ("due_at", "escalate_again_at"):
                value = getattr(locked, name)
                if value is not None:
                    setattr(
                        locked,
                        name,
                        duration_add(
                            start=value, duration=paused, business_hours=business, calendar=calendar
                        ),
                    )
                    fields.append(name)
        from_status = locked.status
        locked.status = target
        locked.updated_at = now
        _save(locked, *fields)
        _event(
            work_order=locked,
            kind=WorkOrderEventKind.RESUMED,
            at=now,
            actor=actor,
            from_status=from_status,
            to_status=target,
            note=note,
            data={
                "paused_seconds": int(paused.total_seconds()),
                "due_at": locked.due_at.isoformat() if locked.due_at else None,
            },
        )
        _expected_at_sync(service_request, locked.due_at)
        _public_note_add(service_request, actor=actor, public_note=public_note, at=now)
    return locked


def work_order_note_add(
    *,
    work_order: WorkOrder,
    actor: User = None,
    public_note: str = "",
    note: str = "",
    at: datetime | None = None,
) -> WorkOrder:
    """A note from the crew on an open order, written to the request's history: the
    resident sees ``public_note`` (track page, timeline); ``note`` is internal. At least one
    is needed. A closed or cancelled order takes no more notes (409)."""
    public_note = _note(public_note, field="public_note")
    note = _note(note)
    if not public_note and not note:
        raise InvalidInput("Write a note (public_note or note).", field="public_note")
    with transaction.atomic():
        service_request, locked = _lock(work_order)
        if locked.status not in NOTE_STATUSES:
            raise IllegalTransition(action="add a note to", current_status=locked.status)
        _public_note_add(
            service_request,
            actor=actor,
            public_note=public_note,
            internal_note=note,
            at=at or timezone.now(),
        )
    return locked


# --- Proof photos and completion


def _uploads_check(photos: list[bytes]) -> list[CheckedUpload]:
    if len(photos) > settings.PHOTO_MAX_PER_REQUEST:
        raise InvalidInput(f"At most {settings.PHOTO_MAX_PER_REQUEST} photos.", field="photos")
    checked = []
    for index, data in enumerate(photos):
        try:
            checked.append(photo_upload_check(data=data))
        except PhotoRejected as exc:
            raise InvalidInput(
                f"Photo {index + 1}: {exc.message}", field="photos", status_code=exc.status
            ) from exc
    return checked


def _proof_attach(
    *,
    service_request: ServiceRequest,
    work_order: WorkOrder,
    upload: CheckedUpload,
    number: int,
    actor: User,
    at: datetime,
) -> tuple[ProofPhoto, bool]:
    """Attaches one proof photo and checks its EXIF data; the same bytes again are the
    same photo (a retried upload)."""
    photo, _ = photo_attach(service_request=service_request, upload=upload, kind=PhotoKind.PROOF)
    if photo.kind != PhotoKind.PROOF:
        raise InvalidInput(
            f"Photo {number} is one of the resident's photos of the problem, not a photo of the "
            "finished work.",
            field="photos",
        )
    existing = ProofPhoto.objects.filter(photo=photo).first()
    if existing is not None:
        if existing.work_order_id != work_order.pk:
            raise InvalidInput(
                f"Photo {number} was already sent as proof for an earlier work order.",
                field="photos",
            )
        return existing, False
    exif = proof_exif_read(data=upload.data, default_tz=settings.TIME_ZONE)
    check = proof_check(
        taken_at=exif.taken_at,
        gps=exif.gps,
        requested_at=service_request.requested_at,
        request_location=service_request.location,
        max_distance_m=settings.PROOF_PHOTO_MAX_DISTANCE_M,
    )
    proof = ProofPhoto.objects.create(
        work_order=work_order,
        photo=photo,
        uploaded_by=actor_user(actor),
        created_at=at,
        taken_at=exif.taken_at,
        location=Point(*exif.gps, srid=4326) if exif.gps else None,
        distance_m=check.distance_m,
        verified=check.verified,
        reasons=check.reasons,
    )
    _event(
        work_order=work_order,
        kind=WorkOrderEventKind.PROOF_ADDED,
        at=at,
        actor=actor,
        data={"photo": photo.pk, "verified": check.verified, "reasons": check.reasons},
    )
    return proof, True


def _proofs_attach(
    *,
    service_request: ServiceRequest,
    work_order: WorkOrder,
    uploads: list[CheckedUpload],
    actor: User,
    at: datetime,
) -> list[int]:
    """Attaches the uploads; the ids of the photos that are new (to process)."""
    created_photo_ids = []
    for number, upload in enumerate(uploads, start=1):
        proof, created = _proof_attach(
            service_request=service_request,
            work_order=work_order,
            upload=upload,
            number=number,
            actor=actor,
            at=at,
        )
        if created:
            created_photo_ids.append(proof.photo_id)
    return created_photo_ids


def work_order_proof_add(
    *,
    work_order: WorkOrder,
    photos: list[bytes],
    actor: User = None,
    at: datetime | None = None,
) -> list[ProofPhoto]:
    """Adds proof photos before completing (a crew uploading as it goes). Sending the same
    photo again adds nothing."""
    if not photos:
        raise InvalidInput("Send at least one photo.", field="photos")
    uploads = _uploads_check(photos)
    with transaction.atomic():
        service_request, locked = _lock(work_order)
        if locked.status not in PROOF_STATUSES:
            raise IllegalTransition(action="add proof photos to", current_status=locked.status)
        created = _proofs_attach(
            service_request=service_request,
            work_order=locked,
            uploads=uploads,
            actor=actor,
            at=at or timezone.now(),
        )
        photo_process_enqueue(photo_ids=created)
        return list(locked.proofs.select_related("photo").order_by("created_at", "id"))


@dataclass
class CompletionResult:
    work_order: WorkOrder
    replayed: bool = False
    proofs: list[ProofPhoto] = field(default_factory=list)


def work_order_complete(
    *,
    work_order: WorkOrder,
    actor: User = None,
    proof_photos: list[bytes] | None = None,
    note: str = "",
    idempotency_key: str | None = None,
    at: datetime | None = None,
    public_note: str = "",
) -> CompletionResult:
    """Completes the order; at least one proof photo (sent now or before) is required.

    Each proof photo is checked against the request (taken after it was created, within
    ``PROOF_PHOTO_MAX_DISTANCE_M`` of it). When none passes, the order still completes but
    is flagged for a supervisor's review with the reasons. ``on_time`` is decided here and
    kept. The request closes as resolved with ``public_note`` (or else ``note``) as its public
    closing note. A retry with the same ``idempotency_key`` returns the completed order
    (``replayed``)."""
    note = _note(note)
    public_note = _note(public_note, field="public_note")
    key = (idempotency_key or "").strip() or None
    if key is not None and len(key) > KEY_MAX:
        raise InvalidInput(f"At most {KEY_MAX} characters.", field="Idempotency-Key")
    uploads = _uploads_check(proof_photos or [])
    with transaction.atomic():
        service_request, locked = _lock(work_order)
        if key is not None and locked.completion_key == key:
            proofs = list(locked.proofs.select_related("photo").order_by("created_at", "id"))
            return CompletionResult(work_order=locked, replayed=True, proofs=proofs)
        _check("complete", locked)
        now = at or timezone.now()
        created = _proofs_attach(
            service_request=service_request, work_order=locked, uploads=uploads, actor=actor, at=now
        )
        proofs = list(locked.proofs.select_related("photo").order_by("created_at", "id"))
        if not proofs:
            raise ProofRequired()
        from_status = locked.status
        locked.status = WorkOrderStatus.COMPLETED
        locked.completed_at = now
        locked.on_time = now <= locked.due_at if locked.due_at is not None else None
        locked.completion_note = note
        locked.completion_key = key
        locked.updated_at = now
        fields = ["status", "completed_at", "on_time", "completion_note", "completion_key"]
        if not any(proof.verified for proof in proofs):
            locked.review_required = True
            locked.review_reasons = [
                f"Photo {number}: {reason}"
                for number, proof in enumerate(proofs, start=1)
                for reason in proof.reasons
            ]
            fields += ["review_required", "review_reasons"]
        _save(locked, *fields)
        _event(
            work_order=locked,
            kind=WorkOrderEventKind.COMPLETED,
            at=now,
            actor=actor,
            from_status=from_status,
            to_status=locked.status,
            note=note,
            data={"on_time": locked.on_time, "proof_photos": [p.photo_id for p in proofs]},
        )
        if locked.review_required:
            _event(
                work_order=locked,
                kind=WorkOrderEventKind.REVIEW_FLAGGED,
                at=now,
                actor=actor,
                data={"reasons": locked.review_reasons},
            )
        # Photo processing is queued first, so that the closing message (queued by the
        # request's close) finds the photo ready when the worker is quick enough.
        photo_process_enqueue(photo_ids=created)
        _follow(
            service_request,
            "close",
            actor=actor,
            public_note=public_note or note or DEFAULT_CLOSING_NOTE,
            reason=CloseReason.RESOLVED,
            at=now,
        )
    return CompletionResult(work_order=locked, proofs=proofs)


def _cancel(
    *,
    work_order: WorkOrder,
    actor: User,
    note: str,
    at: datetime,
    data: dict[str, Any] | None = None,
) -> None:
    _check("cancel", work_order)
    from_status = work_order.status
    work_order.status = WorkOrderStatus.CANCELLED
    work_order.cancelled_at = at
    work_order.updated_at = at
    fields = ["status", "cancelled_at"]
    hold = WorkOrderHold.objects.filter(work_order=work_order, ended_at__isnull=True)
    hold.update(ended_at=at)
    _save(work_order, *fields)
    _event(
        work_order=work_order,
        kind=WorkOrderEventKind.CANCELLED,
        at=at,
        actor=actor,
        from_status=from_status,
        to_status=work_order.status,
        note=note,
        data=data,
    )


def work_order_cancel(
    *,
    work_order: WorkOrder,
    actor: User = None,
    note: str = "",
    close_reason: str = CloseReason.CANCELLED,
    public_note: str = "",
    at: datetime | None = None,
) -> WorkOrder:
    """Cancels the order and closes its request with ``close_reason`` (not the city's
    responsibility, cannot locate, or cancelled); ``public_note`` tells the resident why."""
    if close_reason not in CANCEL_CLOSE_REASONS:
        choices = ", ".join(CANCEL_CLOSE_REASONS)
        raise InvalidInput(
            f"Unknown close reason {close_reason!r}; one of {choices}.", field="close_reason"
        )
    note = _note(note)
    public_note = _note(public_note, field="public_note")
    with transaction.atomic():
        service_request, locked = _lock(work_order)
        now = at or timezone.now()
        _cancel(
            work_order=locked, actor=actor, note=note, at=now, data={"close_reason": close_reason}
        )
        if service_request.status in REQUEST_OPEN_STATUSES:
            service_request_close(
                service_request=service_request,
                reason=close_reason,
                actor=actor,
                public_note=public_note,
                internal_note=note,
                at=now,
            )
    return locked


# --- Review of proof photos


def work_order_review_resolve(
    *,
    work_order: WorkOrder,
    decision: str,
    actor: User = None,
    note: str = "",
    at: datetime | None = None,
) -> WorkOrder:
    """A supervisor's verdict on a flagged completion: accepted, or sent back (the request
    reopens with a new work order)."""
    if decision not in ReviewDecision.values:
        choices = ", ".join(ReviewDecision.values)
        raise InvalidInput(f"Unknown decision {decision!r}; one of {choices}.", field="decision")
    note = _note(note)
    with transaction.atomic():
        service_request, locked = _lock(work_order)
        if not locked.review_required or locked.reviewed_at is not None:
            raise Conflict("This work order is not waiting for a proof review.", field="review")
        now = at or timezone.now()
        locked.reviewed_at = now
        locked.reviewed_by = actor_user(actor)
        locked.review_decision = decision
        locked.updated_at = now
        _save(locked, "reviewed_at", "reviewed_by", "review_decision")
        _event(
            work_order=locked,
            kind=WorkOrderEventKind.REVIEWED,
            at=now,
            actor=actor,
            note=note,
            data={"decision": decision},
        )
        if decision == ReviewDecision.REOPENED and service_request.status == Status.CLOSED:
            _reopen(
                service_request=service_request,
                actor=actor,
                public_note="We checked the crew's photos and are sending a crew back.",
                internal_note=note,
                channel="",
                at=now,
            )
    return locked


# --- Requests: reopening, closing by staff, re-routing, merging


def _active_work_order(service_request: ServiceRequest) -> WorkOrder | None:
    return (
        WorkOrder.objects.select_for_update()
        .filter(service_request=service_request, status__in=OPEN_STATUSES)
        .first()
    )


def _reopen(
    *,
    service_request: ServiceRequest,
    actor: User,
    public_note: str,
    internal_note: str,
    channel: str,
    at: datetime,
) -> WorkOrder:
    reopened = service_request_reopen(
        service_request=service_request,
        actor=actor,
        channel=channel,
        public_note=public_note,
        internal_note=internal_note,
        at=at,
    )
    active = _active_work_order(reopened)
    if active is not None:
        return active
    return _create(
        service_request=reopened, at=at, sla_start=at, actor=actor, data={"reopened": True}
    )


def service_request_reopen_for_work(
    *,
    service_request: ServiceRequest,
    actor: User = None,
    public_note: str = "",
    internal_note: str = "",
    channel: str = "",
    at: datetime | None = None,
) -> WorkOrder:
    """Reopens a closed request and gives it a new work order whose SLA clock starts now
    (or keeps the open one it may still have). Raises the request's ``IllegalTransition``
    when it is not closed."""
    with transaction.atomic():
        locked = ServiceRequest.objects.select_for_update().get(pk=service_request.pk)
        return _reopen(
            service_request=locked,
            actor=actor,
            public_note=_note(public_note, field="public_note"),
            internal_note=_note(internal_note),
            channel=channel,
            at=at or timezone.now(),
        )


def service_request_close_for_staff(
    *,
    service_request: ServiceRequest,
    reason: str,
    actor: User = None,
    public_note: str = "",
    at: datetime | None = None,
) -> ServiceRequest:
    """Staff close a request themselves (the admin's close actions): its open work order is
    cancelled and the request closed with ``reason``. Raises the request's
    ``IllegalTransition`` when it is closed already."""
    if reason == CloseReason.DUPLICATE:
        raise ValueError("Close a duplicate with service_request_merge")
    with transaction.atomic():
        locked = ServiceRequest.objects.select_for_update().get(pk=service_request.pk)
        now = at or timezone.now()
        if locked.status in REQUEST_OPEN_STATUSES:
            active = _active_work_order(locked)
            if active is not None:
                _cancel(
                    work_order=active,
                    actor=actor,
                    note="The request was closed by staff.",
                    at=now,
                    data={"close_reason": reason},
                )
        return service_request_close(
            service_request=locked, reason=reason, actor=actor, public_note=public_note, at=now
        )


def service_request_change_type(
    *,
    service_request: ServiceRequest,
    service_type: ServiceType,
    actor: User = None,
    note: str = "",
    at: datetime | None = None,
) -> WorkOrder | None:
    """Staff reclassify a request: the service type changes and the request is re-routed.
    Its open work order is cancelled and a new one created for the new service's route, its
    SLA counted from now. Both steps write events. The same type again changes nothing."""
    if not service_type.active:
        raise InvalidInput(
            f"There is no active service {service_type.service_code!r}.", field="service_code"
        )
    note = _note(note)
    with transaction.atomic():
        locked = ServiceRequest.objects.select_for_update().get(pk=service_request.pk)
        if locked.status == Status.CLOSED:
            raise IllegalTransition(
                action="change the service of", current_status=locked.status, entity="request"
            )
        if locked.service_type_id == service_type.pk:
            return _active_work_order(locked)
        now = at or timezone.now()
        old = locked.service_type
        locked.service_type = service_type
        locked.updated_at = now
        locked.save(update_fields=["service_type", "updated_at"])
        service_request_event_create(
            service_request=locked,
            kind=EventKind.NOTE,
            actor=actor,
            internal_note=f"Service changed from {old.service_code} to "
            f"{service_type.service_code}." + (f" {note}" if note else ""),
            at=now,
        )
        active = _active_work_order(locked)
        previous = None
        if active is not None:
            previous = active.pk
            _cancel(
                work_order=active,
                actor=actor,
                note=note or "Re-routed: the request's service changed.",
                at=now,
                data={
                    "rerouted": True,
                    "from_service": old.service_code,
                    "to_service": service_type.service_code,
                },
            )
        return _create(
            service_request=locked,
            at=now,
            sla_start=now,
            actor=actor,
            data={"rerouted_from": previous, "from_service": old.service_code},
        )


def service_request_merge(
    *,
    service_request: ServiceRequest,
    into: ServiceRequest,
    actor: User = None,
    note: str = "",
    at: datetime | None = None,
) -> ServiceRequest:
    """Merges a duplicate into its original: the duplicate's open work order is cancelled,
    the duplicate is closed as a duplicate of ``into``, and its reporter (and its own
    followers) follow the original from now on."""
    if service_request.pk == into.pk:
        raise InvalidInput("A request cannot be merged into itself.", field="into")
    note = _note(note)
    with transaction.atomic():
        # Both rows locked, lower id first: two merges never wait on each other crosswise.
        locked = {
            sr.pk: sr
            for sr in ServiceRequest.objects.select_for_update()
            .filter(pk__in=[service_request.pk, into.pk])
            .order_by("pk")
        }
        duplicate, original = locked[service_request.pk], locked[into.pk]
        if duplicate.status == Status.CLOSED:
            raise IllegalTransition(
                action="merge", current_status=duplicate.status, entity="request"
            )
        if original.status == Status.CLOSED:
            raise Conflict(
                f"{original.public_id} is closed; merge into an open request.", field="into"
            )
        now = at or timezone.now()
        active = _active_work_order(duplicate)
        if active is not None:
            _cancel(
                work_order=active,
                actor=actor,
                note=note or f"Merged into {original.public_id}.",
                at=now,
                data={"merged_into": original.public_id},
            )
        closed = service_request_close(
            service_request=duplicate,
            reason=CloseReason.DUPLICATE,
            duplicate_of=original,
            actor=actor,
            public_note=f"This problem was reported already as {original.public_id}. We have "
            "merged your report into it: you will get its updates from now on.",
            internal_note=note,
            at=now,
        )
        email = duplicate.contact_email or (
            duplicate.reporter.email if duplicate.reporter is not None else ""
        )
        if email or duplicate.reporter_id is not None:
            service_request_follower_add(
                service_request=original,
                user=duplicate.reporter,
                email=email,
                via=duplicate,
                at=now,
            )
        for follower in RequestFollower.objects.filter(service_request=duplicate):
            service_request_follower_add(
                service_request=original,
                user=follower.user,
                email=follower.email,
                via=duplicate,
                at=now,
            )
        service_request_event_create(
            service_request=original,
            kind=EventKind.NOTE,
            actor=actor,
            internal_note=f"{duplicate.public_id} was merged into this request."
            + (f" {note}" if note else ""),
            at=now,
        )
    return closed
