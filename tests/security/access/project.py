"""Access cases of the project's own routes: the OpenAPI document and its viewer, the health
check, the language switch, and the media files (processed photos only: raw uploads live
outside MEDIA_ROOT and cannot be reached)."""

from __future__ import annotations

from tests.security.access import Case, Endpoint, expect
from tests.security.access.fixtures import photo_path


def public(path: str, method: str = "GET", ok: int = 200, data: object = None) -> Endpoint:
    return Endpoint(
        Case("anonymous", method, path, expect(ok), data=data, browser=True),
        Case("other_resident", method, path, expect(ok), data=data, browser=True),
        Case("resident", method, path, expect(ok), data=data, browser=True),
    )


ENTRIES: dict[str, Endpoint] = {
    "api/schema/": public("/api/schema/"),
    "api/docs/": public("/api/docs/"),
    "healthz": public("/healthz"),
    "i18n/setlang/": public("/i18n/setlang/", "POST", ok=302, data={"language": "es"}),
    "^media/(?P<path>.*)$": Endpoint(
        Case("anonymous", "GET", photo_path, expect(200), browser=True),
        # Climbing out of MEDIA_ROOT towards the raw uploads.
        Case(
            "other_resident", "GET", "/media/../media-private/x.jpg", expect(400, 404), browser=True
        ),
        Case("resident", "GET", photo_path, expect(200), browser=True),
    ),
}
