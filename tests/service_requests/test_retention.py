"""Retention (``manage.py retention_apply``): a reporter's contact data is erased everywhere it
lives once the request has been closed for RETENTION_CLOSED_DAYS, not before, not on legal
hold; resident accounts inactive for RETENTION_ACCOUNT_MONTHS are anonymised; a dry run
changes nothing; a second run does nothing; the report counts what was erased."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from backend.catalog.models import Department
from backend.errors import City311Error
from backend.intake.services import PhotoUpload
from backend.outbox.models import OutboxKind, OutboxMessage
from backend.photos.models import Photo, PhotoKind, ProcessingState
from backend.photos.services import private_path
from backend.service_requests.models import (
    AccountErasure,
    Channel,
    CloseReason,
    EventKind,
    RequestFollower,
    ResidentComment,
    ResidentNotification,
    ServiceRequest,
    ServiceRequestEvent,
)
from backend.service_requests.retention import (
    RetentionReport,
    months_before,
    retention_apply,
    service_request_legal_hold_set,
)
from backend.service_requests.selectors import public_events
from backend.service_requests.services import (
    do_service_request_close,
    service_request_follower_add,
)
from backend.service_requests.tasks import retention_apply as retention_apply_task
from chatbot.models import ChatMessage, Conversation, Direction
from mobile_api.models import Device, Platform
from tests.chatbot.factories import chat_messages_add
from tests.conftest import jpeg_bytes
from tests.factories import submit
from workorders.models import ProofPhoto, Team, TeamMember, WorkOrder

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _catalog(catalog: None) -> None:
    """The default catalog (the requests' services, the crews' departments)."""


NAME = "Zebulon Quarrington"
ApplyRun = Callable[..., RetentionReport]

ERASED_KINDS = {
    "requests": 1,
    "request_contacts": 1,
    "notification_recipients": 1,
    "followers": 1,
    "comment_authors": 1,
    "raw_uploads": 1,
    "photo_exif": 2,
    "outbox_payloads": 2,
    "push_subscriptions": 1,
    "chat_messages": 2,
    "proof_exif": 1,
}


@dataclass(frozen=True)
class Markers:
    """A reporter's contact data, unique to one test request (``tag``: two digits)."""

    tag: str

    @property
    def email(self) -> str:
        return f"zeb.{self.tag}.quarrington@example.org"

    @property
    def phone(self) -> str:
        return f"+1 617 555 01{self.tag}"

    @property
    def follower(self) -> str:
        return f"follower.{self.tag}.quarrington@example.org"

    @property
    def endpoint(self) -> str:
        return f"https://push.example.com/send/quarrington-endpoint-{self.tag}"


@dataclass(frozen=True)
class Reported(Markers):
    """A closed request with the reporter's contact data in every place it can live."""

    service_request: ServiceRequest
    raw: Path
    conversation: Conversation

    @property
    def closed_at(self) -> datetime:
        assert self.service_request.closed_at is not None
        return self.service_request.closed_at


def _outbox(**kwargs: Any) -> OutboxMessage:
    return OutboxMessage.objects.create(
        kind=OutboxKind.CALL,
        target="mobile_api.push.push_deliver",
        kwargs=kwargs,
        dispatched_at=timezone.now(),
    )


