"""Access cases of the crew app (/crew/): the page is for crews and supervisors (anonymous:
to the sign-in; a resident: 403); its manifest, service worker and CSRF token are public
(they carry nobody's data: the orders come from the crew API, whose cases are in
``mobile_api.py``)."""

from __future__ import annotations

from tests.security.access import Case, Endpoint, expect


def public(path: str) -> Endpoint:
    return Endpoint(
        Case("anonymous", "GET", path, expect(200), browser=True),
        Case("other_resident", "GET", path, expect(200), browser=True),
        Case("crew", "GET", path, expect(200), browser=True),
    )


ENTRIES: dict[str, Endpoint] = {
    "crew/": Endpoint(
        Case("anonymous", "GET", "/crew/", expect(302), browser=True),  # to /accounts/login/
        Case("resident", "GET", "/crew/", expect(403), browser=True),
        Case("crew", "GET", "/crew/", expect(200), browser=True),
    ),
    "crew/manifest.webmanifest": public("/crew/manifest.webmanifest"),
    "crew/sw.js": public("/crew/sw.js"),
    "crew/csrf": public("/crew/csrf"),
}
