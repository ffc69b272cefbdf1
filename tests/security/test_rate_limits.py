"""Rate limits (backend/ratelimit.py) on filings, log-ins and chat, and the log-in lock-out:
429 with Retry-After and the usual error shape naming what was limited, counted per address
and per key.

Every test here runs with the site's DEFAULT limits (backend/settings.py,
``RATELIMIT_DEFAULTS``; the other tests run unthrottled: tests/conftest.py) and spells out the
numbers it expects, so raising a default fails here. Where a limit is hundreds of hits, the
counter is spent first through the same function the view calls, then the view itself is
shown counting the last allowed hit and refusing the next."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import User
from django.test import Client
from django.test.client import RequestFactory
from rest_framework.exceptions import Throttled
from rest_framework.test import APIClient

from backend.open311.services import api_key_authenticate
from backend.ratelimit import (
    chat_message_throttle,
    chat_throttle,
    gateway_throttle,
    intake_throttle,
    signup_throttle,
)
from backend.service_requests.models import ServiceRequest
from chatbot.gateway import address_key
from tests.chatbot.providers import FakeProvider, fake_twilio  # noqa: F401  (a fixture)
from tests.chatbot.test_twilio import RESIDENT, sms
from tests.conftest import BOSTON, web_report_form
from tests.security.conftest import World, fresh_address, open311_form
from tests.workorders.factories import token_client

pytestmark = pytest.mark.django_db

MOBILE_SUBMIT = "/mobile/v1/requests"
MOBILE_LOGIN = "/mobile/v1/accounts/login"
OPEN311_POST = "/open311/v2/requests.json"
CHAT = "/api/v1/chat/"
UNKNOWN_CONVERSATION = "c0nversation-nobody-has"
SOCKET_CONVERSATION = "s0cket-conversation-nobody-has"


@pytest.fixture(autouse=True)
def _site_limits(settings: Any) -> None:
    """The site's defaults, not the test suite's unthrottled values."""
    for name, value in settings.RATELIMIT_DEFAULTS.items():
        setattr(settings, f"RATELIMIT_{name}", value)


def mobile_body() -> dict[str, Any]:
    return {
        "service_code": "pothole",
        "lat": BOSTON[0],
        "long": BOSTON[1],
        "attributes": {"size": "large"},
    }


def spend(times: int, call: Callable[[], None]) -> None:
    """``call`` (a limit's own function, as the view calls it) ``times`` times, none over."""
    for _ in range(times):
        call()


def anonymous(address: str) -> Any:
    return RequestFactory().post("/", REMOTE_ADDR=address)


def assert_throttled_json(response: Any, *, names: str = "") -> None:
    assert response.status_code == 429, response.content
    assert int(response["Retry-After"]) >= 1
    body = response.json()
    assert body["detail"] and "errors" in body
    assert names in body["detail"], body["detail"]


# --- Filings


def test_anonymous_mobile_intake_is_limited_per_address(catalog: None) -> None:
    client = APIClient(REMOTE_ADDR=fresh_address())
    answers = [client.post(MOBILE_SUBMIT, mobile_body(), format="json") for _ in range(21)]
    assert [a.status_code for a in answers[:20]] == [201] * 20
    assert_throttled_json(answers[20], names="this address")
    assert 1 <= int(answers[20]["Retry-After"]) <= 600
    assert ServiceRequest.objects.count() == 20
    # Another address is not affected.
    other = APIClient(REMOTE_ADDR=fresh_address())
    assert other.post(MOBILE_SUBMIT, mobile_body(), format="json").status_code == 201


def test_signed_in_mobile_intake_is_limited_per_account(world: World) -> None:
    codes = [
        world.api("resident").post(MOBILE_SUBMIT, mobile_body(), format="json").status_code
        for _ in range(11)
    ]  # each call from a new address: only the account's counter stops the eleventh
    assert codes == [201] * 10 + [429]
    last = world.api("resident").post(MOBILE_SUBMIT, mobile_body(), format="json")
    assert_throttled_json(last, names="this account")


def test_web_report_is_limited_per_address(catalog: None) -> None:
    address = fresh_address()
    spend(18, lambda: intake_throttle(anonymous(address)))
    client = Client(REMOTE_ADDR=address)
    codes = [client.post("/report", web_report_form()).status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    third = client.post("/report", web_report_form())
    assert int(third["Retry-After"]) >= 1
    assert "Too many reports from your address" in third.content.decode()
    assert ServiceRequest.objects.count() == 2


def test_open311_post_is_limited_per_api_key(world: World) -> None:
    api_key = api_key_authenticate(raw=world.open311_key)
    assert api_key is not None
    partner = anonymous(fresh_address())
    spend(598, lambda: intake_throttle(partner, client_key=f"open311:{api_key.pk}", partner=True))
    answers = [
        APIClient(REMOTE_ADDR=fresh_address()).post(OPEN311_POST, open311_form(world.open311_key))
        for _ in range(3)
    ]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2]["Retry-After"]) >= 1
    assert answers[2].json()[0]["code"] == 429  # Open311's own error shape
    assert "API key" in answers[2].json()[0]["description"]
    xml = APIClient(REMOTE_ADDR=fresh_address()).post(
        "/open311/v2/requests.xml", open311_form(world.open311_key)
    )
    assert xml.status_code == 429 and b"<errors>" in xml.content


