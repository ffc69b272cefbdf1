"""Sending messages to residents, once each.

A ``ResidentNotification`` row per (request, message, medium, recipient) is the sent marker:
it is locked while the message goes out and stamped in the same transaction, so a task that
is retried (or run twice) sends nothing it sent before. E-mails go through Django's mail
backend (the console in development); websocket pushes through the Channels layer to the
request's group; phone and browser pushes to whoever the layers above name through the
request domain's hooks (``hooks.status_pushes``: the mobile API's devices), each with its own
marker. Websocket and phone pushes carry only what the public view of a request shows. The
closing message's proof photos and feedback link come through the hooks too (work orders)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backend.channel_push import group_send
from backend.service_requests import hooks
from backend.service_requests.models import (
    CloseReason,
    RequestFollower,
    ResidentNotification,
    ServiceRequest,
    ServiceRequestEvent,
)
from backend.service_requests.notifications import (
    ACKNOWLEDGED,
    CLOSED,
    IN_PROGRESS,
    REOPENED,
    status_message_kind,
    websocket_group,
)

EMAIL = "email"
WEBSOCKET = "websocket"
PUSH = "push"


_MARK_SENT_SQL = f"""
INSERT INTO {ResidentNotification._meta.db_table}
    (service_request_id, kind, medium, recipient, created_at, sent_at)