def _reported(tag: str = "00", *, description: str = "Deep hole") -> Reported:
    markers = Markers(tag)
    email, phone, endpoint = markers.email, markers.phone, markers.endpoint
    service_request = submit(
        "pothole",
        description=description,
        contact_name=NAME,
        contact_email=email,
        contact_phone=phone,
        photos=[PhotoUpload(data=jpeg_bytes(color=(int(tag), 30, 30)))],
    )
    report_photo = service_request.photos.get()
    assert report_photo.state == ProcessingState.PENDING
    raw = private_path(report_photo.raw_path)
    assert raw.is_file()
    here = Point(-71.0589, 42.3601, srid=4326)
    Photo.objects.filter(pk=report_photo.pk).update(
        exif_taken_at=timezone.now(), exif_location=here
    )
    # A crew's proof photo of the work, its check's verdict and its private EXIF copy.
    proof_photo = Photo.objects.create(
        service_request=service_request,
        kind=PhotoKind.PROOF,
        content_hash=tag * 32,
        source_format="JPEG",
        width=10,
        height=10,
        byte_size=100,
        state=ProcessingState.READY,
        exif_taken_at=timezone.now(),
        exif_location=here,
    )
    ProofPhoto.objects.create(
        work_order=WorkOrder.objects.get(service_request=service_request),
        photo=proof_photo,
        created_at=timezone.now(),
        taken_at=timezone.now(),
        location=here,
        distance_m=3.5,
        verified=True,
        reasons=[],
    )
    ResidentNotification.objects.create(
        service_request=service_request, kind="receipt", medium="email", recipient=email
    )
    ResidentNotification.objects.create(
        service_request=service_request, kind="closed:1", medium="push", recipient="device:7"
    )
    service_request_follower_add(service_request=service_request, email=markers.follower)
    ResidentComment.objects.create(
        service_request=service_request,
        channel=Channel.OPEN311,
        text="Still there",
        author_name=NAME,
        author_email=f"comment.{tag}.quarrington@example.org",
        created_at=timezone.now(),
    )
    Device.objects.create(
        platform=Platform.WEB,
        push_token=endpoint,
        p256dh="k",
        auth="a",
        service_request=service_request,
        created_at=timezone.now(),
        last_seen_at=timezone.now(),
    )
    _outbox(to=email)
    _outbox(devices=[["web", endpoint]], message={"title": "Closed"})
    conversation = Conversation.objects.create(
        public_id=f"conv-{service_request.pk}",
        created_at=timezone.now(),
        language="en",
        source="api",
    )
    chat_messages_add(
        conversation,
        [
            (Direction.IN, f"Hi, I am {NAME}, call me on {phone}", {}),
            (Direction.OUT, "", {"filed": service_request.public_id, "photo_attached": False}),
            (Direction.OUT, f"Thanks {NAME}, it is filed.", {}),
        ],
    )
    do_service_request_close(service_request=service_request, reason=CloseReason.RESOLVED)
    service_request.refresh_from_db()
    return Reported(tag, service_request=service_request, raw=raw, conversation=conversation)


def _days_after(reported: Reported, days: int) -> datetime:
    return reported.closed_at + timedelta(days=days)


def _contact_everywhere(reported: Reported) -> list[str]:
    """The places where a marker of the reporter is still found (empty: erased)."""
    service_request = ServiceRequest.objects.get(pk=reported.service_request.pk)
    found = []
    if (
        service_request.contact_name
        or service_request.contact_email
        or service_request.contact_phone
    ):
        found.append("request")
    markers = (NAME, reported.email, reported.phone, reported.follower, reported.endpoint)
    if ResidentNotification.objects.filter(recipient=reported.email).exists():
        found.append("notification")
    if RequestFollower.objects.filter(service_request=service_request).exists():
        found.append("follower")
    if service_request.comments.exclude(author_name="", author_email="").exists():
        found.append("comment")
    outbox_text = " ".join(str(row.kwargs) for row in OutboxMessage.objects.all())
    if any(marker in outbox_text for marker in markers):
        found.append("outbox")
    if Device.objects.filter(push_token=reported.endpoint).exists():
        found.append("device")
    chat_text = " ".join(
        ChatMessage.objects.filter(conversation=reported.conversation).values_list(
            "text", flat=True
        )
    )
    if "Quarrington" in chat_text:
        found.append("chat")
    if reported.raw.exists():
        found.append("raw upload")
    if Photo.objects.filter(service_request=service_request, exif_location__isnull=False).exists():
        found.append("photo exif")
    if ProofPhoto.objects.filter(
        photo__service_request=service_request, location__isnull=False
    ).exists():
        found.append("proof exif")
    events = ServiceRequestEvent.objects.filter(service_request=service_request)
    notes = " ".join(f"{e.public_note} {e.internal_note}" for e in events)
    if any(marker in notes for marker in markers):
        found.append("event")
    return found


