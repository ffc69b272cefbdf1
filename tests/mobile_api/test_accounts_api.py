"""Accounts and devices: /mobile/v1/accounts/signup, /accounts/login, /devices."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from mobile_api.models import Device
from mobile_api.push import PushMessage
from mobile_api.services import push_send
from tests.conftest import pothole_payload
from tests.openapi import assert_matches_schema

pytestmark = pytest.mark.django_db

SIGNUP = "/mobile/v1/accounts/signup"
LOGIN = "/mobile/v1/accounts/login"
DEVICES = "/mobile/v1/devices"


def test_signup_answers_a_token_that_files_requests_as_the_user(
    catalog: None, api: APIClient
) -> None:
    # Given a new resident
    response = api.post(
        SIGNUP, {"email": "Ana@Example.org", "password": "a long passphrase 7", "name": "Ana"}
    )
    # Then the account exists, named by its e-mail, with a token
    assert response.status_code == 201, response.content
    body = response.json()
    assert_matches_schema(body, path=SIGNUP, method="post", status=201)
    assert body["email"] == "ana@example.org" and body["name"] == "Ana"
    # And the token signs the app in: a request filed with it is the user's
    app = APIClient()
    app.credentials(HTTP_AUTHORIZATION=f"Token {body['token']}")
    created = app.post("/mobile/v1/requests", pothole_payload(), format="json").json()
    mine = app.get("/mobile/v1/me/requests").json()
    assert [r["service_request_id"] for r in mine] == [created["service_request_id"]]


@pytest.mark.parametrize(
    ("payload", "field", "status"),
    [
        ({"email": "nope", "password": "a long passphrase 7"}, "email", 400),
        ({"email": "a@example.org"}, "password", 400),
        ({"email": "a@example.org", "password": "123"}, "password", 400),
        ({"email": "rita@example.org", "password": "a long passphrase 7"}, "email", 409),
    ],
)
def test_signup_bad_input_names_the_field(
    resident: User, api: APIClient, payload: dict[str, str], field: str, status: int
) -> None:
    response = api.post(SIGNUP, payload, format="json")
    assert response.status_code == status, response.content
    assert field in response.json()["errors"]


def test_login_answers_the_token_and_wrong_passwords_401(catalog: None, api: APIClient) -> None:
    signed_up = api.post(SIGNUP, {"email": "b@example.org", "password": "a long passphrase 7"})
    response = api.post(LOGIN, {"email": "B@example.org", "password": "a long passphrase 7"})
    assert response.status_code == 200
    assert_matches_schema(response.json(), path=LOGIN, method="post", status=200)
    assert response.json()["token"] == signed_up.json()["token"]
    wrong = api.post(LOGIN, {"email": "b@example.org", "password": "wrong"})
    assert wrong.status_code == 401 and "password" in wrong.json()["errors"]
    unknown = api.post(LOGIN, {"email": "nobody@example.org", "password": "x"})
    assert unknown.status_code == 401
    assert api.post(LOGIN, {"email": "b@example.org"}).status_code == 400


def test_device_registration_stores_the_token_once(resident_api: APIClient, resident: User) -> None:
    payload = {"platform": "ios", "push_token": "apns-token-1"}
    first = resident_api.post(DEVICES, payload, format="json")
    assert first.status_code == 201, first.content
    assert_matches_schema(first.json(), path=DEVICES, method="post", status=201)
    again = resident_api.post(DEVICES, payload, format="json")
    assert again.json()["id"] == first.json()["id"]
    assert Device.objects.get().user == resident


def test_device_registration_needs_an_account_and_a_known_platform(
    resident_api: APIClient, api: APIClient
) -> None:
    anonymous = api.post(DEVICES, {"platform": "ios", "push_token": "t"}, format="json")
    assert anonymous.status_code == 401
    bad = resident_api.post(DEVICES, {"platform": "pager", "push_token": "t"}, format="json")
    assert bad.status_code == 400 and "platform" in bad.json()["errors"]


def test_push_goes_to_the_console_backend_after_commit(
    resident: User,
    resident_api: APIClient,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Any,
) -> None:
    resident_api.post(DEVICES, {"platform": "android", "push_token": "fcm-token-xyz"})
    message = PushMessage("Fixed", "SR-1 closed")
    with (
        caplog.at_level(logging.INFO, logger="mobile_api.push"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        count = push_send(user_id=resident.pk, message=message)
    assert count == 1
    assert "SR-1 closed" in caplog.text and "fcm-toke" in caplog.text
