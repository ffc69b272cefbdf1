"""Residents hear of acknowledged, in progress, closed and reopened: an e-mail to the
reporter and each follower and a push to the request's websocket group, each exactly once
even when the task runs again."""

from __future__ import annotations

import asyncio
import uuid
from smtplib import SMTPServerDisconnected
from typing import Any, ClassVar

import pytest
from asgiref.sync import async_to_sync
from channels.layers import BaseChannelLayer, get_channel_layer
from django.core.mail.backends.base import BaseEmailBackend

from backend.service_requests.messaging import status_notify, status_push
from backend.service_requests.models import (
    CloseReason,
    ResidentNotification,
    ServiceRequestEvent,
    Status,
)
from backend.service_requests.notifications import websocket_group
from backend.service_requests.services import (
    do_service_request_close,
    do_service_request_reopen,
    service_request_follower_add,
)
from tests.outbox import outbox_written
from tests.workorders.factories import Staff, good_proof, order_of, request_make
from workorders.services import work_order_assign, work_order_complete, work_order_start

pytestmark = pytest.mark.django_db

REPORTER = "reporter@example.org"


class FlakyBackend(BaseEmailBackend):
    """A mail server that drops the connection once for each address in ``fail_once``."""

    fail_once: ClassVar[set[str]] = set()
    outbox: ClassVar[list[Any]] = []

    def send_messages(self, email_messages: Any) -> int:
        for message in email_messages:
            for address in message.to:
                if address in self.fail_once:
                    self.fail_once.discard(address)
                    raise SMTPServerDisconnected("connection lost")
            self.outbox.append(message)
        return len(email_messages)


@pytest.fixture
def layer(settings: Any) -> BaseChannelLayer:
    """The real Redis channel layer, under a prefix of this test's own."""
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": [settings.REDIS_URL], "prefix": f"t{uuid.uuid4().hex[:10]}"},
        }
    }
    found = get_channel_layer()
    assert found is not None
    return found


def _listen(layer: BaseChannelLayer, public_id: str) -> str:
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(websocket_group(public_id=public_id), channel)
    return str(channel)


def _next(layer: BaseChannelLayer, channel: str, timeout: float = 3.0) -> dict[str, Any] | None:
    async def receive() -> dict[str, Any] | None:
        try:
            return await asyncio.wait_for(layer.receive(channel), timeout)
        except TimeoutError:
            return None

    return async_to_sync(receive)()


def assign_start_complete(order: Any, staff: Staff, on_commit: Any, *, note: str) -> None:
    """Assigns, starts and completes ``order``, each step committed with its callbacks run."""
    with on_commit(execute=True):
        work_order_assign(work_order=order, team=staff.team, actor=staff.supervisor)
    with on_commit(execute=True):
        work_order_start(work_order=order, actor=staff.crew)
    with on_commit(execute=True):
        work_order_complete(
            work_order=order, actor=staff.crew, proof_photos=[good_proof()], note=note
        )


def _status_event(sr: Any, to_status: str) -> ServiceRequestEvent:
    return ServiceRequestEvent.objects.filter(service_request=sr, to_status=to_status).latest("id")


def _acknowledged_and_listened(
    staff: Staff, layer: BaseChannelLayer
) -> tuple[ServiceRequestEvent, str]:
    """A request of REPORTER's acknowledged by its assignment: its status event, and a
    channel listening to the request's group."""
    sr = request_make(contact_email=REPORTER)
    work_order_assign(work_order=order_of(sr), team=staff.team, actor=staff.supervisor)
    return _status_event(sr, Status.ACKNOWLEDGED), _listen(layer, sr.public_id)