@pytest.fixture
def apply(django_capture_on_commit_callbacks: Any) -> ApplyRun:
    """``retention_apply``, running what it leaves for after each batch's commit (the files'
    deletion) as a real run would; a dry run's rolled-back batches leave nothing to run."""

    def run(*, now: datetime, dry_run: bool = False, batch_size: int = 500) -> RetentionReport:
        with django_capture_on_commit_callbacks(execute=True):
            return retention_apply(now=now, dry_run=dry_run, batch_size=batch_size)

    return run


def test_contact_data_is_erased_everywhere_after_the_window_and_not_before(apply: ApplyRun) -> None:
    reported = _reported()
    assert _contact_everywhere(reported) == [
        "request",
        "notification",
        "follower",
        "comment",
        "outbox",
        "device",
        "chat",
        "raw upload",
        "photo exif",
        "proof exif",
    ]

    before = apply(now=_days_after(reported, settings.RETENTION_CLOSED_DAYS - 1))
    assert before.requests == {}
    assert len(_contact_everywhere(reported)) == 10

    report = apply(now=_days_after(reported, settings.RETENTION_CLOSED_DAYS + 1))

    assert _contact_everywhere(reported) == []
    assert {kind: n for kind, n in report.requests.items() if n} == ERASED_KINDS
    service_request = ServiceRequest.objects.get(pk=reported.service_request.pk)
    assert service_request.contact_erased_at is not None
    # What the proof check, the public pages and the analytics need stays.
    proof = ProofPhoto.objects.get(photo__service_request=service_request)
    assert (proof.verified, proof.distance_m, proof.reasons) == (True, 3.5, [])
    assert service_request.description == "Deep hole"
    assert service_request.photos.count() == 2
    assert ChatMessage.objects.filter(conversation=reported.conversation).count() == 3
    assert ResidentNotification.objects.filter(recipient="device:7").exists()
    # One erasure event, internal: never in a public answer.
    erased = service_request.events.get(kind=EventKind.ERASED)
    assert erased.public_note == ""
    assert not public_events(service_request.events.all()).filter(pk=erased.pk).exists()


def test_legal_hold_exempts_a_request_and_needs_a_reason(apply: ApplyRun) -> None:
    held, other = _reported("11"), _reported("12", description="Another hole")
    with pytest.raises(City311Error) as refused:
        service_request_legal_hold_set(service_request=held.service_request, hold=True)
    assert refused.value.field == "legal_hold_reason"
    service_request_legal_hold_set(
        service_request=held.service_request, hold=True, reason="Claim 2026-17 pending"
    )

    report = apply(now=_days_after(held, settings.RETENTION_CLOSED_DAYS + 1))

    assert report.requests["requests"] == 1
    assert _contact_everywhere(other) == []
    assert len(_contact_everywhere(held)) == 10
    held.service_request.refresh_from_db()
    assert held.service_request.contact_email == held.email
    assert held.service_request.contact_erased_at is None
    assert held.raw.exists()
    note = held.service_request.events.get(kind=EventKind.NOTE)
    assert note.internal_note == "Legal hold set: Claim 2026-17 pending"

    # Lifted: the next run erases it.
    service_request_legal_hold_set(service_request=held.service_request, hold=False)
    again = apply(now=_days_after(held, settings.RETENTION_CLOSED_DAYS + 2))
    assert again.requests["requests"] == 1
    held.service_request.refresh_from_db()
    assert held.service_request.contact_email == ""


