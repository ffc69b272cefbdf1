"""Access cases of the sign-in pages and the residents' own page (backend/accounts): the
sign-in, sign-up and password-reset pages are for anyone; sign-out is a POST; ``/me/`` is for
a signed-in account and shows only its own requests."""

from __future__ import annotations

from typing import Any

from tests.security.access import Case, Endpoint, expect
from tests.security.conftest import World


def anyone(path: str, ok: int = 200, method: str = "GET") -> Endpoint:
    return Endpoint(
        Case("anonymous", method, path, expect(ok), browser=True),
        Case("other_resident", method, path, expect(ok), browser=True),
        Case("resident", method, path, expect(ok), browser=True),
    )


def not_the_residents_request(world: World, response: Any) -> None:
    assert world.service_request.public_id not in response.content.decode()


def the_residents_request(world: World, response: Any) -> None:
    assert world.service_request.public_id in response.content.decode()


ENTRIES: dict[str, Endpoint] = {
    "accounts/login/": anyone("/accounts/login/"),
    "accounts/logout/": anyone("/accounts/logout/", ok=302, method="POST"),
    "accounts/signup/": anyone("/accounts/signup/"),
    "accounts/password-reset/": anyone("/accounts/password-reset/"),
    "accounts/password-reset/sent/": anyone("/accounts/password-reset/sent/"),
    # A link that was never sent: the page says it is not valid.
    "accounts/reset/<uidb64>/<token>/": anyone("/accounts/reset/MQ/not-a-token/"),
    "accounts/reset/done/": anyone("/accounts/reset/done/"),
    "me/": Endpoint(
        Case("anonymous", "GET", "/me/", expect(302), browser=True),  # to the sign-in
        Case(
            "other_resident",
            "GET",
            "/me/",
            expect(200),
            browser=True,
            check=not_the_residents_request,
        ),
        Case("resident", "GET", "/me/", expect(200), browser=True, check=the_residents_request),
    ),
}
