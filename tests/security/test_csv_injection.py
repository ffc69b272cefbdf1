"""CSV formula injection (backend/csv_cells.py): requests filed through Open311 and the mobile
API with OWASP's payloads as description and address come out of every CSV city311 serves
with no cell a spreadsheet would run as a formula (text beginning with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return carries a leading ``'``; numbers are numbers), while the
JSON and GeoJSON answers carry the values as they are. The CSV routes are collected from the
URL conf (every view with a ``text/csv`` renderer, every route ending in ``csv``), so a new
one without a case here fails by name; and every module that writes CSV goes through
``csv_cells``."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.db.models import Value
from django.db.models.functions import Concat
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from analytics.generator import areas_grid
from analytics.rollups import rollups_rebuild
from backend.catalog.models import Department, ServiceType
from backend.csv_cells import FORMULA_STARTS, csv_cell
from backend.service_requests.models import ServiceRequest
from tests.conftest import pothole_payload
from tests.security.conftest import World, open311_form
from workorders.models import Area, WorkOrder
from workorders.services.assign import work_order_assign

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
PAYLOADS = [
    '=HYPERLINK("http://evil.example/x","click")',
    "+1+1",
    "-2+3",
    "@SUM(1+1)",
    "\t=1",
    "\r=1",
    "=cmd|' /C calc'!A0",
]
# What staff named a service, a department and the areas (their text reaches the aggregate
# exports).
SERVICE_NAME = "=1+2"
DEPARTMENT_NAME = "@Public Works"
AREA_PREFIX = "-"  # "-District A1"


def test_a_formula_cell_gets_a_quote_and_a_number_stays_a_number() -> None:
    for payload in PAYLOADS:
        assert csv_cell(payload) == "'" + payload
    assert csv_cell("Deep hole") == "Deep hole"
    assert csv_cell("") == ""
    for number in (-3, -2.5, Decimal("-1.25"), 0, 7):
        assert csv_cell(number) == number


@pytest.fixture
def filed(world: World, settings: Any) -> list[ServiceRequest]:
    """One request per payload, alternately through Open311 and the mobile API, in Crew A's
    queue and overdue; the pothole service, its department and the districts renamed to
    formulas."""
    settings.ANALYTICS_AREA_KIND = "district"
    public_ids = []
    for i, payload in enumerate(PAYLOADS):
        if i % 2 == 0:
            body = open311_form(world.open311_key, description=payload, address_string=payload)
            answer = world.api("anonymous").post("/open311/v2/requests.json", body)
            assert answer.status_code == 200, answer.content
            public_ids.append(answer.json()[0]["service_request_id"])
        else:
            body = pothole_payload(description=payload, address=payload)
            answer = world.api("resident").post("/mobile/v1/requests", body, format="json")
            assert answer.status_code == 201, answer.content
            public_ids.append(answer.json()["service_request_id"])
    requests = list(ServiceRequest.objects.filter(public_id__in=public_ids).order_by("id"))
    assert len(requests) == len(PAYLOADS)
    for order in WorkOrder.objects.filter(service_request__in=requests):
        work_order_assign(work_order=order, team=world.staff.team, actor=world.staff.supervisor)
    ServiceRequest.objects.filter(pk__in=[r.pk for r in requests]).update(
        expected_at=timezone.now() - timedelta(days=1)
    )
    ServiceType.objects.filter(service_code="pothole").update(name=SERVICE_NAME)
    Department.objects.filter(code="public-works").update(name=DEPARTMENT_NAME)
    areas_grid(rows=3, cols=3, kind="district")
    Area.objects.filter(kind="district").update(name=Concat(Value(AREA_PREFIX), "name"))
    rollups_rebuild()
    for r in requests:
        r.refresh_from_db()
        # Every stored value is one a spreadsheet would run (leading blanks trimmed or not).
        assert r.description.startswith(FORMULA_STARTS), r.description
        assert r.address.startswith(FORMULA_STARTS), r.address
    return requests


def _routes(patterns: list[Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def csv_routes() -> dict[str, Any]:
    """Every route that answers CSV: a view with a ``text/csv`` renderer, or a route whose
    pattern names ``csv`` (the open-data downloads); the view class (or function) of each."""
    found = {}
    for route, callback in _routes(get_resolver().url_patterns):
        view = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        renderers = getattr(view, "renderer_classes", None) or []
        if any(getattr(r, "media_type", "") == "text/csv" for r in renderers) or "csv" in route:
            found[route] = view or callback
    return found


def _team(world: World) -> str:
    return f"/api/v1/analytics/teams/{world.staff.team.pk}?format=csv"


def _analytics(path: str) -> Callable[[World], str]:
    return lambda world: f"/api/v1/analytics/{path}"


# Route -> the URL (format=csv) to read it by; each analytics route's every table is read.
CSV_CASES: dict[str, Callable[[World], str]] = {
    r"^open-data/requests\.(?P<fmt>csv|geojson)$": lambda w: "/open-data/requests.csv",
    r"^open-data/services\.(?P<fmt>csv|json)$": lambda w: "/open-data/services.csv",
    "api/v1/analytics/scorecard": _analytics("scorecard?format=csv"),
    "api/v1/analytics/departments/<slug:code>": _analytics("departments/public-works?format=csv"),
    "api/v1/analytics/departments/<slug:code>/overdue": _analytics(
        "departments/public-works/overdue?format=csv"
    ),
    "api/v1/analytics/metrics": _analytics("metrics?format=csv"),
    "api/v1/analytics/backlog": _analytics("backlog?format=csv"),
    "api/v1/analytics/equity": _analytics("equity?format=csv"),
    "api/v1/analytics/hotspots": _analytics("hotspots?service_type=pothole&format=csv"),
    "api/v1/analytics/satisfaction": _analytics("satisfaction?format=csv"),
    "api/v1/analytics/teams/<int:pk>": _team,
    "api/v1/analytics/live": _analytics("live?format=csv"),
}
# The routes whose CSV carries each request's description or address: every payload must
# come out there, neutralised.
CARRY_PAYLOADS = {
    r"^open-data/requests\.(?P<fmt>csv|geojson)$",
    "api/v1/analytics/departments/<slug:code>/overdue",
    "api/v1/analytics/teams/<int:pk>",
}


def test_every_csv_route_has_a_case() -> None:
    served = set(csv_routes())
    assert sorted(served - set(CSV_CASES)) == [], "CSV routes without an injection case"
    assert sorted(set(CSV_CASES) - served) == []


def test_every_module_that_writes_csv_goes_through_csv_cells() -> None:
    writers = re.compile(r"csv\.(writer|DictWriter)\(")
    unguarded = [
        str(path.relative_to(ROOT))
        for package in ("backend", "analytics", "workorders", "mobile_api", "chatbot")
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.parts
        and writers.search(text := path.read_text())
        and "backend.csv_cells import" not in text
    ]
    assert unguarded == []


def _urls(route: str, world: World) -> list[str]:
    """The route's CSV URL, once per table for the analytics answers of several tables."""
    url = CSV_CASES[route](world)
    view = csv_routes()[route]
    tables = getattr(view, "tables", ())
    return [url] if len(tables) <= 1 else [f"{url}&table={table}" for table in tables]


