"""Web Push, from the server side, without a browser vendor's push service: browsers
subscribe through /mobile/v1/push/..., status changes made through the services go out
through the outbox and Celery (eager here) to a local HTTPS stand-in for the push service
(tests/mobile_api/push_service.py), which checks the VAPID signature and decrypts the payload
with the subscription's keys (RFC 8291)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from backend.ratelimit import counters_clear
from backend.service_requests.messaging import PUSH, status_notify
from backend.service_requests.models import ResidentNotification, ServiceRequestEvent
from backend.service_requests.tasks import RETRY_ON
from mobile_api.models import Device
from mobile_api.push import PushMessage, PushServiceBusy
from mobile_api.services import push_send
from mobile_api.status_pushes import status_push_targets
from tests.mobile_api.push_service import PushServiceStandIn, b64e, point, vapid_pair
from tests.openapi import assert_matches_schema
from tests.workorders.factories import Staff, good_proof, order_of, request_make, user_make
from workorders.services import work_order_assign, work_order_complete, work_order_start

pytestmark = pytest.mark.django_db

KEY = "/mobile/v1/push/vapid-public-key"
SUBSCRIPTIONS = "/mobile/v1/push/subscriptions"
DEFAULT_HOSTS = [
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "*.push.services.mozilla.com",
    "web.push.apple.com",
    "*.notify.windows.com",
]
TTL = 3600


@pytest.fixture
def push_service(settings: Any, tmp_path: Any) -> Iterator[PushServiceStandIn]:
    """The stand-in, allowed as a push host, trusted through its own CA, and the site's VAPID
    pair made by the test."""
    service = PushServiceStandIn(tmp_path)
    private, public = vapid_pair()
    settings.WEB_PUSH_VAPID_PRIVATE_KEY = private
    settings.WEB_PUSH_VAPID_PUBLIC_KEY = public
    settings.WEB_PUSH_SUBJECT = "mailto:it@311.example.org"
    settings.WEB_PUSH_ALLOWED_HOSTS = [*DEFAULT_HOSTS, f"127.0.0.1:{service.port}"]
    settings.WEB_PUSH_CA_BUNDLE = str(service.ca_path)
    settings.WEB_PUSH_TTL = TTL
    service.vapid_public_key = public
    service.ttl = TTL
    counters_clear()
    yield service
    service.stop()


def _subscribe(client: APIClient, subscription: dict[str, Any], **extra: Any) -> Any:
    return client.post(SUBSCRIPTIONS, {**subscription, **extra}, format="json")


def _reporter() -> User:
    return user_make("rita", email="rita.reporter@example.org", first_name="Rita")


def _reporter_signed_in() -> tuple[User, APIClient]:
    """Rita, and a client signed in as her."""
    rita = _reporter()
    client = APIClient()
    client.force_authenticate(rita)
    return rita, client


def _filed_by(user: User | None, **kwargs: Any) -> Any:
    return request_make(
        reporter=user,
        contact_name="Rita Reporter",
        contact_email="rita.reporter@example.org",
        contact_phone="617-555-0142",
        **kwargs,
    )


# --- The key


def test_the_public_key_is_served_and_503_when_not_configured(
    api: APIClient, settings: Any
) -> None:
    settings.WEB_PUSH_VAPID_PRIVATE_KEY = ""
    missing = api.get(KEY)
    assert missing.status_code == 503
    assert "not configured" in missing.json()["errors"]["public_key"][0]
    private, public = vapid_pair()
    settings.WEB_PUSH_VAPID_PRIVATE_KEY = private
    settings.WEB_PUSH_VAPID_PUBLIC_KEY = ""  # derived from the private key
    answer = api.get(KEY)
    assert answer.status_code == 200
    assert answer.json() == {"public_key": public}
    assert_matches_schema(answer.json(), path=KEY, method="get", status=200)


# --- Delivery


def test_status_changes_reach_the_reporters_browser_decrypted_once_each(
    catalog: None,
    staff: Staff,
    push_service: PushServiceStandIn,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Given a signed-in resident who turned on updates in this browser
    rita, client = _reporter_signed_in()
    browser = push_service.subscription("rita")
    answer = _subscribe(client, browser)
    assert answer.status_code == 201, answer.content
    assert_matches_schema(answer.json(), path=SUBSCRIPTIONS, method="post", status=201)
    assert answer.json()["account"] is True and answer.json()["service_request_id"] is None
    # And her request
    sr = _filed_by(rita)
    order = order_of(sr)
    # When the crew take it on and finish it (outbox, then Celery, eagerly)
    with django_capture_on_commit_callbacks(execute=True):
        work_order_assign(
            work_order=order, team=staff.team, actor=staff.supervisor, public_note="On our list."
        )
    with django_capture_on_commit_callbacks(execute=True):
        work_order_start(
            work_order=order_of(sr), actor=staff.crew, public_note="A crew is on the way."
        )
    with django_capture_on_commit_callbacks(execute=True):
        work_order_complete(work_order=order_of(sr), actor=staff.crew, proof_photos=[good_proof()])
    # Then the push service got each status message, signed and encrypted as it should be
    assert push_service.problems() == []
    payloads = push_service.payloads(browser["endpoint"])
    track = f"/track/{sr.public_id}"
    tag = f"city311-{sr.public_id}"
    assert payloads[:2] == [
        {
            "title": f"city311: {sr.public_id} has been acknowledged",
            "body": "On our list.",
            "url": track,
            "tag": tag,
        },
        {
            "title": f"city311: work on {sr.public_id} has started",
            "body": "A crew is on the way.",
            "url": track,
            "tag": tag,
        },
    ]
    closed = ServiceRequestEvent.objects.get(service_request=sr, to_status="closed")
    assert payloads[2:] == [
        {
            "title": f"city311: {sr.public_id} is closed",
            "body": closed.public_note or f"city311: {sr.public_id} is closed",
            "url": track,
            "tag": tag,
        }
    ]
    # And nothing personal is in them (the decrypted bytes, not only the parsed fields)
    for record in push_service.received:
        for secret in ("rita.reporter@example.org", "Rita Reporter", "617-555-0142", "Rita"):
            assert secret.encode() not in record.raw
    # And the claims were those of this site
    assert {r.claims["sub"] for r in push_service.received} == {"mailto:it@311.example.org"}
    # When the task runs again for every event (a retry): nothing more goes out
    events = ServiceRequestEvent.objects.filter(service_request=sr).order_by("pk")
    sent_before = len(push_service.received)
    for event in events:
        assert status_notify(event_id=event.pk).phones_sent == 0
    assert len(push_service.received) == sent_before == 3


def test_a_subscription_the_push_service_calls_gone_is_deleted_without_error(
    catalog: None,
    staff: Staff,
    push_service: PushServiceStandIn,
    django_capture_on_commit_callbacks: Any,
) -> None:
    rita, client = _reporter_signed_in()
    gone = push_service.subscription("old-phone", gone=True)
    kept = push_service.subscription("new-phone")
    assert _subscribe(client, gone).status_code == 201
    assert _subscribe(client, kept).status_code == 201
    sr = _filed_by(rita)
    with django_capture_on_commit_callbacks(execute=True):
        work_order_assign(work_order=order_of(sr), team=staff.team, actor=staff.supervisor)
    # The push service was asked (410), the row is gone, the other browser got its message
    assert [r.status for r in push_service.received if r.path.startswith("/gone/")] == [410]
    assert not Device.objects.filter(push_token=gone["endpoint"]).exists()
    assert Device.objects.filter(push_token=kept["endpoint"]).exists()
    assert len(push_service.payloads(kept["endpoint"])) == 1
    assert push_service.problems() == []


def test_a_busy_push_service_leaves_the_marker_unsent_for_the_retry(
    catalog: None,
    staff: Staff,
    push_service: PushServiceStandIn,
    django_capture_on_commit_callbacks: Any,
) -> None:
    rita, client = _reporter_signed_in()
    browser = push_service.subscription("rita")
    assert _subscribe(client, browser).status_code == 201
    device = Device.objects.get(push_token=browser["endpoint"])
    sr = _filed_by(rita)
    with django_capture_on_commit_callbacks(execute=False):  # the task does not run yet
        work_order_assign(work_order=order_of(sr), team=staff.team, actor=staff.supervisor)
    event = ServiceRequestEvent.objects.get(service_request=sr, to_status="acknowledged")
    # When the push service answers 429
    push_service.busy.add(browser["endpoint"].removeprefix(push_service.origin))
    with pytest.raises(PushServiceBusy) as raised:
        status_notify(event_id=event.pk)
    # Then the task's retry covers it, and no marker says "sent" (its transaction rolled back)
    assert isinstance(raised.value, RETRY_ON)
    assert not ResidentNotification.objects.filter(
        service_request=sr, medium=PUSH, recipient=f"device:{device.pk}", sent_at__isnull=False
    ).exists()
    # When the retry finds the push service well again: sent, once
    push_service.busy.clear()
    assert status_notify(event_id=event.pk).phones_sent == 1
    assert status_notify(event_id=event.pk).phones_sent == 0
    assert [r.status for r in push_service.received] == [429, 201]
    assert len(push_service.payloads(browser["endpoint"])) == 1


def test_an_anonymous_subscription_hears_about_its_request_only(
    catalog: None,
    staff: Staff,
    api: APIClient,
    push_service: PushServiceStandIn,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # Given two anonymous reports, and a browser that asked for updates on the first
    first, second = _filed_by(None), _filed_by(None)
    browser = push_service.subscription("anonymous")
    answer = _subscribe(api, browser, service_request_id=first.public_id)
    assert answer.status_code == 201, answer.content
    assert answer.json()["service_request_id"] == first.public_id
    assert answer.json()["account"] is False
    # When both change
    with django_capture_on_commit_callbacks(execute=True):
        work_order_assign(work_order=order_of(first), team=staff.team, actor=staff.supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        work_order_assign(work_order=order_of(second), team=staff.team, actor=staff.supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        work_order_start(work_order=order_of(second), actor=staff.crew)
    # Then the browser heard about the first only
    titles = [p["title"] for p in push_service.payloads(browser["endpoint"])]
    assert titles == [f"city311: {first.public_id} has been acknowledged"]
    assert push_service.problems() == []


def test_subscribing_again_moves_the_binding_and_delete_forgets_it(
    catalog: None, api: APIClient, push_service: PushServiceStandIn
) -> None:
    first, second = _filed_by(None), _filed_by(None)
    browser = push_service.subscription("again")
    assert _subscribe(api, browser, service_request_id=first.public_id).status_code == 201
    assert _subscribe(api, browser, service_request_id=second.public_id).status_code == 201
    device = Device.objects.get(push_token=browser["endpoint"])
    assert device.service_request_id == second.pk and device.platform == "web"
    gone = api.delete(SUBSCRIPTIONS, {"endpoint": browser["endpoint"]}, format="json")
    assert gone.status_code == 200 and gone.json() == {"deleted": True}
    assert_matches_schema(gone.json(), path=SUBSCRIPTIONS, method="delete", status=200)
    assert not Device.objects.filter(push_token=browser["endpoint"]).exists()
    again = api.delete(SUBSCRIPTIONS, {"endpoint": browser["endpoint"]}, format="json")
    assert again.json() == {"deleted": False}


def test_long_endpoints_are_kept_whole(
    catalog: None, resident_api: APIClient, push_service: PushServiceStandIn
) -> None:
    browser = push_service.subscription("long" * 225)  # real endpoints can pass 512 characters
    assert len(browser["endpoint"]) > 900
    assert _subscribe(resident_api, browser).status_code == 201
    assert Device.objects.get().push_token == browser["endpoint"]


# --- Refusals


def _valid_keys() -> dict[str, str]:
    return {"p256dh": b64e(point(ec.generate_private_key(ec.SECP256R1()))), "auth": b64e(b"0" * 16)}


def _off_curve_point() -> str:
    return b64e(b"\x04" + b"\x01" * 64)


REFUSALS = [
    ("http://fcm.googleapis.com/fcm/send/abc", {}, "endpoint"),
    ("https://evil.example.com/fcm/send/abc", {}, "endpoint"),
    ("https://10.0.0.1/fcm/send/abc", {}, "endpoint"),
    ("https://169.254.169.254/latest/meta-data", {}, "endpoint"),
    ("https://[::1]/push", {}, "endpoint"),
    ("https://user:secret@fcm.googleapis.com/fcm/send/abc", {}, "endpoint"),
    ("https://fcm.googleapis.com@evil.example.com/fcm/send/abc", {}, "endpoint"),
    ("https://fcm.googleapis.com\\@evil.example.com/fcm/send/abc", {}, "endpoint"),
    ("https://fcm.googleapis.com:8443/fcm/send/abc", {}, "endpoint"),
    ("https://fcm.googleapis.com.evil.example.com/fcm/send/abc", {}, "endpoint"),
    ("https://evilpush.services.mozilla.com/wpush/v2/abc", {}, "endpoint"),
    ("https://push.services.mozilla.com.evil.example.com/wpush", {}, "endpoint"),
    ("https://fcm.googleapis.com/fcm/send/abc#fragment", {}, "endpoint"),
    ("https://fcm.googleapis.com/fcm/send/a b", {}, "endpoint"),
    ("https://fcm.googleapis.com/" + "a" * 2100, {}, "endpoint"),
    ("https://fcm.googleapis.com/fcm/send/abc", {"p256dh": "BAAA"}, "keys.p256dh"),
    ("https://fcm.googleapis.com/fcm/send/abc", {"p256dh": "not base64!"}, "keys.p256dh"),
    ("https://fcm.googleapis.com/fcm/send/abc", {"p256dh": _off_curve_point()}, "keys.p256dh"),
    ("https://fcm.googleapis.com/fcm/send/abc", {"auth": b64e(b"x" * 15)}, "keys.auth"),
    ("https://fcm.googleapis.com/fcm/send/abc", {"auth": "%%%"}, "keys.auth"),
]


@pytest.mark.parametrize(("endpoint", "keys", "field"), REFUSALS)
def test_bad_subscriptions_are_refused_naming_the_field(
    catalog: None,
    resident_api: APIClient,
    push_service: PushServiceStandIn,
    endpoint: str,
    keys: dict[str, str],
    field: str,
) -> None:
    body = {"endpoint": endpoint, "keys": {**_valid_keys(), **keys}}
    answer = resident_api.post(SUBSCRIPTIONS, body, format="json")
    assert answer.status_code == 400, answer.content
    assert field in answer.json()["errors"], answer.json()
    assert not Device.objects.exists()
    assert push_service.received == []  # nothing was ever fetched


def test_the_stand_ins_address_is_allowed_only_on_its_listed_port(
    catalog: None, resident_api: APIClient, push_service: PushServiceStandIn
) -> None:
    other_port = push_service.port + 1 if push_service.port < 65535 else push_service.port - 1
    body = {"endpoint": f"https://127.0.0.1:{other_port}/push/x", "keys": _valid_keys()}
    assert resident_api.post(SUBSCRIPTIONS, body, format="json").status_code == 400
    body["endpoint"] = f"https://127.0.0.1:{push_service.port}/push/x"
    assert resident_api.post(SUBSCRIPTIONS, body, format="json").status_code == 201


@pytest.mark.parametrize(
    "endpoint",
    [
        "https://fcm.googleapis.com/fcm/send/dGVzdA:APA91b",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAA",
        "https://autopush.push.services.mozilla.com/wpush/v2/gAAAAA",
        "https://web.push.apple.com/QGx0ZXN0",
        "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAB",
        "https://FCM.googleapis.com:443/fcm/send/abc",
    ],
)
def test_the_browser_vendors_push_services_are_accepted(
    catalog: None, resident_api: APIClient, settings: Any, endpoint: str
) -> None:
    private, public = vapid_pair()
    settings.WEB_PUSH_VAPID_PRIVATE_KEY, settings.WEB_PUSH_VAPID_PUBLIC_KEY = private, public
    counters_clear()
    body = {"endpoint": endpoint, "keys": _valid_keys()}
    answer = resident_api.post(SUBSCRIPTIONS, body, format="json")
    assert answer.status_code == 201, answer.content


def test_unknown_or_missing_request_is_refused(
    catalog: None, api: APIClient, resident_api: APIClient, push_service: PushServiceStandIn
) -> None:
    browser = push_service.subscription("x")
    unknown = _subscribe(api, browser, service_request_id="SR-1999-000001")
    assert unknown.status_code == 400
    assert "service_request_id" in unknown.json()["errors"]
    anonymous = _subscribe(api, browser)
    assert anonymous.status_code == 400
    assert "service_request_id" in anonymous.json()["errors"]
    # Signed in, no request is needed: the account's requests and follows
    assert _subscribe(resident_api, browser).status_code == 201


def test_not_configured_refuses_subscriptions_with_503(
    catalog: None, resident_api: APIClient, settings: Any
) -> None:
    settings.WEB_PUSH_VAPID_PRIVATE_KEY = ""
    counters_clear()
    body = {"endpoint": "https://fcm.googleapis.com/fcm/send/abc", "keys": _valid_keys()}
    assert resident_api.post(SUBSCRIPTIONS, body, format="json").status_code == 503


def test_session_callers_need_the_csrf_token(
    catalog: None, resident: User, push_service: PushServiceStandIn
) -> None:
    browser = push_service.subscription("session")
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(resident)
    refused = client.post(SUBSCRIPTIONS, browser, format="json")
    assert refused.status_code == 403
    assert not Device.objects.exists()
    token = "a" * 32
    client.cookies["csrftoken"] = token
    accepted = client.post(SUBSCRIPTIONS, browser, format="json", HTTP_X_CSRFTOKEN=token)
    assert accepted.status_code == 201, accepted.content
    assert Device.objects.get().user_id == resident.pk


def test_subscriptions_are_rate_limited(
    catalog: None, api: APIClient, settings: Any, push_service: PushServiceStandIn
) -> None:
    settings.RATELIMIT_INTAKE_IP = "2/60"
    sr = _filed_by(None)
    answers = [
        _subscribe(api, push_service.subscription(f"n{n}"), service_request_id=sr.public_id)
        for n in range(3)
    ]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert answers[2].has_header("Retry-After")


def test_the_devices_of_a_request_are_read_in_one_query(
    catalog: None, push_service: PushServiceStandIn, api: APIClient
) -> None:
    sr = _filed_by(_reporter())
    for n in range(3):
        _subscribe(api, push_service.subscription(f"q{n}"), service_request_id=sr.public_id)
    with CaptureQueriesContext(connection) as queries:
        targets = status_push_targets(service_request=sr)
    assert len(targets) == 3 and all(t.platform == "web" and t.p256dh for t in targets)
    assert len([q for q in queries.captured_queries if "mobile_api_device" in q["sql"]]) == 1


def test_a_web_device_registered_without_keys_is_skipped_not_an_error(
    catalog: None,
    staff: Staff,
    resident: User,
    resident_api: APIClient,
    push_service: PushServiceStandIn,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # /mobile/v1/devices takes platform "web" with a bare token (no keys to encrypt to)
    endpoint = push_service.subscription("bare")["endpoint"]
    registered = resident_api.post(
        "/mobile/v1/devices", {"platform": "web", "push_token": endpoint}, format="json"
    )
    assert registered.status_code == 201
    sr = _filed_by(resident)
    with django_capture_on_commit_callbacks(execute=True):
        work_order_assign(work_order=order_of(sr), team=staff.team, actor=staff.supervisor)
    assert push_service.received == []  # nothing sent, and the status change went through
    assert ServiceRequestEvent.objects.filter(service_request=sr, to_status="acknowledged")


def test_push_send_reaches_the_users_browser_by_web_push(
    catalog: None,
    resident: User,
    resident_api: APIClient,
    push_service: PushServiceStandIn,
    django_capture_on_commit_callbacks: Any,
) -> None:
    browser = push_service.subscription("direct")
    assert _subscribe(resident_api, browser).status_code == 201
    message = PushMessage("Hello", "A message for your phone", url="/me/", tag="city311-me")
    with django_capture_on_commit_callbacks(execute=True):
        assert push_send(user_id=resident.pk, message=message) == 1
    assert push_service.payloads(browser["endpoint"]) == [
        {"title": "Hello", "body": "A message for your phone", "url": "/me/", "tag": "city311-me"}
    ]
    assert push_service.problems() == []