def test_the_whole_story_reaches_the_reporter_once_per_change(
    staff: Staff, mailoutbox: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    sr = request_make(contact_email=REPORTER, contact_name="Rosa Diaz", contact_phone="555")
    order = order_of(sr)

    assign_start_complete(order, staff, django_capture_on_commit_callbacks, note="Filled it.")

    subjects = [m.subject for m in mailoutbox]
    assert subjects == [
        f"city311: {sr.public_id} has been acknowledged",
        f"city311: work on {sr.public_id} has started",
        f"city311: {sr.public_id} is closed",
    ]
    assert all(m.to == [REPORTER] for m in mailoutbox)
    closing = mailoutbox[-1].body
    assert "resolved" in closing and "Filled it." in closing
    assert "A photo of the finished work: http" in closing  # processed before the message
    assert "/feedback/" in closing
    assert ResidentNotification.objects.filter(medium="email", sent_at__isnull=False).count() == 3


def test_a_retried_task_sends_nothing_twice(
    staff: Staff, mailoutbox: list[Any], layer: BaseChannelLayer
) -> None:
    event, channel = _acknowledged_and_listened(staff, layer)

    first = status_notify(event_id=event.pk)
    second = status_notify(event_id=event.pk)

    assert (first.emails_sent, first.pushed) == (1, True)
    assert (second.emails_sent, second.pushed) == (0, False)
    assert len(mailoutbox) == 1
    assert _next(layer, channel) is not None
    assert _next(layer, channel, timeout=0.5) is None  # one push only


def test_a_send_that_failed_half_way_completes_on_retry_without_repeats(
    staff: Staff, settings: Any
) -> None:
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.outbox.clear()
    FlakyBackend.fail_once = {"follower@example.org"}
    sr = request_make(contact_email=REPORTER)
    service_request_follower_add(service_request=sr, email="Follower@Example.org")
    work_order_assign(work_order=order_of(sr), team=staff.team, actor=staff.supervisor)
    event = _status_event(sr, Status.ACKNOWLEDGED)

    with pytest.raises(SMTPServerDisconnected):
        status_notify(event_id=event.pk)  # the reporter's went out, the follower's did not
    result = status_notify(event_id=event.pk)  # Celery's retry

    assert result.emails_sent == 1
    assert sorted(m.to[0].lower() for m in FlakyBackend.outbox) == [
        "follower@example.org",
        REPORTER,
    ]


def test_the_push_carries_only_public_data(staff: Staff, layer: BaseChannelLayer) -> None:
    sr = request_make(
        contact_email=REPORTER,
        contact_name="Rosa Diaz",
        contact_phone="617-555-0199",
        description="Hole outside my house",
    )
    channel = _listen(layer, sr.public_id)
    closed = do_service_request_close(
        service_request=sr,
        reason=CloseReason.CANNOT_LOCATE,
        public_note="Not found.",
        internal_note="Crew says the caller sounded drunk",
    )

    status_notify(event_id=_status_event(closed, Status.CLOSED).pk)
    message = _next(layer, channel)

    assert message is not None
    assert message["type"] == "request.status"
    assert message["service_request_id"] == sr.public_id
    assert (message["message"], message["status"]) == ("closed", "closed")
    assert (message["close_reason"], message["public_note"]) == ("cannot_locate", "Not found.")
    text = repr(message)
    for private in (REPORTER, "Rosa", "617-555-0199", "drunk"):
        assert private not in text


def test_reopened_and_in_progress_are_told_apart(staff: Staff, mailoutbox: list[Any]) -> None:
    sr = request_make(contact_email=REPORTER)
    closed = do_service_request_close(service_request=sr, reason=CloseReason.RESOLVED)
    do_service_request_reopen(service_request=closed, public_note="Back again.")

    status_notify(event_id=_status_event(sr, Status.IN_PROGRESS).pk)

    assert mailoutbox[0].subject == f"city311: {sr.public_id} has been reopened"
    assert "Back again." in mailoutbox[0].body


def test_the_push_made_at_commit_is_not_repeated_by_the_task(
    staff: Staff, mailoutbox: list[Any], layer: BaseChannelLayer
) -> None:
    event, channel = _acknowledged_and_listened(staff, layer)

    assert status_push(event_id=event.pk) is True  # the changing process, at commit
    result = status_notify(event_id=event.pk)  # the task, a moment later

    assert (result.emails_sent, result.pushed) == (1, False)
    pushed = _next(layer, channel)
    assert pushed is not None and pushed["status"] == Status.ACKNOWLEDGED
    assert _next(layer, channel, timeout=0.5) is None  # one push only


def test_the_push_and_the_task_make_few_round_trips(
    staff: Staff, mailoutbox: list[Any], layer: BaseChannelLayer
) -> None:
    """Issue 18: the push at commit reads the event and writes its marker already stamped
    (one insert, in a transaction: three statements); the task that follows reads which
    messages went out in one query and neither locks nor rewrites the push's marker."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    event, _channel = _acknowledged_and_listened(staff, layer)
    marker_table = ResidentNotification._meta.db_table

    with CaptureQueriesContext(connection) as pushing:
        assert status_push(event_id=event.pk) is True
    statements = [q["sql"] for q in pushing.captured_queries]
    assert len([s for s in statements if s.startswith(("SAVEPOINT", "RELEASE"))]) == 2
    work = [s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE"))]
    assert len(work) == 2, work  # the event with its request, the stamped marker
    assert '"location"' not in work[0]  # no message shows the point: not read, not parsed
    assert f"INSERT INTO {marker_table}" in work[1] and "ON CONFLICT" in work[1]

    with CaptureQueriesContext(connection) as notifying:
        result = status_notify(event_id=event.pk)
    assert (result.emails_sent, result.pushed) == (1, False)
    statements = [q["sql"] for q in notifying.captured_queries]
    assert not [s for s in statements if "FOR UPDATE" in s], statements
    websocket = ResidentNotification.objects.get(
        service_request=event.service_request, kind=f"acknowledged:{event.pk}", medium="websocket"
    )
    assert websocket.sent_at is not None
    assert [m.to for m in mailoutbox] == [[REPORTER]]


def test_a_message_whose_send_fails_leaves_no_marker_and_goes_out_next_time(
    staff: Staff, mailoutbox: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The marker is inserted already stamped: a failing send must take it back with it."""
    from backend.service_requests import messaging

    sr = request_make(contact_email=REPORTER)
    work_order_assign(work_order=order_of(sr), team=staff.team, actor=staff.supervisor)
    event = _status_event(sr, Status.ACKNOWLEDGED)

    def mail_away(**kwargs: Any) -> int:
        raise SMTPServerDisconnected("connection lost")

    monkeypatch.setattr(messaging, "send_mail", mail_away)
    with pytest.raises(SMTPServerDisconnected):
        status_notify(event_id=event.pk)
    assert not ResidentNotification.objects.filter(service_request=sr, medium="email").exists()
    monkeypatch.undo()

    assert status_notify(event_id=event.pk).emails_sent == 1
    assert status_notify(event_id=event.pk).emails_sent == 0
    assert [m.to for m in mailoutbox] == [[REPORTER]]


def test_a_push_that_failed_at_commit_goes_out_with_the_task(
    staff: Staff, layer: BaseChannelLayer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from redis.exceptions import ConnectionError as RedisConnectionError

    from backend.service_requests import messaging

    sr = request_make()
    work_order_assign(work_order=order_of(sr), team=staff.team, actor=staff.supervisor)
    event = _status_event(sr, Status.ACKNOWLEDGED)
    channel = _listen(layer, sr.public_id)
    real_push = messaging._push

    def redis_away(group: str, message: dict[str, Any]) -> None:
        raise RedisConnectionError("channel layer away")

    monkeypatch.setattr(messaging, "_push", redis_away)
    with pytest.raises(RedisConnectionError):
        status_push(event_id=event.pk)
    monkeypatch.setattr(messaging, "_push", real_push)

    assert status_notify(event_id=event.pk).pushed is True
    pushed = _next(layer, channel)
    assert pushed is not None and pushed["status"] == Status.ACKNOWLEDGED


def test_only_status_changes_are_queued(
    staff: Staff, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks() as callbacks:
        sr = request_make()  # intake: no contact e-mail, so no receipt either
    assert _resident_messages(callbacks) == []
    with django_capture_on_commit_callbacks() as callbacks:
        work_order_assign(work_order=order_of(sr), team=staff.team, actor=staff.supervisor)
    live, queued = _resident_messages(callbacks)  # one status change: its push, its task
    assert (live.target, queued.target) == (
        "backend.service_requests.messaging.status_push",
        "backend.service_requests.tasks.service_request_notify",
    )
    assert [live.kwargs["event_id"]] == queued.args


def _resident_messages(callbacks: list[Any]) -> list[Any]:
    """The residents' messages only: not the teams' live queue pushes
    (tests/workorders/test_live.py) nor the analytics live counters."""
    return [
        m for m in outbox_written(callbacks) if m.target.startswith("backend.service_requests.")
    ]


def test_without_any_address_only_the_push_goes_out(staff: Staff, mailoutbox: list[Any]) -> None:
    sr = request_make()
    work_order_assign(work_order=order_of(sr), team=staff.team, actor=staff.supervisor)

    result = status_notify(event_id=_status_event(sr, Status.ACKNOWLEDGED).pk)

    assert (result.emails_sent, result.pushed, mailoutbox) == (0, True, [])


@pytest.mark.parametrize(
    ("language", "acknowledged", "started", "closed", "reason", "ask"),
    [
        (
            "es",
            "city311: {id} ha sido recibida por el departamento",
            "city311: comenzó el trabajo en {id}",
            "city311: {id} está cerrada",
            "Su solicitud {id} (Bache) está cerrada: resuelta.",
            "¿Quedó arreglado?",
        ),
        (
            "vi",
            "city311: {id} đã được tiếp nhận",
            "city311: đã bắt đầu xử lý {id}",
            "city311: {id} đã đóng",
            "Yêu cầu {id} (Ổ gà) của bạn đã đóng: đã giải quyết.",
            "Sự cố đã được khắc phục chưa?",
        ),
    ],
)
def test_a_resident_hears_in_the_language_they_reported_in(
    staff: Staff,
    mailoutbox: list[Any],
    django_capture_on_commit_callbacks: Any,
    language: str,
    acknowledged: str,
    started: str,
    closed: str,
    reason: str,
    ask: str,
) -> None:
    sr = request_make(contact_email=REPORTER, language=language)
    order = order_of(sr)
    assign_start_complete(order, staff, django_capture_on_commit_callbacks, note="Listo.")

    subjects = [m.subject for m in mailoutbox]
    assert subjects == [
        template.format(id=sr.public_id) for template in (acknowledged, started, closed)
    ]
    closing = mailoutbox[-1].body
    assert reason.format(id=sr.public_id) in closing
    assert ask in closing and "/feedback/" in closing
    assert "Your request" not in closing and "Was it fixed" not in closing