def test_partners_and_staff_are_not_counted_per_address(world: World) -> None:
    """A partner's server or a call centre files for many people from one address."""
    address = fresh_address()
    spend(20, lambda: intake_throttle(anonymous(address)))
    resident = APIClient(REMOTE_ADDR=address)
    assert resident.post(MOBILE_SUBMIT, mobile_body(), format="json").status_code == 429
    partner = APIClient(REMOTE_ADDR=address)
    assert partner.post(OPEN311_POST, open311_form(world.open311_key)).status_code == 200
    staff = token_client(world.admin)
    staff.defaults["REMOTE_ADDR"] = address
    codes = {staff.post(MOBILE_SUBMIT, mobile_body(), format="json").status_code for _ in range(3)}
    assert codes == {201}


def test_limits_let_everything_through_when_redis_is_down(catalog: None, settings: Any) -> None:
    settings.RATELIMIT_REDIS_URL = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    client = APIClient(REMOTE_ADDR=fresh_address())
    codes = [
        client.post(MOBILE_SUBMIT, mobile_body(), format="json").status_code for _ in range(21)
    ]
    assert codes == [201] * 21


def test_the_error_body_is_json(catalog: None) -> None:
    address = fresh_address()
    spend(20, lambda: intake_throttle(anonymous(address)))
    client = APIClient(REMOTE_ADDR=address)
    response = client.post(
        MOBILE_SUBMIT, json.dumps(mobile_body()), content_type="application/json"
    )
    assert response["Content-Type"].startswith("application/json")
    assert_throttled_json(response, names="this address")


# --- Log-in


@pytest.fixture
def account(catalog: None) -> User:
    return User.objects.create_user(
        "lena@example.org", "lena@example.org", "a long passphrase 7", is_staff=True
    )


LENA = {"email": "lena@example.org", "password": "a long passphrase 7"}


def logs_in_elsewhere(credentials: dict[str, str]) -> bool:
    """Whether the mobile log-in from a new address lets these credentials in."""
    answer = APIClient(REMOTE_ADDR=fresh_address()).post(MOBILE_LOGIN, credentials)
    return bool(answer.status_code == 200)