def _body(response: Any) -> bytes:
    """A response's body, streamed (the open-data downloads) or not."""
    return b"".join(getattr(response, "streaming_content", [])) or response.content


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("route", sorted(CSV_CASES))
def test_no_csv_cell_is_a_formula(world: World, filed: list[ServiceRequest], route: str) -> None:
    client = world.api("supervisor")
    cells: list[str] = []
    for url in _urls(route, world):
        answer = client.get(url)
        body = _body(answer)
        assert answer.status_code == 200, (url, body[:300])
        assert answer["Content-Type"].startswith("text/csv"), url
        cells += [cell for row in csv.reader(io.StringIO(body.decode())) for cell in row]
    formulas = [c for c in cells if c.startswith(FORMULA_STARTS) and not _is_number(c)]
    assert formulas == [], route
    # Numbers (negative ones too) are values, never quoted.
    assert [c for c in cells if c.startswith("'") and _is_number(c[1:])] == [], route
    if route in CARRY_PAYLOADS:
        for r in filed:
            assert "'" + r.address in cells, (route, r.address)
        if route.startswith("^open-data"):
            assert {"'" + r.description for r in filed} <= set(cells)
            assert "'" + SERVICE_NAME in cells


def test_json_and_geojson_carry_the_values_as_they_are(
    world: World, filed: list[ServiceRequest]
) -> None:
    anonymous = world.api("anonymous")
    supervisor = world.api("supervisor")
    geojson = _body(anonymous.get("/open-data/requests.geojson"))
    published = {
        f["properties"]["service_request_id"]: f["properties"]
        for f in json.loads(geojson)["features"]
    }
    team = supervisor.get(f"/api/v1/analytics/teams/{world.staff.team.pk}").json()
    queued = {row["public_id"]: row for row in team["queue"]}
    services = {
        s["service_code"]: s for s in anonymous.get("/open-data/services.json").json()["services"]
    }
    assert services["pothole"]["service_name"] == SERVICE_NAME
    for r in filed:
        assert published[r.public_id]["description"] == r.description
        assert published[r.public_id]["address"] == r.address
        assert queued[r.public_id]["address"] == r.address
        open311 = anonymous.get(f"/open311/v2/requests/{r.public_id}.json").json()[0]
        assert open311["description"] == r.description
        assert open311["address"] == r.address
