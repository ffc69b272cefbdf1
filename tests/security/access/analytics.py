"""Access cases of analytics (/api/v1/analytics/, /staff/analytics/) and the public open-data
export (/open-data/). Analytics are for staff: a resident gets 403 (pages: 403 too, anonymous
the log-in), a crew member of another department does not see this department or team.
The open data are public and carry no reporter's contact data."""

from __future__ import annotations

from typing import Any

from tests.security.access import Case, Endpoint, expect
from tests.security.conftest import World

API = "api/v1/analytics/"


def city(path: str) -> Endpoint:
    return Endpoint(
        Case("anonymous", "GET", path, expect(401, 403)),
        Case("resident", "GET", path, expect(403)),
        Case("supervisor", "GET", path, expect(200)),
    )


def department(path: Any, *, browser: bool = False) -> Endpoint:
    return Endpoint(
        Case(
            "anonymous", "GET", path, expect(302) if browser else expect(401, 403), browser=browser
        ),
        Case("other_crew", "GET", path, expect(403, 404), browser=browser),
        Case("crew", "GET", path, expect(200), browser=browser),
    )


def page(path: str) -> Endpoint:
    return Endpoint(
        Case("anonymous", "GET", path, expect(302), browser=True),
        Case("resident", "GET", path, expect(403), browser=True),
        Case("supervisor", "GET", path, expect(200), browser=True),
    )


def no_contact_data(world: World, response: Any) -> None:
    body = b"".join(getattr(response, "streaming_content", [])) or response.content
    text = body.decode()
    assert "rita@example.org" not in text and "Rita" not in text


def open_data(path: str) -> Endpoint:
    return Endpoint(
        Case("anonymous", "GET", path, expect(200), browser=True, check=no_contact_data),
        Case("other_resident", "GET", path, expect(200), browser=True, check=no_contact_data),
        Case("resident", "GET", path, expect(200), browser=True, check=no_contact_data),
    )


def team(world: World) -> int:
    return world.staff.team.pk


ENTRIES: dict[str, Endpoint] = {
    API + "scorecard": city(f"/{API}scorecard"),
    API + "metrics": city(f"/{API}metrics"),
    API + "backlog": city(f"/{API}backlog"),
    API + "equity": city(f"/{API}equity"),
    API + "hotspots": city(f"/{API}hotspots?service_type=pothole"),
    API + "satisfaction": city(f"/{API}satisfaction"),
    API + "live": city(f"/{API}live"),
    API + "departments/<slug:code>": department(f"/{API}departments/public-works"),
    API + "departments/<slug:code>/overdue": department(f"/{API}departments/public-works/overdue"),
    API + "teams/<int:pk>": department(lambda w: f"/{API}teams/{team(w)}"),
    "staff/analytics/": page("/staff/analytics/"),
    "staff/analytics/hotspots": page("/staff/analytics/hotspots"),
    "staff/analytics/departments/<slug:code>": department(
        "/staff/analytics/departments/public-works", browser=True
    ),
    "staff/analytics/teams/<int:pk>": department(
        lambda w: f"/staff/analytics/teams/{team(w)}", browser=True
    ),
    r"^open-data/requests\.(?P<fmt>csv|geojson)$": open_data("/open-data/requests.csv"),
    r"^open-data/services\.(?P<fmt>csv|json)$": open_data("/open-data/services.json"),
}
