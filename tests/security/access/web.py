"""Access cases of the residents' pages: public, and a request's page never shows its
reporter's contact data, to anyone."""

from __future__ import annotations

from typing import Any

from tests.conftest import BOSTON
from tests.security.access import Case, Endpoint, expect
from tests.security.conftest import World


def no_contact_data(world: World, response: Any) -> None:
    text = response.content.decode()
    assert "rita@example.org" not in text and "Rita" not in text


def page(path: Any, ok: int = 200, method: str = "GET", data: Any = None) -> Endpoint:
    return Endpoint(
        Case("anonymous", method, path, expect(ok), data=data, browser=True, check=no_contact_data),
        Case(
            "other_resident",
            method,
            path,
            expect(ok),
            data=data,
            browser=True,
            check=no_contact_data,
        ),
        Case("resident", method, path, expect(ok), data=data, browser=True, check=no_contact_data),
    )


def track(world: World) -> str:
    return f"/track/{world.service_request.public_id}"


ENTRIES: dict[str, Endpoint] = {
    "": page("/", ok=302),  # to /report
    "report": page("/report"),
    "report/nearby": page(f"/report/nearby?service_code=pothole&lat={BOSTON[0]}&long={BOSTON[1]}"),
    "track": page("/track"),
    "track/<str:public_id>": page(track),
    "track/<str:public_id>/live": page(lambda w: track(w) + "/live"),
    # The reporter's corrections within the edit window: the signed-in reporter (or the
    # browser that filed it); anyone else does not see it.
    "track/<str:public_id>/edit": Endpoint(
        *(
            Case(who, "GET", lambda w: track(w) + "/edit", expect(code), browser=True)
            for who, code in (("anonymous", 404), ("other_resident", 404), ("resident", 200))
        )
    ),
    # The installable app (backend/web/installable.py): nobody's data.
    "manifest.webmanifest": page("/manifest.webmanifest"),
    "sw.js": page("/sw.js"),
    "offline": page("/offline"),
}
