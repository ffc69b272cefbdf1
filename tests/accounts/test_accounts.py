"""Sign-in for everyone who is not admin staff (backend/accounts): the pages, where each role
lands, the rate limit and the lock-out, sign-up through the one sign-up service, password
reset by e-mail, sign-out; the admin's own log-in still refuses non-staff."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from backend.accounts.services import account_signup
from tests.security.conftest import fresh_address
from tests.workorders.factories import Staff, staff_make

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
PASSWORD = "a long passphrase 7"


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def browser() -> Client:
    """A client from an address no other test used (rate-limit counters never carry over)."""
    return Client(REMOTE_ADDR=fresh_address())


def resident_make(email: str = "rosa@example.org") -> User:
    user = account_signup(email=email, password=PASSWORD, name="Rosa")
    assert isinstance(user, User)
    return user


def with_password(user: User) -> User:
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def sign_in(client: Client, username: str, password: str = PASSWORD, **extra: str) -> Any:
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def signed_in_as(client: Client) -> int | None:
    value = client.session.get("_auth_user_id")
    return int(value) if value is not None else None


# --- The pages and where each role lands


def test_the_sign_in_page_is_a_translated_form_with_labels(catalog: None) -> None:
    page = browser().get(LOGIN, HTTP_ACCEPT_LANGUAGE="es")

    assert page.status_code == 200
    html = page.content.decode()
    assert '<label for="id_username">' in html and '<label for="id_password">' in html
    assert 'autocomplete="current-password"' in html
    assert 'lang="es"' in html
    assert "/accounts/signup/" in html and "/accounts/password-reset/" in html
    # Every residents' page offers it to a signed-out visitor.
    report = browser().get("/report").content.decode()
    assert '<a href="/accounts/login/">' in report and "/accounts/logout/" not in report


def test_a_resident_lands_on_their_page_whatever_the_case_of_their_e_mail(catalog: None) -> None:
    resident = resident_make()
    client = browser()

    response = sign_in(client, "Rosa@Example.org")

    assert response.status_code == 302
    assert response["Location"] == "/me/"
    assert signed_in_as(client) == resident.pk


@pytest.fixture
def staff(catalog: None) -> Staff:
    staff = staff_make()
    with_password(staff.crew)
    with_password(staff.supervisor)
    return staff


def test_a_crew_member_lands_on_the_crew_app(staff: Staff) -> None:
    assert not staff.crew.is_staff
    response = sign_in(browser(), staff.crew.username)
    assert response.status_code == 302 and response["Location"] == "/crew/"


def test_a_crew_member_goes_back_into_the_crew_app_but_not_to_the_console(staff: Staff) -> None:
    back = sign_in(browser(), staff.crew.username, next="/crew/orders/12")
    assert back["Location"] == "/crew/orders/12"
    console = sign_in(browser(), staff.crew.username, next="/staff/workorders/")
    assert console["Location"] == "/crew/"


def test_staff_land_on_the_console_or_where_they_were_going(staff: Staff) -> None:
    plain = sign_in(browser(), staff.supervisor.username)
    assert plain["Location"] == "/staff/workorders/"
    going = sign_in(browser(), staff.supervisor.username, next="/staff/workorders/review")
    assert going["Location"] == "/staff/workorders/review"


def test_leadership_without_a_team_lands_on_the_analytics(catalog: None) -> None:
    User.objects.create_user("lee", "lee@example.org", PASSWORD, is_staff=True)
    assert sign_in(browser(), "lee")["Location"] == "/staff/analytics/"


@pytest.mark.parametrize(
    "unsafe",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
        "/accounts/login/",
    ],
)
def test_an_unsafe_next_is_ignored(catalog: None, unsafe: str) -> None:
    resident_make()
    response = sign_in(browser(), "rosa@example.org", next=unsafe)
    assert response.status_code == 302
    assert response["Location"] == "/me/"


def test_a_resident_goes_back_to_a_residents_page_not_into_the_staff_pages(catalog: None) -> None:
    resident_make()
    assert sign_in(browser(), "rosa@example.org", next="/report")["Location"] == "/report"
    assert sign_in(browser(), "rosa@example.org", next="/staff/analytics/")["Location"] == "/me/"


def test_the_staff_pages_send_signed_out_people_to_this_sign_in(catalog: None) -> None:
    for page in ("/staff/workorders/", "/staff/analytics/"):
        response = browser().get(page)
        assert response.status_code == 302
        assert response["Location"] == f"{LOGIN}?next={page}"


def test_the_admin_log_in_still_refuses_a_resident(catalog: None) -> None:
    resident_make()
    client = browser()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "rosa@example.org", "password": PASSWORD}
    )
    assert response.status_code == 200  # the admin's form again, with its error
    assert signed_in_as(client) is None


def test_a_wrong_password_shows_the_form_again_with_an_error(catalog: None) -> None:
    resident_make()
    client = browser()
    response = sign_in(client, "rosa@example.org", "wrong")
    assert response.status_code == 200
    assert "Wrong e-mail, user name or password." in response.content.decode()
    assert signed_in_as(client) is None


# --- Rate limit and lock-out


def test_the_account_locks_after_the_failures_even_for_the_right_password(
    catalog: None, settings: Any
) -> None:
    settings.LOGIN_LOCKOUT_FAILURES = 3
    settings.LOGIN_LOCKOUT_SECONDS = 600
    resident_make()
    client = browser()
    for _ in range(3):
        assert sign_in(client, "rosa@example.org", "wrong").status_code == 200

    locked = sign_in(client, "rosa@example.org")

    assert locked.status_code == 429
    assert 500 <= int(locked["Retry-After"]) <= 600
    assert "locked for 10 minutes" in locked.content.decode()
    assert signed_in_as(client) is None
    # The lock is of that account from that address: the resident elsewhere signs in.
    elsewhere = browser()
    assert sign_in(elsewhere, "rosa@example.org").status_code == 302


def test_the_lock_is_shared_with_the_mobile_log_in(catalog: None, settings: Any) -> None:
    settings.LOGIN_LOCKOUT_FAILURES = 2
    resident_make()
    address = fresh_address()
    api = APIClient(REMOTE_ADDR=address)
    for _ in range(2):
        api.post("/mobile/v1/accounts/login", {"email": "rosa@example.org", "password": "x"})
    assert sign_in(Client(REMOTE_ADDR=address), "rosa@example.org").status_code == 429


def test_sign_in_attempts_are_limited_per_address(catalog: None, settings: Any) -> None:
    settings.RATELIMIT_LOGIN_IP = "3/60"
    client = browser()
    codes = [sign_in(client, f"u{n}@example.org", "x").status_code for n in range(4)]

    assert codes == [200, 200, 200, 429]
    refused = sign_in(client, "u9@example.org", "x")
    assert refused.status_code == 429 and int(refused["Retry-After"]) >= 1
    assert "Too many sign-in attempts from your address" in refused.content.decode()


# --- Sign-up


def test_a_resident_signs_up_and_is_signed_in_on_their_page(catalog: None) -> None:
    client = browser()
    response = client.post(
        "/accounts/signup/",
        {"email": "Nam@Example.org", "name": "Nam", "password": PASSWORD},
    )

    assert response.status_code == 302 and response["Location"] == "/me/"
    user = User.objects.get(username="nam@example.org")
    assert user.email == "nam@example.org" and user.first_name == "Nam"
    assert not user.is_staff
    assert signed_in_as(client) == user.pk
    # The same account signs in on the mobile API (one sign-up service).
    api = APIClient(REMOTE_ADDR=fresh_address())
    login = api.post(
        "/mobile/v1/accounts/login", {"email": "nam@example.org", "password": PASSWORD}
    )
    assert login.status_code == 200


def test_sign_up_applies_the_password_validators_and_refuses_a_taken_e_mail(
    catalog: None,
) -> None:
    resident_make()
    weak = browser().post("/accounts/signup/", {"email": "new@example.org", "password": "123"})
    assert weak.status_code == 200
    html = weak.content.decode()
    assert "This password is too short" in html and 'aria-invalid="true"' in html
    taken = browser().post("/accounts/signup/", {"email": "ROSA@example.org", "password": PASSWORD})
    assert "An account with this e-mail exists already." in taken.content.decode()
    assert User.objects.filter(username__iexact="rosa@example.org").count() == 1
    assert not User.objects.filter(username="new@example.org").exists()


def test_the_mobile_sign_up_uses_the_same_service(catalog: None) -> None:
    api = APIClient(REMOTE_ADDR=fresh_address())
    first = api.post(
        "/mobile/v1/accounts/signup", {"email": "Tu@example.org", "password": PASSWORD}
    )
    assert first.status_code == 201 and first.json()["token"]
    again = browser().post("/accounts/signup/", {"email": "tu@example.org", "password": PASSWORD})
    assert "An account with this e-mail exists already." in again.content.decode()
    assert sign_in(browser(), "tu@example.org")["Location"] == "/me/"


def test_sign_ups_are_limited_per_address(catalog: None, settings: Any) -> None:
    settings.RATELIMIT_LOGIN_IP = "2/60"
    client = browser()
    codes = [
        client.post(
            "/accounts/signup/", {"email": f"s{n}@example.org", "password": PASSWORD}
        ).status_code
        for n in range(3)
    ]
    assert codes == [302, 302, 429]


# --- Sign-out


def test_sign_out_is_a_post_and_ends_the_session(catalog: None) -> None:
    resident_make()
    client = browser()
    sign_in(client, "rosa@example.org")
    page = client.get("/me/")
    assert 'action="/accounts/logout/"' in page.content.decode()

    assert client.get("/accounts/logout/").status_code == 405
    assert signed_in_as(client) is not None
    response = client.post("/accounts/logout/", follow=True)

    assert response.redirect_chain[0] == ("/report", 302)
    assert signed_in_as(client) is None
    assert "You have signed out." in response.content.decode()
    assert client.get("/me/").status_code == 302


# --- Password reset


def test_password_reset_by_e_mail_link(catalog: None) -> None:
    resident_make()
    client = browser()

    sent = client.post(
        "/accounts/password-reset/", {"email": "rosa@example.org"}, HTTP_ACCEPT_LANGUAGE="es"
    )

    assert sent.status_code == 302 and sent["Location"] == "/accounts/password-reset/sent/"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["rosa@example.org"]
    assert "\n" not in message.subject and "city311" in message.subject
    found = re.search(r"http://testserver(/accounts/reset/\S+/)", str(message.body))
    assert found, message.body

    form = client.get(found.group(1), follow=True)
    assert form.status_code == 200 and form.context["validlink"]
    done = client.post(
        form.redirect_chain[-1][0],
        {
            "new_password1": "another long passphrase 8",
            "new_password2": "another long passphrase 8",
        },
    )
    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done/"
    assert sign_in(browser(), "rosa@example.org", "another long passphrase 8").status_code == 302
    assert sign_in(browser(), "rosa@example.org").status_code == 200  # the old one is gone
    # The link works once.
    assert client.get(found.group(1), follow=True).context["validlink"] is False


def test_password_reset_says_the_same_for_an_unknown_address(catalog: None) -> None:
    response = browser().post("/accounts/password-reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_password_reset_requests_are_limited_per_address(catalog: None, settings: Any) -> None:
    settings.RATELIMIT_LOGIN_IP = "1/60"
    client = browser()
    first = client.post("/accounts/password-reset/", {"email": "a@example.org"})
    second = client.post("/accounts/password-reset/", {"email": "a@example.org"})
    assert (first.status_code, second.status_code) == (302, 429)