def test_dry_run_changes_nothing_and_reports_what_a_run_would_do(apply: ApplyRun) -> None:
    reported = _reported()
    now = _days_after(reported, settings.RETENTION_CLOSED_DAYS + 1)
    events = ServiceRequestEvent.objects.count()
    outbox = OutboxMessage.objects.count()

    dry = apply(now=now, dry_run=True)

    assert dry.dry_run is True
    assert {kind: n for kind, n in dry.requests.items() if n} == ERASED_KINDS
    assert len(_contact_everywhere(reported)) == 10
    assert ServiceRequestEvent.objects.count() == events
    assert OutboxMessage.objects.count() == outbox
    assert apply(now=now).requests == dry.requests


def test_a_second_run_does_nothing(apply: ApplyRun) -> None:
    reported = _reported()
    now = _days_after(reported, settings.RETENTION_CLOSED_DAYS + 1)
    apply(now=now)
    events = ServiceRequestEvent.objects.count()

    second = apply(now=now + timedelta(days=1))

    assert second.requests == {}
    assert second.accounts == {}
    assert ServiceRequestEvent.objects.count() == events


def test_batches_cover_every_due_request(apply: ApplyRun) -> None:
    reported = [_reported(f"2{n}", description=f"Hole {n}") for n in range(5)]
    now = max(r.closed_at for r in reported) + timedelta(days=settings.RETENTION_CLOSED_DAYS + 1)

    dry = apply(now=now, dry_run=True, batch_size=2)
    report = apply(now=now, batch_size=2)

    assert dry.requests["requests"] == report.requests["requests"] == 5
    assert report.requests["chat_messages"] == 10
    assert all(_contact_everywhere(r) == [] for r in reported)


# --- Accounts


def _resident(username: str, *, last_login: datetime | None, joined: datetime) -> User:
    user = get_user_model().objects.create_user(
        username=username, email=username, password="a long unused password", first_name="Zeb"
    )
    get_user_model().objects.filter(pk=user.pk).update(last_login=last_login, date_joined=joined)
    return user


def test_inactive_resident_accounts_are_anonymised_and_active_ones_are_not(apply: ApplyRun) -> None:
    now = timezone.now()
    long_ago = now - timedelta(days=800)
    inactive = _resident("old.quarrington@example.org", last_login=long_ago, joined=long_ago)
    never_signed_in = _resident("never.quarrington@example.org", last_login=None, joined=long_ago)
    active = _resident("new.quarrington@example.org", last_login=now, joined=long_ago)
    app_user = _resident("app.quarrington@example.org", last_login=long_ago, joined=long_ago)
    Device.objects.create(
        user=app_user,
        platform=Platform.ANDROID,
        push_token="fcm-token-app-quarrington",
        created_at=long_ago,
        last_seen_at=now - timedelta(days=3),
    )
    crew = _resident("crew.quarrington@example.org", last_login=long_ago, joined=long_ago)
    team = Team.objects.create(
        department=Department.objects.order_by("pk")[0], name="Retention crew"
    )
    TeamMember.objects.create(team=team, user=crew)
    staff = _resident("staff.quarrington@example.org", last_login=long_ago, joined=long_ago)
    get_user_model().objects.filter(pk=staff.pk).update(is_staff=True)
    Device.objects.create(
        user=inactive,
        platform=Platform.IOS,
        push_token="apns-token-old-quarrington",
        created_at=long_ago,
        last_seen_at=long_ago,
    )
    Token.objects.filter(user=inactive).delete()
    Token.objects.create(user=inactive)
    Token.objects.filter(user=inactive).update(created=long_ago)
    filed = submit("pothole", reporter=inactive, contact_name=NAME, contact_email=inactive.email)
    ServiceRequest.objects.filter(pk=filed.pk).update(requested_at=long_ago)

    dry = apply(now=now, dry_run=True)
    assert get_user_model().objects.get(pk=inactive.pk).email == inactive.email
    report = apply(now=now)

    assert report.accounts == dry.accounts
    assert report.accounts["accounts"] == 2
    assert report.accounts["push_subscriptions"] == 1
    assert report.accounts["api_tokens"] == 1
    assert report.accounts["request_contacts"] == 1
    for user in (inactive, never_signed_in):
        user.refresh_from_db()
        assert user.username == f"anonymised-{user.pk}"
        assert (user.email, user.first_name, user.last_name) == ("", "", "")
        assert not user.is_active
        assert not user.has_usable_password()
        assert AccountErasure.objects.filter(user=user).exists()
    for user in (active, app_user, crew, staff):
        user.refresh_from_db()
        assert user.email == user.username and user.is_active
    # Their request keeps its reporter (the history holds), not their contact data.
    filed.refresh_from_db()
    assert filed.reporter_id == inactive.pk
    assert (filed.contact_name, filed.contact_email) == ("", "")
    assert filed.events.filter(kind=EventKind.ERASED).count() == 1
    assert not Device.objects.filter(user=inactive).exists()
    assert not Token.objects.filter(user=inactive).exists()
    assert apply(now=now).accounts == {}