VALUES (%s, %s, %s, %s, %s, %s)
ON CONFLICT ON CONSTRAINT uniq_resident_notification_to DO NOTHING
RETURNING id
"""  # noqa: S608 - only the table name is interpolated


def _send_once(
    *,
    service_request: ServiceRequest,
    kind: str,
    medium: str,
    recipient: str,
    send: Callable[[], object],
) -> bool:
    """Sends unless the marker says it was sent; True if it sent now. An exception from
    ``send`` leaves the marker unsent (the task's retry sends it).

    The usual case, a message not sent before, is one statement in the transaction: the
    marker is inserted already stamped, then the message goes out; a failure rolls the
    marker back with the transaction. A second sender of the same message waits on the
    unique key until the first commits (then finds it sent) or rolls back (then sends it
    itself). A marker already there (sent, or left unsent) is locked and read as before."""
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(_MARK_SENT_SQL, [service_request.pk, kind, medium, recipient, now, now])
            inserted = cursor.fetchone() is not None
        if not inserted:
            marker = ResidentNotification.objects.select_for_update().get(
                service_request=service_request, kind=kind, medium=medium, recipient=recipient
            )
            if marker.sent_at is not None:
                return False
            marker.sent_at = timezone.now()
            marker.save(update_fields=["sent_at"])
        send()
    return True


def receipt_send(*, service_request_id: int) -> bool:
    """E-mails the reporter the request id and the expected date. True if it sent now."""
    service_request = (
        ServiceRequest.objects.select_related("service_type").filter(pk=service_request_id).first()
    )
    if service_request is None or not service_request.contact_email:
        return False
    with translation.override(service_request.language or "en"):
        name = service_request.service_type.localized_name()
        expected = (
            date_format(timezone.localtime(service_request.expected_at), "l j F Y")
            if service_request.expected_at
            else ""
        )
        body = _("Thank you for your report. Your request number is %(id)s (%(service)s).") % {
            "id": service_request.public_id,
            "service": name,
        }
        if expected:
            body += " " + _("We aim to deal with it by %(date)s.") % {"date": expected}
        subject = _("city311: we received your request %(id)s") % {"id": service_request.public_id}
    return _send_once(
        service_request=service_request,
        kind="receipt",
        medium=EMAIL,
        recipient="",
        send=lambda: send_mail(
            subject=subject,
            message=body,
            from_email=None,
            recipient_list=[service_request.contact_email],
        ),
    )


def status_recipients(*, service_request: ServiceRequest) -> list[str]:
    """The reporter's address and the followers', each once (case-insensitively)."""
    found: dict[str, str] = {}
    reporter = service_request.reporter
    own = service_request.contact_email or (reporter.email if reporter is not None else "")
    if own:
        found.setdefault(own.strip().lower(), own.strip())
    followers = RequestFollower.objects.filter(service_request=service_request).select_related(
        "user"
    )
    for follower in followers:
        email = follower.email or (follower.user.email if follower.user is not None else "")
        if email:
            found.setdefault(email.strip().lower(), email.strip())
    return list(found.values())


# How a closed request's message names its reason, in the resident's language.
CLOSE_REASON_WORDS = {
    CloseReason.RESOLVED: gettext_lazy("resolved"),
    CloseReason.DUPLICATE: gettext_lazy("duplicate"),
    CloseReason.NOT_CITY_RESPONSIBILITY: gettext_lazy("not the city's responsibility"),
    CloseReason.CANNOT_LOCATE: gettext_lazy("cannot locate"),
    CloseReason.CANCELLED: gettext_lazy("cancelled"),
}


@dataclass(frozen=True)
class StatusMessage:
    kind: str
    subject: str
    body: str
    push: dict[str, Any]


def _absolute(url: str) -> str:
    return url if "://" in url else settings.PUBLIC_BASE_URL.rstrip("/") + url


def _closing_extras(event: ServiceRequestEvent) -> tuple[list[str], str]:
    """The finished work's photo URLs (those processed by now) and the feedback link."""
    if event.close_reason != CloseReason.RESOLVED:
        return [], ""
    photos = [_absolute(url) for url in hooks.closing_photo_urls(close_event=event)]
    return photos, hooks.feedback_link(close_event=event)


def status_message_build(*, event: ServiceRequestEvent, kind: str) -> StatusMessage:
    service_request = event.service_request
    public_id = service_request.public_id
    photos: list[str] = []
    feedback_url = ""
    with translation.override(service_request.language or "en"):
        name = service_request.service_type.localized_name()
        values = {"id": public_id, "service": name}
        if kind == ACKNOWLEDGED:
            subject = _("city311: %(id)s has been acknowledged") % values
            lines = [_("Your request %(id)s (%(service)s) has been acknowledged.") % values]
        elif kind == IN_PROGRESS:
            subject = _("city311: work on %(id)s has started") % values
            lines = [_("A crew is working on your request %(id)s (%(service)s).") % values]
        elif kind == REOPENED:
            subject = _("city311: %(id)s has been reopened") % values
            lines = [_("Your request %(id)s (%(service)s) has been reopened.") % values]
        elif kind == CLOSED:
            reason = CloseReason(event.close_reason) if event.close_reason else None
            subject = _("city311: %(id)s is closed") % values
            label = str(CLOSE_REASON_WORDS[reason]) if reason is not None else _("closed")
            lines = [
                _("Your request %(id)s (%(service)s) is closed: %(reason)s.")
                % {**values, "reason": label}
            ]
            photos, feedback_url = _closing_extras(event)
        else:
            raise ValueError(f"unknown status message {kind!r}")
        if event.public_note:
            lines.append(event.public_note)
        if photos:
            lines.append(_("A photo of the finished work:") + " " + " ".join(photos))
        if feedback_url:
            ask = (
                _("Was it fixed? Tell us, and rate our work, at this link (it is yours only):")
                if photos
                else _(
                    "See the photo of the finished work, and tell us: Was it fixed? Tell us, "
                    "and rate our work, at this link (it is yours only):"
                )
            )
            lines.append(f"{ask} {feedback_url}")
        if service_request.expected_at and kind in (ACKNOWLEDGED, IN_PROGRESS, REOPENED):
            expected = date_format(timezone.localtime(service_request.expected_at), "l j F Y")
            lines.append(_("We aim to deal with it by %(date)s.") % {"date": expected})
    push = {
        "type": "request.status",
        "service_request_id": public_id,
        "message": kind,
        "status": event.to_status,
        "close_reason": event.close_reason,
        "public_note": event.public_note,
        "at": event.created_at.isoformat(),
        "expected_at": (
            service_request.expected_at.isoformat() if service_request.expected_at else None
        ),
        "photos": photos,
    }
    return StatusMessage(kind=kind, subject=subject, body="\n\n".join(lines), push=push)


def _push(group: str, message: dict[str, Any]) -> None:
    group_send(group, message)


@dataclass(frozen=True)
class StatusNotifyResult:
    emails_sent: int = 0
    pushed: bool = False
    phones_sent: int = 0


def _push_once(*, service_request: ServiceRequest, marker: str, push: dict[str, Any]) -> bool:
    """The websocket group is public (anyone with the id): a hidden request pushes nothing.
    ``service_request`` is the row just read for this message (``_status_event``)."""
    if service_request.hidden_at is not None:
        return False
    return _send_once(
        service_request=service_request,
        kind=marker,
        medium=WEBSOCKET,
        recipient="",
        send=lambda: _push(websocket_group(public_id=service_request.public_id), push),
    )


def watchers_close(*, public_id: str) -> bool:
    """Closes the public websocket watchers of a request hidden by moderation (code 4404, as
    for an unknown id), if it is still hidden when this runs. True if it sent the close."""
    if ServiceRequest.objects.visible().filter(public_id=public_id).exists():
        return False
    _push(websocket_group(public_id=public_id), {"type": "request.hidden"})
    return True


def _status_event(event_id: int) -> tuple[ServiceRequestEvent, str] | None:
    event = (
        ServiceRequestEvent.objects.select_related(
            "service_request__service_type", "service_request__reporter"
        )
        # No message shows the point: building its geometry was most of this read's cost
        # (the load test's profile, issue 18).
        .defer("service_request__location")
        .filter(pk=event_id)
        .first()
    )
    if event is None:
        return None
    kind = status_message_kind(from_status=event.from_status, to_status=event.to_status)
    if kind is None:
        return None
    return event, kind


def status_push(*, event_id: int) -> bool:
    """The live part of an event's status message: the websocket push alone, at most once.

    Called at commit by the process that made the change, so the watchers of a request see
    it without waiting for the Celery hop; ``status_notify`` (the task) pushes it too if
    this did not get through (the marker is shared), and sends the e-mails and phone
    pushes. True if it pushed now."""
    found = _status_event(event_id)
    if found is None:
        return False
    event, kind = found
    message = status_message_build(event=event, kind=kind)
    return _push_once(
        service_request=event.service_request, marker=f"{kind}:{event.pk}", push=message.push
    )


def status_notify(*, event_id: int) -> StatusNotifyResult:
    """Sends an event's status message to each recipient and to the websocket group, each
    at most once."""
    found = _status_event(event_id)
    if found is None:
        return StatusNotifyResult()
    event, kind = found
    service_request = event.service_request
    message = status_message_build(event=event, kind=kind)
    marker = f"{kind}:{event.pk}"
    # What went out before (the websocket push, almost always, by ``status_push`` at
    # commit): one read instead of a locked marker per message.
    done = set(
        ResidentNotification.objects.filter(
            service_request=service_request, kind=marker, sent_at__isnull=False
        ).values_list("medium", "recipient")
    )
    sent = 0
    for email in status_recipients(service_request=service_request):
        if (EMAIL, email.lower()) in done:
            continue
        sent += _send_once(
            service_request=service_request,
            kind=marker,
            medium=EMAIL,
            recipient=email.lower(),
            send=partial(
                send_mail,
                subject=message.subject,
                message=message.body,
                from_email=None,
                recipient_list=[email],
            ),
        )
    pushed = (WEBSOCKET, "") not in done and _push_once(
        service_request=service_request, marker=marker, push=message.push
    )
    phones = 0
    for delivery in hooks.status_pushes(event=event, subject=message.subject):
        if (PUSH, delivery.recipient) in done:
            continue
        phones += _send_once(
            service_request=service_request,
            kind=marker,
            medium=PUSH,
            recipient=delivery.recipient,
            send=delivery.send,
        )
    return StatusNotifyResult(emails_sent=sent, pushed=pushed, phones_sent=phones)
