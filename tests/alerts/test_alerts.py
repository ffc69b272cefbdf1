"""Area alerts: subscribe (double opt-in by e-mail, none for a signed-in resident), match in
PostGIS after the commit, deliver by e-mail (the locmem backend) and push (a recording phone
backend), daily digests, one-click unsubscribe, /me/, retention, and every refusal naming its
field."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.contrib.gis.geos import Point
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from backend.alerts.delivery import alerts_digest_send
from backend.alerts.models import AlertDelivery, AlertSubscription, Frequency
from backend.alerts.selectors import NEW, UPDATE, alert_subscription_ids_matching
from backend.alerts.services import AlertError, alert_subscription_create
from backend.alerts.tokens import CONFIRM, MANAGE, UNSUBSCRIBE, alert_token_make
from backend.catalog.models import ServiceType
from backend.service_requests import hooks
from backend.service_requests.models import ServiceRequest, ServiceRequestQuerySet
from backend.service_requests.retention import retention_apply
from backend.service_requests.services import service_request_acknowledge
from mobile_api.models import Device
from tests.alerts.conftest import CITY_HALL, FENWAY, WARD_1, WARD_2, email_alert
from tests.factories import submit
from tests.workorders.factories import user_make

pytestmark = pytest.mark.django_db

REPORTER = {
    "contact_name": "Rowena Quillfeather",
    "contact_email": "rowena.quillfeather@example.org",
    "contact_phone": "617-555-0199",
}


def _filed(capture: Any, at: tuple[float, float] = CITY_HALL, **kwargs: Any) -> ServiceRequest:
    """A request filed through the intake, its after-commit work run (outbox, Celery eager)."""
    with capture(execute=True):
        return submit(lat=at[0], long=at[1], description="Deep hole", **{**REPORTER, **kwargs})


def _link(body: object, kind: str) -> str:
    match = re.search(rf"https?://[^/\s]+(/alerts/{kind}/\S+)", str(body))
    assert match, body
    return match.group(1)


def _sent_to(address: str) -> list[mail.EmailMessage]:
    return [m for m in mail.outbox if address in m.to]


# --- Subscribe, confirm, match, deliver


def test_an_email_alert_is_confirmed_first_then_matches_nearby_requests_only(
    wards: None, django_capture_on_commit_callbacks: Any
) -> None:
    # Given a visitor who subscribes to new requests within 500 m of City Hall
    browser = Client()
    with django_capture_on_commit_callbacks(execute=True):
        answer = browser.post(
            "/alerts/subscribe",
            {
                "email": "ann.alert@example.org",
                "lat": CITY_HALL[0],
                "long": CITY_HALL[1],
                "radius_m": 500,
                "notify_new": "on",
                "frequency": "immediate",
                "by_email": "on",
            },
        )
    assert answer.status_code == 200, answer.content
    assert b"Check your e-mail" in answer.content
    (confirmation,) = _sent_to("ann.alert@example.org")
    subscription = AlertSubscription.objects.get()
    assert subscription.confirmed_at is None and subscription.radius_m == 500
    # When a request is filed there before the link is opened, nothing is sent
    mail.outbox.clear()
    _filed(django_capture_on_commit_callbacks)
    assert _sent_to("ann.alert@example.org") == []
    # Then, confirmed, the next one nearby is sent at once, with the public fields only
    confirmed = browser.get(_link(confirmation.body, "confirm"))
    assert confirmed.status_code == 200 and b"Your alert is on" in confirmed.content
    near = _filed(django_capture_on_commit_callbacks)
    far = _filed(django_capture_on_commit_callbacks, at=FENWAY)
    (alert,) = _sent_to("ann.alert@example.org")
    assert near.public_id in alert.subject and near.public_id in alert.body
    assert far.public_id not in alert.body
    assert "Pothole" in alert.subject and "Deep hole" in alert.body
    assert f"/track/{near.public_id}" in alert.body
    for value in REPORTER.values():
        assert value not in alert.body and value not in alert.subject
    # And it carries its one-click unsubscribe link, in the body and in the headers
    unsubscribe = _link(alert.body, "unsubscribe")
    assert alert.extra_headers["List-Unsubscribe"].endswith(f"{unsubscribe}>")
    assert alert.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert AlertDelivery.objects.filter(subscription=subscription).count() == 1


def test_a_signed_in_residents_area_alert_needs_no_opt_in_and_reaches_her_phone(
    wards: None, pushes: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    rita = user_make("rita", email="rita@example.org")
    now = timezone.now()
    Device.objects.create(
        user=rita, platform="android", push_token="tok-rita", created_at=now, last_seen_at=now
    )
    browser = Client()
    browser.force_login(rita)
    with django_capture_on_commit_callbacks(execute=True):
        answer = browser.post(
            "/alerts/subscribe",
            {
                "area": WARD_2,
                "notify_new": "on",
                "frequency": "immediate",
                "by_email": "on",
                "by_push": "on",
            },
        )
    assert answer.status_code == 302 and answer["Location"].endswith("/me/#alerts")
    assert mail.outbox == []  # no confirmation for an account
    assert AlertSubscription.objects.get().confirmed_at is not None
    in_ward = _filed(django_capture_on_commit_callbacks, at=FENWAY)
    _filed(django_capture_on_commit_callbacks)  # Ward 1: not hers
    (alert,) = _sent_to("rita@example.org")
    assert in_ward.public_id in alert.subject
    assert [(platform, token) for platform, token, _ in pushes] == [("android", "tok-rita")]
    push = pushes[0][2]
    assert push.url.endswith(f"/track/{in_ward.public_id}")
    assert "Deep hole" in push.body
    for value in REPORTER.values():
        assert value not in f"{push.title} {push.body} {push.data}"


def test_updates_wait_for_the_daily_digest_and_go_once(
    wards: None, django_capture_on_commit_callbacks: Any
) -> None:
    email_alert(area_slug=WARD_1, notify_new=False, notify_updates=True, frequency=Frequency.DAILY)
    sr = _filed(django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        service_request_acknowledge(service_request=sr, public_note="A crew will look at it.")
    assert _sent_to("ann.alert@example.org") == []  # a digest waits for its hour
    assert alerts_digest_send() == 1
    (digest,) = _sent_to("ann.alert@example.org")
    assert "daily" in digest.subject and sr.public_id in digest.body
    assert "A crew will look at it." in digest.body and "Acknowledged" in digest.body
    assert "Deep hole" not in digest.body  # not subscribed to new requests
    assert digest.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert alerts_digest_send() == 0  # nothing new: nothing sent


def test_a_hidden_request_is_never_sent(
    wards: None, django_capture_on_commit_callbacks: Any, monkeypatch: Any
) -> None:
    """Alerts read requests through ``visible()``: what it leaves out is never sent."""
    email_alert(area_slug=WARD_1)
    hidden_ids: set[int] = set()
    original = ServiceRequestQuerySet.visible
    monkeypatch.setattr(
        ServiceRequestQuerySet, "visible", lambda self: original(self).exclude(pk__in=hidden_ids)
    )
    with django_capture_on_commit_callbacks(execute=True):
        sr = submit(lat=CITY_HALL[0], long=CITY_HALL[1], description="Deep hole")
        hidden_ids.add(sr.pk)
    assert mail.outbox == []
    # Nor in a digest
    AlertSubscription.objects.update(frequency=Frequency.DAILY)
    hidden_ids.clear()
    other = _filed(django_capture_on_commit_callbacks)
    hidden_ids.add(other.pk)
    assert alerts_digest_send() == 0 and _sent_to("ann.alert@example.org") == []


def test_imported_history_and_internal_notes_are_no_news(
    wards: None, django_capture_on_commit_callbacks: Any
) -> None:
    email_alert(area_slug=WARD_1, notify_updates=True)
    sr = _filed(django_capture_on_commit_callbacks)
    mail.outbox.clear()
    ServiceRequest.objects.filter(pk=sr.pk).update(channel="import")
    with django_capture_on_commit_callbacks(execute=True):
        service_request_acknowledge(service_request=sr, public_note="Imported history.")
    assert _sent_to("ann.alert@example.org") == []


def test_matching_is_one_statement_over_circles_areas_and_services(wards: None) -> None:
    circle = email_alert(lat=CITY_HALL[0], long=CITY_HALL[1], radius_m=300)
    small_far = email_alert(lat=FENWAY[0], long=FENWAY[1], radius_m=100)
    ward_1 = email_alert(area_slug=WARD_1)
    ward_2 = email_alert(area_slug=WARD_2)
    potholes = email_alert(service_code="pothole")
    lights = email_alert(service_code="streetlight")
    lights_in_ward_1 = email_alert(area_slug=WARD_1, service_code="streetlight")
    updates_only = email_alert(area_slug=WARD_1, notify_new=False, notify_updates=True)
    alert_subscription_create(user=None, email="later@example.org", area_slug=WARD_1)
    pothole = ServiceType.objects.get(service_code="pothole")
    with CaptureQueriesContext(connection) as queries:
        found = alert_subscription_ids_matching(
            point=Point(CITY_HALL[1], CITY_HALL[0], srid=4326),
            service_type_id=pothole.pk,
            kind=NEW,
        )
    assert len(queries) == 1
    assert sorted(found) == sorted([circle.pk, ward_1.pk, potholes.pk])
    assert small_far.pk not in found and ward_2.pk not in found
    assert lights.pk not in found and lights_in_ward_1.pk not in found
    updates = alert_subscription_ids_matching(
        point=Point(CITY_HALL[1], CITY_HALL[0], srid=4326),
        service_type_id=pothole.pk,
        kind=UPDATE,
    )
    assert updates == [updates_only.pk]


# --- Unsubscribe and manage by link


def test_one_click_unsubscribe_posts_without_a_csrf_token_and_get_changes_nothing(
    wards: None,
) -> None:
    subscription = email_alert(area_slug=WARD_1)
    token = alert_token_make(subscription_id=subscription.pk, purpose=UNSUBSCRIBE)
    mail_program = Client(enforce_csrf_checks=True)
    shown = mail_program.get(f"/alerts/unsubscribe/{token}")
    assert shown.status_code == 200 and AlertSubscription.objects.exists()
    done = mail_program.post(f"/alerts/unsubscribe/{token}", {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200
    assert not AlertSubscription.objects.exists()
    assert mail_program.post(f"/alerts/unsubscribe/{token}").status_code == 404


def test_tokens_are_signed_and_single_purpose(wards: None, settings: Any) -> None:
    subscription = alert_subscription_create(
        user=None, email="ann.alert@example.org", area_slug=WARD_1
    )
    confirm = alert_token_make(subscription_id=subscription.pk, purpose=CONFIRM)
    unsubscribe = alert_token_make(subscription_id=subscription.pk, purpose=UNSUBSCRIBE)
    browser = Client()
    for path in (
        f"/alerts/confirm/{unsubscribe}",  # wrong purpose
        f"/alerts/unsubscribe/{confirm}",
        f"/alerts/manage/{confirm}",
        f"/alerts/confirm/{confirm[:-2]}xx",  # forged
        "/alerts/confirm/nonsense",
    ):
        answer = browser.get(path)
        assert answer.status_code == 400, path
        assert b'data-field="token"' in answer.content
    assert AlertSubscription.objects.get().confirmed_at is None
    # An unconfirmed e-mail cannot change its alert
    manage = alert_token_make(subscription_id=subscription.pk, purpose=MANAGE)
    refused = browser.post(f"/alerts/manage/{manage}", {"frequency": "daily"})
    assert refused.status_code == 400 and b'data-field="email"' in refused.content
    # An expired confirmation link
    settings.ALERTS_UNCONFIRMED_DAYS = 1
    old = timezone.now() - timedelta(days=2)
    with mock.patch("django.core.signing.time.time", return_value=old.timestamp()):
        stale = alert_token_make(subscription_id=subscription.pk, purpose=CONFIRM)
    assert browser.get(f"/alerts/confirm/{stale}").status_code == 400
    # A link of an alert that is gone
    assert browser.get(f"/alerts/confirm/{confirm}").status_code == 200
    subscription.delete()
    assert browser.get(f"/alerts/confirm/{confirm}").status_code == 404


def test_the_manage_link_changes_the_frequency(wards: None) -> None:
    subscription = email_alert(area_slug=WARD_1)
    token = alert_token_make(subscription_id=subscription.pk, purpose=MANAGE)
    browser = Client()
    page = browser.get(f"/alerts/manage/{token}")
    assert page.status_code == 200 and b"Sample Ward 1" in page.content
    assert browser.post(f"/alerts/manage/{token}", {"frequency": "daily"}).status_code == 302
    assert AlertSubscription.objects.get().frequency == Frequency.DAILY
    bad = browser.post(f"/alerts/manage/{token}", {"frequency": "hourly"})
    assert bad.status_code == 400 and b'data-field="frequency"' in bad.content


# --- /me/


def test_residents_manage_their_alerts_in_me_and_nobody_elses(wards: None) -> None:
    rita = user_make("rita", email="rita@example.org")
    mallory = user_make("mallory", email="mallory@example.org")
    mine = alert_subscription_create(user=rita, area_slug=WARD_1)
    browser = Client()
    browser.force_login(rita)
    page = browser.get("/me/")
    assert page.status_code == 200 and b"Sample Ward 1" in page.content
    assert (
        browser.post(f"/me/alerts/{mine.pk}/frequency", {"frequency": "daily"}).status_code == 302
    )
    assert AlertSubscription.objects.get().frequency == Frequency.DAILY
    # Another resident neither sees nor changes nor deletes it
    other = Client()
    other.force_login(mallory)
    assert b"Sample Ward 1" not in other.get("/me/").content
    assert other.post(f"/me/alerts/{mine.pk}/delete").status_code == 404
    assert (
        other.post(f"/me/alerts/{mine.pk}/frequency", {"frequency": "immediate"}).status_code == 404
    )
    # Nor does anyone signed out
    anonymous = Client().post(f"/me/alerts/{mine.pk}/delete")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
    assert AlertSubscription.objects.get().frequency == Frequency.DAILY
    assert browser.post(f"/me/alerts/{mine.pk}/delete").status_code == 302
    assert not AlertSubscription.objects.exists()


# --- Bad input


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"lat": CITY_HALL[0], "long": CITY_HALL[1], "radius_m": 5001}, "radius_m"),
        ({"lat": 40.7128, "long": -74.0060, "radius_m": 500}, "location"),  # New York
        ({"lat": 91, "long": CITY_HALL[1], "radius_m": 500}, "lat"),
        ({"lat": CITY_HALL[0], "radius_m": 500}, "long"),
        ({"area": "no-such-ward"}, "area"),
        ({"service_code": "no-such-service"}, "service_code"),
        ({"email": "not-an-address", "area": WARD_1}, "email"),
        ({}, "location"),
        ({"area": WARD_1, "notify_new": ""}, "notify_new"),
        ({"area": WARD_1, "frequency": "hourly"}, "frequency"),
    ],
)
def test_bad_subscriptions_are_400_naming_the_field(
    wards: None, data: dict[str, Any], field: str
) -> None:
    form = {
        "email": "ann.alert@example.org",
        "notify_new": "on",
        "frequency": "immediate",
        "by_email": "on",
        **data,
    }
    form = {key: value for key, value in form.items() if value != ""}
    answer = Client().post("/alerts/subscribe", form)
    assert answer.status_code == 400
    html = answer.content.decode()
    target = "location-error" if field == "location" else f"id_{field}_error"
    assert f'id="{target}"' in html, html
    assert not AlertSubscription.objects.exists()


def test_the_service_names_every_wrong_field_at_once(wards: None, settings: Any) -> None:
    with pytest.raises(AlertError) as refused:
        alert_subscription_create(
            user=None,
            email="",
            lat=CITY_HALL[0],
            long=CITY_HALL[1],
            radius_m=settings.ALERTS_RADIUS_MAX_M + 1,
            area_slug="nowhere",
            service_code="nothing",
            by_push=True,
        )
    assert refused.value.status_code == 400
    assert set(refused.value.errors) == {"email", "by_push", "radius_m", "area", "service_code"}


def test_a_configured_boundary_decides_what_is_in_the_city(catalog: None, settings: Any) -> None:
    settings.CITY_BOUNDARY = (
        "POLYGON((-71.2 42.2, -70.9 42.2, -70.9 42.45, -71.2 42.45, -71.2 42.2))"
    )
    email_alert(lat=CITY_HALL[0], long=CITY_HALL[1], radius_m=500)
    with pytest.raises(AlertError) as refused:
        email_alert(lat=42.5, long=-71.0, radius_m=500)
    assert set(refused.value.errors) == {"location"}


# --- Retention


def test_retention_deletes_stale_sign_ups_and_an_erased_accounts_alerts(wards: None) -> None:
    stale = alert_subscription_create(user=None, email="stale@example.org", area_slug=WARD_1)
    AlertSubscription.objects.filter(pk=stale.pk).update(
        created_at=timezone.now() - timedelta(days=8)
    )
    fresh = alert_subscription_create(user=None, email="fresh@example.org", area_slug=WARD_1)
    confirmed = email_alert(area_slug=WARD_1)
    AlertSubscription.objects.filter(pk=confirmed.pk).update(
        created_at=timezone.now() - timedelta(days=30)
    )
    dry = retention_apply(dry_run=True)
    assert dry.other == {"alert subscriptions unconfirmed": 1}
    assert AlertSubscription.objects.filter(pk=stale.pk).exists()
    report = retention_apply()
    assert report.other == {"alert subscriptions unconfirmed": 1}
    assert set(AlertSubscription.objects.values_list("pk", flat=True)) == {fresh.pk, confirmed.pk}
    rita = user_make("rita", email="rita@example.org")
    alert_subscription_create(user=rita, area_slug=WARD_1)
    assert hooks.account_erase(user_ids=[rita.pk]).get("alert subscriptions") == 1
    assert not AlertSubscription.objects.filter(user=rita).exists()


def test_anonymous_sign_ups_are_rate_limited(wards: None, settings: Any) -> None:
    """Each sends an e-mail to the address given: 429 with Retry-After past the rate."""
    from backend.ratelimit import counters_clear

    settings.RATELIMIT_LOGIN_IP = "2/60"
    counters_clear()
    browser = Client(REMOTE_ADDR="10.99.0.1")
    form = {"email": "ann.alert@example.org", "area": WARD_1, "notify_new": "on"}
    form |= {"frequency": "immediate", "by_email": "on"}
    assert [browser.post("/alerts/subscribe", form).status_code for _ in range(2)] == [200, 200]
    refused = browser.post("/alerts/subscribe", form)
    assert refused.status_code == 429 and int(refused["Retry-After"]) > 0
    assert AlertSubscription.objects.count() == 2
    counters_clear()


def test_an_event_no_subscription_matches_costs_one_statement(wards: None) -> None:
    """Most events match nobody: the delivery then makes one statement, which reads the
    event's request and matches it, and stops there (issue 18: this task was 42 % of the
    Celery worker's CPU under the busy-day load)."""
    from backend.alerts.delivery import alerts_event_deliver
    from backend.service_requests.models import ServiceRequestEvent

    filed = submit(lat=FENWAY[0], long=FENWAY[1], description="Deep hole")
    event = ServiceRequestEvent.objects.filter(service_request=filed).latest("pk")
    with CaptureQueriesContext(connection) as ctx:
        result = alerts_event_deliver(event_id=event.pk)
    assert (result.matched, result.sent) == (0, 0)
    assert len(ctx.captured_queries) == 1, [q["sql"] for q in ctx.captured_queries]


