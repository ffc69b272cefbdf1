"""Access cases of the Open311 server (/open311/v2/): reads are public and never show a
reporter's contact data; filing needs a valid API key (none or a wrong one: 403)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.test import override_settings

from backend.open311.models import ApiKey
from backend.open311.services import Submission, open311_request_submit
from tests.conftest import BOSTON
from tests.security.access import Case, Endpoint, expect
from tests.security.conftest import World, open311_form

V2 = "open311/v2/"


def no_contact_data(world: World, response: Any) -> None:
    text = response.content.decode()
    assert "rita@example.org" not in text and "Rita" not in text


def public(path: Any, ok: int = 200) -> Endpoint:
    return Endpoint(
        Case("anonymous", "GET", path, expect(ok), check=no_contact_data),
        Case("other_resident", "GET", path, expect(ok), check=no_contact_data),
        Case("resident", "GET", path, expect(ok), check=no_contact_data),
    )


def filing(fmt: str) -> Endpoint:
    path = f"/{V2}requests.{fmt}"
    return Endpoint(
        Case("anonymous", "POST", path, expect(403), data=open311_form(""), format=None),
        Case(
            "other_resident", "POST", path, expect(403), data=open311_form("not-a-key"), format=None
        ),
        # The key's holder; a signed-in user without it is refused like anyone.
        Case(
            "resident",
            "POST",
            path,
            expect(200),
            data=lambda w: open311_form(w.open311_key),
            format=None,
        ),
    )


def token(world: World) -> str:
    with override_settings(OPEN311_ASYNC_INTAKE=True):
        filed = open311_request_submit(
            api_key=ApiKey.objects.get(name="security"),
            submission=Submission(
                service_code="pothole",
                lat=str(BOSTON[0]),
                long=str(BOSTON[1]),
                attributes={"size": "large"},
            ),
        )
    assert filed.token is not None
    return str(filed.token.token)


def request_path(fmt: str) -> Callable[[World], str]:
    return lambda w: f"/{V2}requests/{w.service_request.public_id}.{fmt}"


def token_path(fmt: str) -> Callable[[World], str]:
    return lambda w: f"/{V2}tokens/{token(w)}.{fmt}"


ENTRIES: dict[str, Endpoint] = {}
for fmt in ("json", "xml"):
    ENTRIES |= {
        f"{V2}discovery.{fmt}": public(f"/{V2}discovery.{fmt}"),
        f"{V2}services.{fmt}": public(f"/{V2}services.{fmt}"),
        f"{V2}services/<str:service_code>.{fmt}": public(f"/{V2}services/pothole.{fmt}"),
        f"{V2}requests.{fmt}": filing(fmt),
        f"{V2}requests/<str:service_request_id>.{fmt}": public(request_path(fmt)),
        f"{V2}tokens/<str:token>.{fmt}": Endpoint(
            Case("anonymous", "GET", f"/{V2}tokens/no-such-token.{fmt}", expect(404)),
            Case("other_resident", "GET", f"/{V2}tokens/guessed-token.{fmt}", expect(404)),
            Case("resident", "GET", token_path(fmt), expect(200)),
        ),
        f"{V2}servicerequestupdates.{fmt}": public(f"/{V2}servicerequestupdates.{fmt}"),
    }
ENTRIES |= {
    # A client gluing the name onto the base, and any other path under it.
    "open311/^v2(?P<rest>/{2,}.+|[^/].*)$": public("/open311/v2services.json"),
    "open311/^v2/.*$": public("/open311/v2/no-such-thing.json", ok=404),
}
