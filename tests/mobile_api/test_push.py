"""Phone pushes: a status change reaches the reporter's registered devices once, through the
configured backend, even when the message task runs twice."""

from __future__ import annotations

from typing import Any, ClassVar

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from backend.service_requests.messaging import status_notify
from backend.service_requests.models import ServiceRequestEvent
from backend.service_requests.services import service_request_acknowledge
from mobile_api.models import Device
from mobile_api.push import PushMessage, _backend
from tests.factories import submit

pytestmark = pytest.mark.django_db


class RecordingPushBackend:
    sent: ClassVar[list[tuple[str, str, PushMessage]]] = []

    def send(self, *, platform: str, push_token: str, message: PushMessage) -> None:
        self.sent.append((platform, push_token, message))


@pytest.fixture
def recording(settings: Any) -> Any:
    settings.MOBILE_PUSH_BACKEND = f"{__name__}.RecordingPushBackend"
    _backend.cache_clear()
    RecordingPushBackend.sent.clear()
    yield RecordingPushBackend.sent
    _backend.cache_clear()


def test_status_change_reaches_the_reporters_phone_once(catalog: None, recording: Any) -> None:
    user = get_user_model().objects.create_user("phoneuser", "p@example.org", "pw-123456789")
    now = timezone.now()
    Device.objects.create(
        user=user, platform="android", push_token="tok-123", created_at=now, last_seen_at=now
    )
    other = get_user_model().objects.create_user("other", "o@example.org", "pw-123456789")
    Device.objects.create(
        user=other, platform="ios", push_token="tok-other", created_at=now, last_seen_at=now
    )
    sr = submit(reporter=user)
    service_request_acknowledge(service_request=sr, public_note="On our list.")
    event = ServiceRequestEvent.objects.filter(service_request=sr, to_status="acknowledged").get()
    recording.clear()
    first = status_notify(event_id=event.pk)
    again = status_notify(event_id=event.pk)  # a retried task
    assert first.phones_sent == 1 and again.phones_sent == 0
    assert [(p, t) for p, t, _ in recording] == [("android", "tok-123")]
    message = recording[0][2]
    assert message.body == "On our list."
    assert message.data == {"service_request_id": sr.public_id, "status": "acknowledged"}