def test_an_event_is_matched_as_its_request_would_be(wards: None) -> None:
    """The event's match (its request read in the same statement) finds what the match of
    the request's point, service and kind finds: a new request's creation against the
    new-request subscriptions, a later event against the update ones; none once hidden."""
    from backend.alerts.selectors import alert_subscription_ids_for_event
    from backend.service_requests.models import EventKind, ServiceRequestEvent

    circle = email_alert(lat=CITY_HALL[0], long=CITY_HALL[1], radius_m=300)
    ward_1 = email_alert(area_slug=WARD_1)
    potholes = email_alert(service_code="pothole")
    email_alert(service_code="streetlight")
    updates_only = email_alert(area_slug=WARD_1, notify_new=False, notify_updates=True)
    filed = submit(lat=CITY_HALL[0], long=CITY_HALL[1], description="Deep hole")
    created = ServiceRequestEvent.objects.get(service_request=filed, kind=EventKind.CREATED)
    found = alert_subscription_ids_for_event(event_id=created.pk)
    assert sorted(found) == sorted([circle.pk, ward_1.pk, potholes.pk])
    assert sorted(found) == sorted(
        alert_subscription_ids_matching(
            point=filed.location, service_type_id=filed.service_type_id, kind=NEW
        )
    )
    update = ServiceRequestEvent.objects.create(
        service_request=filed,
        kind=EventKind.NOTE,
        public_note="Crew on the way.",
        created_at=timezone.now(),
    )
    assert alert_subscription_ids_for_event(event_id=update.pk) == [updates_only.pk]
    ServiceRequest.objects.filter(pk=filed.pk).update(hidden_at=timezone.now())
    assert alert_subscription_ids_for_event(event_id=created.pk) == []
    assert alert_subscription_ids_for_event(event_id=0) == []