def test_months_before_keeps_the_day_or_the_months_last() -> None:
    at = datetime(2026, 3, 31, 12, 0, tzinfo=timezone.get_current_timezone())
    assert months_before(at, 1) == at.replace(month=2, day=28)
    assert months_before(at, 24) == at.replace(year=2024)
    assert months_before(at, 3) == at.replace(year=2025, month=12)


# --- The command, the nightly task, the admin


def test_the_command_reports_and_its_dry_run_changes_nothing() -> None:
    reported = _reported()
    ServiceRequest.objects.filter(pk=reported.service_request.pk).update(
        closed_at=timezone.now() - timedelta(days=settings.RETENTION_CLOSED_DAYS + 1)
    )
    out = io.StringIO()
    call_command("retention_apply", "--dry-run", stdout=out)
    assert "dry run, nothing changed" in out.getvalue()
    assert "  request_contacts: 1" in out.getvalue()
    assert (
        ServiceRequest.objects.get(pk=reported.service_request.pk).contact_email == reported.email
    )

    out = io.StringIO()
    call_command("retention_apply", stdout=out)
    assert "applied" in out.getvalue()
    assert ServiceRequest.objects.get(pk=reported.service_request.pk).contact_email == ""
    out = io.StringIO()
    call_command("retention_apply", stdout=out)
    assert "nothing to erase" in out.getvalue()


def test_beat_runs_it_nightly() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE["retention-apply"]
    assert entry["task"] == retention_apply_task.name
    assert retention_apply_task.apply().get() == {"requests": {}, "accounts": {}}


def test_staff_set_a_legal_hold_in_the_admin_and_outsiders_cannot(client: Client) -> None:
    reported = _reported()
    url = reverse(
        "admin:service_requests_servicerequest_change", args=[reported.service_request.pk]
    )
    resident = _resident("res.quarrington@example.org", last_login=None, joined=timezone.now())
    client.force_login(resident)
    assert client.post(url, {"legal_hold": "on", "legal_hold_reason": "x"}).status_code == 302
    reported.service_request.refresh_from_db()
    assert reported.service_request.legal_hold is False

    root = get_user_model().objects.create_superuser(username="root", password="unused-pass")
    client.force_login(root)
    page = client.get(url)
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        for bound in (*formset.management_form, *(f for fs in formset.forms for f in fs)):
            if bound.value() is not None:
                data[bound.html_name] = bound.value()
    data["legal_hold"] = "on"
    refused = client.post(url, data)
    assert refused.status_code == 200  # no reason: the form says so
    data["legal_hold_reason"] = "Court order 17"
    assert client.post(url, data).status_code == 302
    reported.service_request.refresh_from_db()
    assert reported.service_request.legal_hold is True
    assert reported.service_request.events.filter(
        kind=EventKind.NOTE, internal_note="Legal hold set: Court order 17", actor=root
    ).exists()
