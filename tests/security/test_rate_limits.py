"""Rate limits (backend/ratelimit.py) on intake, log-in and chat, and the log-in lock-out:
429 with Retry-After and the usual error shape, counted per address and per key."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.test.client import RequestFactory
from rest_framework.exceptions import Throttled
from rest_framework.test import APIClient

from backend.ratelimit import chat_throttle
from backend.service_requests.models import ServiceRequest
from tests.conftest import BOSTON, web_report_form
from tests.security.conftest import World, fresh_address, open311_form

pytestmark = pytest.mark.django_db

MOBILE_SUBMIT = "/mobile/v1/requests"
MOBILE_LOGIN = "/mobile/v1/accounts/login"
OPEN311_POST = "/open311/v2/requests.json"


def mobile_body() -> dict[str, Any]:
    return {
        "service_code": "pothole",
        "lat": BOSTON[0],
        "long": BOSTON[1],
        "attributes": {"size": "large"},
    }


def assert_throttled_json(response: Any) -> None:
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) >= 1
    body = response.json()
    assert body["detail"] and "errors" in body


def test_anonymous_mobile_intake_is_limited_per_address(catalog: None, settings: Any) -> None:
    settings.RATELIMIT_INTAKE_IP = "3/60"
    client = APIClient(REMOTE_ADDR=fresh_address())
    answers = [client.post(MOBILE_SUBMIT, mobile_body(), format="json") for _ in range(4)]
    assert [a.status_code for a in answers[:3]] == [201, 201, 201]
    assert_throttled_json(answers[3])
    assert ServiceRequest.objects.count() == 3
    # Another address is not affected.
    other = APIClient(REMOTE_ADDR=fresh_address())
    assert other.post(MOBILE_SUBMIT, mobile_body(), format="json").status_code == 201


def test_signed_in_mobile_intake_is_limited_per_account(world: World, settings: Any) -> None:
    settings.RATELIMIT_INTAKE_KEY = "2/60"
    codes = [
        world.api("resident").post(MOBILE_SUBMIT, mobile_body(), format="json").status_code
        for _ in range(3)
    ]  # each call from a new address: only the account's counter stops the third
    assert codes == [201, 201, 429]


def test_web_report_is_limited_per_address(catalog: None, settings: Any) -> None:
    settings.RATELIMIT_INTAKE_IP = "2/60"
    client = Client(REMOTE_ADDR=fresh_address())
    codes = [client.post("/report", web_report_form()).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    third = client.post("/report", web_report_form())
    assert int(third["Retry-After"]) >= 1
    assert ServiceRequest.objects.count() == 2


def test_open311_post_is_limited_per_api_key(world: World, settings: Any) -> None:
    settings.RATELIMIT_INTAKE_KEY = "2/60"
    answers = [
        APIClient(REMOTE_ADDR=fresh_address()).post(OPEN311_POST, open311_form(world.open311_key))
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2]["Retry-After"]) >= 1
    assert answers[2].json()[0]["code"] == 429  # Open311's own error shape
    xml = APIClient(REMOTE_ADDR=fresh_address()).post(
        "/open311/v2/requests.xml", open311_form(world.open311_key)
    )
    assert xml.status_code == 429 and b"<errors>" in xml.content


def test_open311_post_is_limited_per_address(world: World, settings: Any) -> None:
    settings.RATELIMIT_INTAKE_IP = "1/60"
    client = APIClient(REMOTE_ADDR=fresh_address())
    first = client.post(OPEN311_POST, open311_form(world.open311_key))
    second = client.post(OPEN311_POST, open311_form(world.open311_key))
    assert (first.status_code, second.status_code) == (200, 429)


def test_intake_is_not_throttled_by_default(catalog: None) -> None:
    client = APIClient(REMOTE_ADDR=fresh_address())
    codes = {
        client.post(MOBILE_SUBMIT, mobile_body(), format="json").status_code for _ in range(30)
    }
    assert codes == {201}


def test_limits_let_everything_through_when_redis_is_down(catalog: None, settings: Any) -> None:
    settings.RATELIMIT_INTAKE_IP = "1/60"
    settings.RATELIMIT_REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    client = APIClient(REMOTE_ADDR=fresh_address())
    codes = [client.post(MOBILE_SUBMIT, mobile_body(), format="json").status_code for _ in range(3)]
    assert codes == [201, 201, 201]


# --- Log-in


@pytest.fixture
def account(catalog: None) -> User:
    return User.objects.create_user(
        "lena@example.org", "lena@example.org", "a long passphrase 7", is_staff=True
    )


def test_mobile_login_locks_after_five_failures_even_for_the_right_password(
    account: User,
) -> None:
    client = APIClient(REMOTE_ADDR=fresh_address())
    wrong = [
        client.post(MOBILE_LOGIN, {"email": "lena@example.org", "password": "nope"}).status_code
        for _ in range(5)
    ]
    assert wrong == [401] * 5
    right = client.post(
        MOBILE_LOGIN, {"email": "lena@example.org", "password": "a long passphrase 7"}
    )
    assert_throttled_json(right)
    assert 800 <= int(right["Retry-After"]) <= 900
    # The lock is per account and address: the owner elsewhere still logs in.
    elsewhere = APIClient(REMOTE_ADDR=fresh_address()).post(
        MOBILE_LOGIN, {"email": "LENA@example.org", "password": "a long passphrase 7"}
    )
    assert elsewhere.status_code == 200


def test_mobile_login_success_clears_the_failures(account: User) -> None:
    client = APIClient(REMOTE_ADDR=fresh_address())
    for _ in range(4):
        client.post(MOBILE_LOGIN, {"email": "lena@example.org", "password": "nope"})
    ok = client.post(MOBILE_LOGIN, {"email": "lena@example.org", "password": "a long passphrase 7"})
    assert ok.status_code == 200
    for _ in range(4):
        client.post(MOBILE_LOGIN, {"email": "lena@example.org", "password": "nope"})
    again = client.post(
        MOBILE_LOGIN, {"email": "lena@example.org", "password": "a long passphrase 7"}
    )
    assert again.status_code == 200


def test_mobile_login_attempts_are_limited_per_address(account: User, settings: Any) -> None:
    settings.RATELIMIT_LOGIN_IP = "3/60"
    client = APIClient(REMOTE_ADDR=fresh_address())
    codes = [
        client.post(MOBILE_LOGIN, {"email": f"u{n}@example.org", "password": "x"}).status_code
        for n in range(4)
    ]
    assert codes == [401, 401, 401, 429]


def test_mobile_signup_is_limited_per_address(catalog: None, settings: Any) -> None:
    settings.RATELIMIT_LOGIN_IP = "2/60"
    client = APIClient(REMOTE_ADDR=fresh_address())
    codes = [
        client.post(
            "/mobile/v1/accounts/signup",
            {"email": f"n{n}@example.org", "password": "a long pass 7"},
        ).status_code
        for n in range(3)
    ]
    assert codes == [201, 201, 429]


def admin_login(client: Client, password: str) -> Any:
    return client.post(
        "/admin/login/?next=/staff/workorders/",
        {"username": "lena@example.org", "password": password, "next": "/staff/workorders/"},
    )


def test_staff_login_locks_after_five_failures(account: User) -> None:
    client = Client(REMOTE_ADDR=fresh_address())
    for _ in range(5):
        assert admin_login(client, "nope").status_code == 200  # the form again, with an error
    locked = admin_login(client, "a long passphrase 7")
    assert locked.status_code == 200 and "_auth_user_id" not in client.session
    # Another address is not locked out.
    other = Client(REMOTE_ADDR=fresh_address())
    assert admin_login(other, "a long passphrase 7").status_code == 302
    assert "_auth_user_id" in other.session


def test_lockout_settings_are_read(account: User, settings: Any) -> None:
    settings.LOGIN_LOCKOUT_FAILURES = 2
    client = APIClient(REMOTE_ADDR=fresh_address())
    for _ in range(2):
        client.post(MOBILE_LOGIN, {"email": "lena@example.org", "password": "nope"})
    right = client.post(
        MOBILE_LOGIN, {"email": "lena@example.org", "password": "a long passphrase 7"}
    )
    assert right.status_code == 429


# --- Chat: the helper the chat view calls


def test_chat_helper_limits_per_address_and_per_conversation(settings: Any) -> None:
    settings.RATELIMIT_CHAT_IP = "3/60"
    settings.RATELIMIT_CHAT_KEY = "2/60"
    address = fresh_address()
    request = RequestFactory().post("/api/v1/chat/", REMOTE_ADDR=address)
    chat_throttle(request, client_key="conversation-a")
    chat_throttle(request, client_key="conversation-a")
    with pytest.raises(Throttled) as raised:
        chat_throttle(request, client_key="conversation-a")
    assert (getattr(raised.value, "wait", None) or 0) >= 1
    with pytest.raises(Throttled):  # the address's fourth message, whatever the conversation
        chat_throttle(request, client_key="conversation-b")
    chat_throttle(RequestFactory().post("/", REMOTE_ADDR=fresh_address()), client_key="c")


def test_the_error_body_is_json(catalog: None, settings: Any) -> None:
    settings.RATELIMIT_INTAKE_IP = "1/60"
    client = APIClient(REMOTE_ADDR=fresh_address())
    client.post(MOBILE_SUBMIT, mobile_body(), format="json")
    response = client.post(
        MOBILE_SUBMIT, json.dumps(mobile_body()), content_type="application/json"
    )
    assert response["Content-Type"].startswith("application/json")
    assert_throttled_json(response)
