"""The residents' page ``/me/``: my requests from every channel, the requests I follow and the
closures waiting for my "Was it fixed?" answer; only mine, and only when signed in."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from backend.accounts.services import account_signup
from backend.cases.feedback import feedback_submit
from backend.service_requests.models import CloseReason, ServiceRequest
from backend.service_requests.services import do_service_request_close, service_request_follower_add
from backend.web.turnaround import expected_date_words
from tests.factories import submit
from tests.workorders.factories import member_add, team_make
from workorders.selectors import close_event_latest

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def resident(email: str) -> User:
    user = account_signup(email=email, password="a long passphrase 7")
    assert isinstance(user, User)
    return user


def page_of(user: User) -> str:
    client = Client()
    client.force_login(user)
    response = client.get("/me/")
    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    return response.content.decode()


def test_signed_out_people_are_sent_to_sign_in(catalog: None) -> None:
    response = Client().get("/me/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/me/"


def test_my_requests_from_every_channel_and_not_anothers(catalog: None) -> None:
    rosa, nam = resident("rosa@example.org"), resident("nam@example.org")
    by_web = submit("pothole", channel="web", reporter=rosa, address="12 Elm St")
    by_app = submit("streetlight", channel="app", reporter=rosa)
    by_chat = submit("graffiti", channel="chat", reporter=rosa)
    others = submit("pothole", channel="web", reporter=nam)
    anonymous = submit("pothole", channel="web")

    html = page_of(rosa)

    for mine in (by_web, by_app, by_chat):
        assert mine.public_id in html
        assert f'href="/track/{mine.public_id}"' in html
    assert others.public_id not in html and anonymous.public_id not in html
    assert "Pothole" in html and "Streetlight" in html and "12 Elm St" in html
    assert "Submitted" in html
    assert by_web.expected_at is not None
    with translation.override("en"):
        assert f"Expected by {expected_date_words(by_web.expected_at)}" in html
    # And the other resident sees theirs only.
    theirs = page_of(nam)
    assert others.public_id in theirs and by_web.public_id not in theirs


def test_requests_i_follow_are_listed_apart(catalog: None) -> None:
    rosa, nam = resident("rosa@example.org"), resident("nam@example.org")
    followed = submit("pothole", reporter=nam)
    service_request_follower_add(service_request=followed, user=rosa, source="follow")
    not_followed = submit("graffiti", reporter=nam)

    html = page_of(rosa)

    following = html[html.index('id="following-title"') :]
    assert followed.public_id in following
    assert not_followed.public_id not in html


def closed(service_request: ServiceRequest) -> ServiceRequest:
    return do_service_request_close(service_request=service_request, reason=CloseReason.RESOLVED)


def test_closures_waiting_for_my_answer_link_to_the_feedback_page(catalog: None) -> None:
    rosa = resident("rosa@example.org")
    waiting = closed(submit("pothole", reporter=rosa))
    answered = closed(submit("graffiti", reporter=rosa))
    event = close_event_latest(service_request_id=answered.pk)
    assert event is not None
    feedback_submit(close_event=event, fixed=True)
    not_found = do_service_request_close(
        service_request=submit("streetlight", reporter=rosa), reason=CloseReason.CANNOT_LOCATE
    )

    client = Client()
    client.force_login(rosa)
    html = client.get("/me/").content.decode()

    section = html[html.index('id="feedback-title"') : html.index('id="mine-title"')]
    assert waiting.public_id in section
    assert answered.public_id not in section and not_found.public_id not in section
    link = section[section.index('href="/feedback/') + 6 :].split('"')[0]
    feedback_page = client.get(link)
    assert feedback_page.status_code == 200
    assert waiting.public_id in feedback_page.content.decode()
    # All three are still among my requests, closed.
    mine = html[html.index('id="mine-title"') :]
    assert all(sr.public_id in mine for sr in (waiting, answered, not_found))
    assert "Closed on" in mine


def test_staff_and_crews_get_a_link_to_their_own_pages(catalog: None) -> None:
    crew = resident("casey@example.org")
    member_add(team_make(), crew)
    assert 'href="/crew/"' in page_of(crew)
    boss = User.objects.create_user("boss", "boss@example.org", "x", is_staff=True)
    assert 'href="/staff/analytics/"' in page_of(boss)
    assert 'class="role-link"' not in page_of(resident("rosa@example.org"))


def test_the_page_has_the_push_opt_in_and_is_translated(catalog: None) -> None:
    rosa = resident("rosa@example.org")
    client = Client()
    client.force_login(rosa)
    html = client.get("/me/", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert 'lang="es"' in html
    assert "data-push-optin" in html and 'data-scope="account"' in html