def test_mobile_login_locks_after_five_failures_even_for_the_right_password(
    account: User,
) -> None:
    client = APIClient(REMOTE_ADDR=fresh_address())
    wrong = [
        client.post(MOBILE_LOGIN, {"email": "lena@example.org", "password": "nope"}).status_code
        for _ in range(5)
    ]
    assert wrong == [401] * 5
    right = client.post(MOBILE_LOGIN, LENA)
    assert_throttled_json(right, names="this account")
    assert 800 <= int(right["Retry-After"]) <= 900
    # The lock is per account and address: the owner elsewhere still logs in.
    assert logs_in_elsewhere({**LENA, "email": "LENA@example.org"})


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


def test_mobile_login_attempts_are_limited_per_address(account: User) -> None:
    client = APIClient(REMOTE_ADDR=fresh_address())
    right = {"email": "lena@example.org", "password": "a long passphrase 7"}
    codes = [client.post(MOBILE_LOGIN, right).status_code for _ in range(61)]
    assert codes == [200] * 60 + [429]
    assert_throttled_json(client.post(MOBILE_LOGIN, right), names="log-in attempts")


def test_mobile_password_spraying_is_stopped_per_address(account: User) -> None:
    """Wrong passwords for many accounts from one address: the twenty-first attempt is
    refused, whatever the account, even with its right password."""
    client = APIClient(REMOTE_ADDR=fresh_address())
    codes = [
        client.post(MOBILE_LOGIN, {"email": f"u{n}@example.org", "password": "x"}).status_code
        for n in range(20)
    ]
    assert codes == [401] * 20
    right = client.post(MOBILE_LOGIN, LENA)
    assert_throttled_json(right, names="failed log-ins from this address")
    assert 1 <= int(right["Retry-After"]) <= 900
    assert logs_in_elsewhere(LENA)  # another address still logs in


def test_mobile_signup_is_limited_per_address(catalog: None) -> None:
    address = fresh_address()
    spend(58, lambda: signup_throttle(anonymous(address)))
    client = APIClient(REMOTE_ADDR=address)
    answers = [
        client.post(
            "/mobile/v1/accounts/signup",
            {"email": f"n{n}@example.org", "password": "a long pass 7"},
        )
        for n in range(3)
    ]
    assert [a.status_code for a in answers] == [201, 201, 429]
    assert_throttled_json(answers[2], names="new accounts")


def admin_login(client: Client, password: str, *, username: str = "lena@example.org") -> Any:
    return client.post(
        "/admin/login/?next=/staff/workorders/",
        {"username": username, "password": password, "next": "/staff/workorders/"},
    )


def test_staff_login_locks_after_five_failures(account: User) -> None:
    client = Client(REMOTE_ADDR=fresh_address())
    for _ in range(5):
        assert admin_login(client, "nope").status_code == 200  # the form again, with an error
    locked = admin_login(client, "a long passphrase 7")
    assert locked.status_code == 429 and "_auth_user_id" not in client.session
    assert 800 <= int(locked["Retry-After"]) <= 900
    assert "Too many wrong passwords" in locked.content.decode()
    # Another address is not locked out.
    other = Client(REMOTE_ADDR=fresh_address())
    assert admin_login(other, "a long passphrase 7").status_code == 302
    assert "_auth_user_id" in other.session


def test_admin_login_shows_the_spraying_lock_out_translated(account: User) -> None:
    client = Client(REMOTE_ADDR=fresh_address(), headers={"Accept-Language": "es"})
    for n in range(20):
        refused = admin_login(client, "nope", username=f"u{n}@example.org")
        assert refused.status_code == 200
    locked = admin_login(client, "a long passphrase 7")
    assert locked.status_code == 429 and "_auth_user_id" not in client.session
    assert int(locked["Retry-After"]) >= 1
    page = locked.content.decode()
    assert 'class="errornote"' in page or "errorlist" in page  # on the admin's own form
    assert "Demasiados intentos de inicio de sesión desde su dirección" in page


