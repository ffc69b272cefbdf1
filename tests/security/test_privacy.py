"""Privacy: reporters with unique marker names, e-mails and phones file through the real
intake (mobile app signed in and anonymous, web form, Open311); every public answer is then
scanned for the markers — Open311 JSON and XML, the mobile API's public views, the web pages,
the open-data export, the chat API's answers to other conversations and the websocket pushes
of /ws/requests/ — and none is found. Served photos carry no EXIF (nor XMP, nor comment)."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from rest_framework.test import APIClient

from backend.intake.services import PhotoUpload
from backend.photos.models import Photo, ProcessingState
from backend.photos.services import photo_process
from tests.conftest import BOSTON, web_report_form
from tests.factories import submit_result
from tests.photos.images import with_all_metadata
from tests.realtime.conftest import communicator
from tests.security.conftest import fresh_address, open311_form
from tests.workorders.factories import Staff, order_of, staff_make, user_make
from workorders.services import work_order_assign, work_order_start

MARKERS = {
    "mobile": ("Quillon Marrowby", "quillon.marrowby@marker.example", "617-555-0141"),
    "account": ("Ysolde Brackwater", "ysolde.brackwater@marker.example", ""),
    "web": ("Tamsin Oakhallow", "tamsin.oakhallow@marker.example", "617-555-0142"),
    "open311": ("Corvin Ashgrove", "corvin.ashgrove@marker.example", "617-555-0143"),
    "partner": ("Perpetua Windlestraw", "perpetua.windlestraw@marker.example", ""),
}


def markers() -> list[str]:
    found = [value for group in MARKERS.values() for value in group if value]
    # First and last names apart too (Open311 takes them apart), and the e-mails' local parts.
    found += [part for name, _, _ in MARKERS.values() for part in name.split()]
    found += [email.split("@")[0] for _, email, _ in MARKERS.values()]
    return found


def assert_clean(where: str, body: bytes | str) -> None:
    text = body.decode() if isinstance(body, bytes) else body
    leaked = [m for m in markers() if m.lower() in text.lower()]
    assert leaked == [], f"{where} shows {leaked}"


def seed(catalog: None) -> list[str]:
    """Files one request per channel through the real intake; returns their ids."""
    ids = []
    mobile = APIClient(REMOTE_ADDR=fresh_address()).post(
        "/mobile/v1/requests",
        {
            "service_code": "pothole",
            "lat": BOSTON[0],
            "long": BOSTON[1],
            "attributes": {"size": "large"},
            "description": "Deep hole",
            "contact": dict(zip(("name", "email", "phone"), MARKERS["mobile"], strict=True)),
        },
        format="json",
    )
    assert mobile.status_code == 201, mobile.content
    ids.append(mobile.json()["service_request_id"])
    name, email, _ = MARKERS["account"]
    account = user_make(email, first_name=name.split()[0], last_name=name.split()[1])
    signed_in = APIClient(REMOTE_ADDR=fresh_address())
    signed_in.force_authenticate(account)
    mine = signed_in.post(
        "/mobile/v1/requests",
        {
            "service_code": "streetlight",
            "lat": BOSTON[0],
            "long": BOSTON[1],
            "attributes": {"problem": "out"},
        },
        format="json",
    )
    assert mine.status_code == 201, mine.content
    ids.append(mine.json()["service_request_id"])
    name, email, phone = MARKERS["web"]
    web = Client(REMOTE_ADDR=fresh_address()).post(
        "/report",
        web_report_form(
            lat=str(BOSTON[0] + 0.01),
            contact_name=name,
            contact_email=email,
            contact_phone=phone,
            photos=SimpleUploadedFile("p.jpg", with_all_metadata(), "image/jpeg"),
        ),
    )
    assert web.status_code == 302, web.content
    ids.append(web["Location"].split("/track/")[1].split("?")[0])
    from backend.open311.services import api_key_create

    key = api_key_create(name="privacy", channel="open311", raw="privacy-key").raw
    name, email, phone = MARKERS["open311"]
    first, last = name.split()
    filed = APIClient(REMOTE_ADDR=fresh_address()).post(
        "/open311/v2/requests.json",
        open311_form(
            key,
            lat=str(BOSTON[0] - 0.01),
            first_name=first,
            last_name=last,
            email=email,
            phone=phone,
        ),
    )
    assert filed.status_code == 200, filed.content
    ids.append(filed.json()[0]["service_request_id"])
    # A partner's resident update on it, published by staff: its text is public, its author
    # is not (Open311 servicerequestupdates, the request's pages).
    from backend.service_requests.comments import resident_comment_publish
    from backend.service_requests.models import ResidentComment

    partner = api_key_create(
        name="privacy partner", channel="open311", raw="privacy-partner", may_post_updates=True
    ).raw
    name, email, _ = MARKERS["partner"]
    first, last = name.split()
    update = APIClient(REMOTE_ADDR=fresh_address()).post(
        "/open311/v2/servicerequestupdates.json",
        {
            "api_key": partner,
            "service_request_id": ids[-1],
            "update_id": "privacy-1",
            "status": "OPEN",
            "description": "Still there",
            "first_name": first,
            "last_name": last,
            "email": email,
        },
    )
    assert update.status_code == 200, update.content
    resident_comment_publish(comment=ResidentComment.objects.get(), actor=None)
    for photo in Photo.objects.filter(state=ProcessingState.PENDING):
        photo_process(photo_id=photo.pk)  # what the worker does after commit
    return ids


def public_paths(ids: list[str]) -> list[str]:
    paths = [
        "/open311/v2/discovery.json",
        "/mobile/v1/services",
        f"/mobile/v1/requests/nearby?service_code=pothole&lat={BOSTON[0]}&long={BOSTON[1]}",
        f"/report/nearby?service_code=pothole&lat={BOSTON[0]}&long={BOSTON[1]}",
        "/open-data/requests.csv",
        "/open-data/requests.geojson",
        "/open-data/services.json",
        "/open-data/services.csv",
        # The Atom feeds (backend/alerts/feeds.py)
        "/feeds/requests.atom",
        f"/feeds/requests.atom?lat={BOSTON[0]}&long={BOSTON[1]}&radius_m=1000",
        "/feeds/requests.atom?service_code=pothole",
    ]
    for fmt in ("json", "xml"):
        paths += [
            f"/open311/v2/services.{fmt}",
            f"/open311/v2/services/pothole.{fmt}",
            f"/open311/v2/requests.{fmt}",
            f"/open311/v2/requests.{fmt}?service_request_id={','.join(ids)}",
            f"/open311/v2/servicerequestupdates.{fmt}",
        ]
        paths += [f"/open311/v2/requests/{public_id}.{fmt}" for public_id in ids]
    for public_id in ids:
        paths += [
            f"/mobile/v1/requests/{public_id}",
            f"/mobile/v1/requests/{public_id}/timeline",
            f"/track/{public_id}",
            f"/track/{public_id}/live",
            f"/track?id={public_id}",
        ]
    return paths


@pytest.mark.django_db
def test_no_public_answer_shows_a_reporters_contact_data(catalog: None) -> None:
    ids = seed(catalog)
    staff = staff_make()
    for public_id in ids[:2]:  # some requests move on: their events are public
        from backend.service_requests.models import ServiceRequest

        order = order_of(ServiceRequest.objects.get(public_id=public_id))
        work_order_start(
            work_order=work_order_assign(work_order=order, team=staff.team, actor=staff.supervisor),
            actor=staff.crew,
        )
    browser = Client(REMOTE_ADDR=fresh_address())
    scanned = 0
    for path in public_paths(ids):
        response = browser.get(path)
        assert response.status_code in (200, 302), (path, response.status_code)
        body = b"".join(getattr(response, "streaming_content", [])) or response.content
        assert_clean(path, body)
        scanned += 1
    # Someone else's conversation with the assistant (an answer, or the polite 503).
    chat = APIClient(REMOTE_ADDR=fresh_address()).post(
        "/api/v1/chat/", {"message": "what was reported near me?"}, format="json"
    )
    assert chat.status_code in (200, 503)
    assert_clean("chat", chat.content)
    assert scanned >= 40
    # The markers are really stored (so the scan could have found them).
    from backend.service_requests.models import ServiceRequest

    stored = json.dumps(
        list(ServiceRequest.objects.values("contact_name", "contact_email", "contact_phone"))
    )
    assert "Quillon Marrowby" in stored and "corvin.ashgrove@marker.example" in stored
    with pytest.raises(AssertionError):  # and the scan finds them where they are
        assert_clean("the database", stored)


@pytest.mark.django_db
def test_served_photos_carry_no_metadata(catalog: None) -> None:
    submitted = submit_result(
        photos=[PhotoUpload(data=with_all_metadata()), PhotoUpload(data=with_all_metadata("PNG"))]
    )
    photos = list(Photo.objects.filter(service_request=submitted.service_request))
    assert len(photos) == 2
    for photo in photos:
        photo_process(photo_id=photo.pk)
        photo.refresh_from_db()
        assert photo.state == ProcessingState.READY
        for field in (photo.display, photo.thumbnail):
            data = field.read()
            with Image.open(io.BytesIO(data)) as img:
                assert len(img.getexif()) == 0, field.name
                assert not {"exif", "xmp", "comment", "XML:com.adobe.xmp"} & set(img.info)
            assert b"Exif\x00\x00" not in data and b"secret" not in data
            assert b"TestPhone" not in data  # the camera make of the EXIF block


# --- Websocket pushes


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
@pytest.mark.django_db(transaction=True)
async def test_websocket_pushes_carry_no_contact_data(catalog: None, settings: Any) -> None:
    import uuid

    default = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {
        "default": {
            **default,
            "CONFIG": {**default["CONFIG"], "prefix": f"p{uuid.uuid4().hex[:8]}_"},
        }
    }
    name, email, phone = MARKERS["mobile"]

    def make() -> tuple[Any, Staff]:
        sr = submit_result(
            contact_name=name, contact_email=email, contact_phone=phone
        ).service_request
        return sr, staff_make()

    sr, staff = await database_sync_to_async(make)()
    client = communicator(f"/ws/requests/{sr.public_id}/")
    connected, _ = await client.connect()
    assert connected
    messages = [await client.receive_json_from(timeout=5)]
    order = await database_sync_to_async(order_of)(sr)
    order = await database_sync_to_async(work_order_assign)(
        work_order=order, team=staff.team, actor=staff.supervisor
    )
    messages.append(await client.receive_json_from(timeout=5))
    await database_sync_to_async(work_order_start)(work_order=order, actor=staff.crew)
    messages.append(await client.receive_json_from(timeout=5))
    await client.disconnect()
    assert [m["type"] for m in messages] == ["snapshot", "status", "status"]
    assert_clean("/ws/requests/", json.dumps(messages))


# --- Moderated content (hidden requests, redacted descriptions)

REMOVED = "Gideon Thistlewaite of 4 Birch Lane did this"


def _text(response: Any) -> str:
    return (b"".join(getattr(response, "streaming_content", [])) or response.content).decode()


@pytest.mark.django_db
def test_no_public_answer_shows_hidden_requests_or_removed_text(
    catalog: None, settings: Any
) -> None:
    """Served once (the Open311 lists memoized), then one request hidden and another's
    description redacted: no public answer shows either any more."""
    from backend.process_cache import process_caches_clear
    from backend.service_requests.models import ServiceRequest
    from backend.service_requests.moderation import service_request_hide, service_request_redact

    settings.OPEN311_LIST_CACHE_SECONDS = 300
    process_caches_clear()
    ids = seed(catalog)
    hidden = submit_result(description="Hidden request's own words").service_request
    redacted = submit_result(description=f"Broken bench. {REMOVED}.").service_request
    ids += [hidden.public_id, redacted.public_id]
    browser = Client(REMOTE_ADDR=fresh_address())
    try:
        before = "".join(_text(browser.get(path)) for path in public_paths(ids))
        assert hidden.public_id in before and REMOVED in before  # served, and memoized
        service_request_hide(service_request=hidden, reason="Abusive")
        service_request_redact(service_request=redacted, text=REMOVED, reason="Names someone")
        own = {path for path in public_paths([hidden.public_id]) if hidden.public_id in path}
        scanned = 0
        for path in public_paths(ids):
            response = browser.get(path)
            expected = (404,) if path in own else (200, 302)
            assert response.status_code in expected, (path, response.status_code)
            text = _text(response)
            assert hidden.public_id not in text or path in own, path
            assert "Hidden request's own words" not in text, path
            assert REMOVED not in text and "Thistlewaite" not in text, path
            scanned += 1
        assert scanned >= 50
    finally:
        process_caches_clear()
    # The text is kept, privately, for staff.
    assert REMOVED in ServiceRequest.objects.get(pk=redacted.pk).description_original


@pytest.mark.anyio
@pytest.mark.django_db(transaction=True)
async def test_websocket_of_a_hidden_request_closes_and_pushes_nothing(
    catalog: None, settings: Any
) -> None:
    import uuid

    from backend.service_requests.moderation import service_request_hide

    default = settings.CHANNEL_LAYERS["default"]
    settings.CHANNEL_LAYERS = {
        "default": {
            **default,
            "CONFIG": {**default["CONFIG"], "prefix": f"p{uuid.uuid4().hex[:8]}_"},
        }
    }

    def make() -> tuple[Any, Staff]:
        return submit_result(description="Watched").service_request, staff_make()

    sr, staff = await database_sync_to_async(make)()
    watcher = communicator(f"/ws/requests/{sr.public_id}/")
    connected, _ = await watcher.connect()
    assert connected
    assert (await watcher.receive_json_from(timeout=5))["type"] == "snapshot"
    await database_sync_to_async(service_request_hide)(service_request=sr, reason="Abusive")
    closed = await watcher.receive_output(timeout=5)  # the open socket is closed
    assert closed == {"type": "websocket.close", "code": 4404}

    late = communicator(f"/ws/requests/{sr.public_id}/")
    connected, _ = await late.connect()
    assert connected
    assert await late.receive_output(timeout=5) == {"type": "websocket.close", "code": 4404}

    # A status change of the hidden request is pushed to nobody's public socket.
    from backend.service_requests.messaging import status_push

    order = await database_sync_to_async(order_of)(sr)
    await database_sync_to_async(work_order_assign)(
        work_order=order, team=staff.team, actor=staff.supervisor
    )
    event_id = await database_sync_to_async(
        lambda: sr.events.order_by("-id").values_list("pk", flat=True).first()
    )()
    assert await database_sync_to_async(status_push)(event_id=event_id) is False


@pytest.mark.django_db
def test_alert_messages_carry_no_contact_data(
    catalog: None, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    """Every channel's request reaches an alert subscriber at once and in a digest, by
    e-mail and by push: none of it names a reporter."""
    from django.core import mail
    from django.utils import timezone

    from backend.alerts.delivery import alerts_digest_send
    from backend.alerts.services import alert_subscription_create
    from mobile_api.models import Device
    from mobile_api.push import _backend
    from tests.alerts.conftest import RecordingPushBackend

    settings.MOBILE_PUSH_BACKEND = "tests.alerts.conftest.RecordingPushBackend"
    _backend.cache_clear()
    RecordingPushBackend.sent.clear()
    watcher = user_make("watcher", email="watcher@example.org")
    now = timezone.now()
    Device.objects.create(
        user=watcher, platform="ios", push_token="tok-watcher", created_at=now, last_seen_at=now
    )
    for frequency in ("immediate", "daily"):
        alert_subscription_create(
            user=watcher,
            lat=BOSTON[0],
            long=BOSTON[1],
            radius_m=1000,
            notify_new=True,
            notify_updates=True,
            frequency=frequency,
            by_email=True,
            by_push=True,
        )
    with django_capture_on_commit_callbacks(execute=True):
        ids = seed(catalog)
    staff = staff_make()
    from backend.service_requests.models import ServiceRequest

    for public_id in ids[:2]:  # updates too
        with django_capture_on_commit_callbacks(execute=True):
            order = order_of(ServiceRequest.objects.get(public_id=public_id))
            work_order_assign(
                work_order=order, team=staff.team, actor=staff.supervisor, public_note="On it."
            )
    assert alerts_digest_send() == 1
    alerts = [m for m in mail.outbox if m.to == ["watcher@example.org"]]
    assert len(alerts) >= len(ids) + 1  # one each at once, and the digest
    for message in alerts:
        assert_clean("alert e-mail", f"{message.subject} {message.body} {message.extra_headers}")
    assert len(RecordingPushBackend.sent) >= len(ids) + 1
    for _, _, push in RecordingPushBackend.sent:
        assert_clean("alert push", f"{push.title} {push.body} {push.data} {push.url}")
    _backend.cache_clear()