def test_staff_console_login_stops_password_spraying(account: User) -> None:
    client = Client(REMOTE_ADDR=fresh_address())
    for n in range(20):
        refused = client.post(
            "/accounts/login/", {"username": f"u{n}@example.org", "password": "x"}
        )
        assert refused.status_code == 200
    locked = client.post(
        "/accounts/login/", {"username": "lena@example.org", "password": "a long passphrase 7"}
    )
    assert locked.status_code == 429 and "_auth_user_id" not in client.session
    assert int(locked["Retry-After"]) >= 1
    assert "Too many sign-in attempts from your address" in locked.content.decode()


def test_lockout_settings_are_read(account: User, settings: Any) -> None:
    settings.LOGIN_LOCKOUT_FAILURES = 2
    client = APIClient(REMOTE_ADDR=fresh_address())
    for _ in range(2):
        client.post(MOBILE_LOGIN, {"email": "lena@example.org", "password": "nope"})
    right = client.post(
        MOBILE_LOGIN, {"email": "lena@example.org", "password": "a long passphrase 7"}
    )
    assert right.status_code == 429


# --- Chat


def test_chat_helper_limits_per_address_and_per_conversation() -> None:
    address = fresh_address()
    request = RequestFactory().post(CHAT, REMOTE_ADDR=address)
    spend(40, lambda: chat_throttle(request, client_key="conversation-a"))
    with pytest.raises(Throttled) as raised:
        chat_throttle(request, client_key="conversation-a")
    assert (getattr(raised.value, "wait", None) or 0) >= 1
    for n in range(79):
        chat_throttle(request, client_key=f"conversation-b{n}")
    with pytest.raises(Throttled):  # the address's 121st message, whatever the conversation
        chat_throttle(request, client_key="conversation-c")
    chat_throttle(RequestFactory().post("/", REMOTE_ADDR=fresh_address()), client_key="c")


def test_chat_api_is_limited_per_conversation(catalog: None) -> None:
    key = f"chat:{UNKNOWN_CONVERSATION}"
    spend(39, lambda: chat_message_throttle(address=fresh_address(), client_key=key))
    client = APIClient(REMOTE_ADDR=fresh_address())
    body = {"message": "hello", "conversation_id": UNKNOWN_CONVERSATION}
    assert client.post(CHAT, body, format="json").status_code == 404  # counted, then looked up
    assert_throttled_json(client.post(CHAT, body, format="json"), names="this conversation")


def test_chat_api_is_limited_per_address(catalog: None) -> None:
    address = fresh_address()
    spend(119, lambda: chat_message_throttle(address=address))
    client = APIClient(REMOTE_ADDR=address)
    body = {"message": "hello", "conversation_id": "another-one-nobody-has"}
    assert client.post(CHAT, body, format="json").status_code == 404
    assert_throttled_json(client.post(CHAT, body, format="json"), names="this address")


@pytest.mark.anyio
@pytest.mark.django_db(transaction=True)
async def test_chat_socket_is_limited_per_conversation() -> None:
    from backend.asgi import application

    key = f"chat:{SOCKET_CONVERSATION}"
    spend(40, lambda: chat_message_throttle(address=fresh_address(), client_key=key))
    ws = WebsocketCommunicator(
        application, "/ws/chat/", headers=[(b"origin", b"http://testserver")]
    )
    connected, _ = await ws.connect()
    assert connected
    await ws.send_json_to(
        {"type": "message", "conversation_id": SOCKET_CONVERSATION, "message": "hello"}
    )
    answer = await ws.receive_json_from(timeout=5)
    await ws.disconnect()
    assert answer["type"] == "error" and answer["status"] == 429
    assert "this conversation" in answer["detail"] and answer["retry_after"] >= 1


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_sms_is_limited_per_number(fake_twilio: FakeProvider) -> None:  # noqa: F811
    spend(40, lambda: gateway_throttle(sender_key=address_key(RESIDENT)))
    answer = sms("hello", sender=RESIDENT)
    assert answer.status_code == 429
    assert int(answer["Retry-After"]) >= 1
    assert "this number" in answer.json()["detail"]
