"""The staff analytics API: who may read it, what bad input answers, CSV export, schema."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from analytics.generator import areas_grid
from analytics.measures import local_today
from analytics.rollups import rollups_rebuild
from tests.analytics.conftest import load, local, row
from tests.workorders.factories import Staff, staff_make, token_client, user_make

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/api/v1/analytics/scorecard",
    "/api/v1/analytics/departments/public-works",
    "/api/v1/analytics/departments/public-works/overdue",
    "/api/v1/analytics/metrics",
    "/api/v1/analytics/backlog",
    "/api/v1/analytics/equity",
    "/api/v1/analytics/hotspots?service_type=pothole",
    "/api/v1/analytics/satisfaction",
    "/api/v1/analytics/live",
]


@pytest.fixture
def staff(analytics_db: None) -> Staff:
    load(
        row(requested=local(5, 9), status="closed", closed_at=local(4, 9), expected_at=local(3, 9)),
        row(requested=local(2, 9), expected_at=local(1, 9)),
        row("graffiti", requested=local(2, 10), expected_at=local(0, 1)),
    )
    areas_grid(rows=3, cols=3, kind="district")
    rollups_rebuild()
    return staff_make()


def _leader() -> APIClient:
    return token_client(user_make("lee", is_staff=True))


@pytest.mark.parametrize("path", ENDPOINTS)
def test_anonymous_gets_401(api: APIClient, staff: Staff, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 401
    assert "detail" in response.json()


@pytest.mark.parametrize("path", ENDPOINTS)
def test_a_resident_gets_403(staff: Staff, path: str) -> None:
    resident = token_client(user_make("rita"))
    assert resident.get(path).status_code == 403


@pytest.mark.parametrize("path", ENDPOINTS)
def test_leadership_reads_every_endpoint(staff: Staff, path: str) -> None:
    response = _leader().get(path)
    assert response.status_code == 200, response.content


def test_a_crew_member_of_another_department_sees_only_theirs(staff: Staff) -> None:
    outsider = token_client(staff.outsider)  # Sanitation crew
    assert outsider.get("/api/v1/analytics/departments/public-works").status_code == 404
    assert outsider.get("/api/v1/analytics/departments/sanitation").status_code == 200
    card = outsider.get("/api/v1/analytics/scorecard").json()
    assert "city" not in card
    assert [d["code"] for d in card["departments"]] == ["sanitation"]
    hot = outsider.get("/api/v1/analytics/hotspots?service_type=pothole")
    assert hot.status_code == 404
    team = staff.team
    assert outsider.get(f"/api/v1/analytics/teams/{team.pk}").status_code == 404
    assert token_client(staff.crew).get(f"/api/v1/analytics/teams/{team.pk}").status_code == 200


def test_department_figures(staff: Staff) -> None:
    body = _leader().get("/api/v1/analytics/departments/public-works?period=month").json()
    assert body["summary"]["created"] == 2
    assert body["summary"]["closed"] == 1
    assert body["summary"]["on_time_share"] == 1.0
    assert body["backlog"]["open"] == 1
    assert body["backlog"]["overdue"] == 1
    assert len(body["overdue"]) == 1
    age = (timezone.now() - local(2, 9)).total_seconds() / 86400
    assert body["overdue"][0]["age_days"] == pytest.approx(age, abs=0.01)
    assert len(body["trend"]) >= 2


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/analytics/scorecard?date=2026-02-30", "date"),
        ("/api/v1/analytics/scorecard?date=yesterday", "date"),
        ("/api/v1/analytics/scorecard?period=year", "period"),
        ("/api/v1/analytics/scorecard?date=2999-01-01", "date"),
        ("/api/v1/analytics/metrics?start=2020-01-01&end=2026-01-01", "start"),
        ("/api/v1/analytics/metrics?start=2025-02-01&end=2025-01-01", "end"),
        ("/api/v1/analytics/metrics?start=2025-02-01", "end"),
        ("/api/v1/analytics/metrics?group_by=colour", "group_by"),
        ("/api/v1/analytics/metrics?department=nope", "department"),
        ("/api/v1/analytics/backlog?department=nope", "department"),
        ("/api/v1/analytics/equity?metric=happiness", "metric"),
        ("/api/v1/analytics/hotspots", "service_type"),
        ("/api/v1/analytics/hotspots?service_type=nope", "service_type"),
        ("/api/v1/analytics/hotspots?service_type=pothole&quarter=2025Q5", "quarter"),
        ("/api/v1/analytics/hotspots?service_type=pothole&quarter=1999Q1", "quarter"),
        ("/api/v1/analytics/departments/public-works/overdue?limit=0", "limit"),
        ("/api/v1/analytics/scorecard?format=csv&table=nope", "table"),
    ],
)
def test_bad_input_names_the_field(staff: Staff, path: str, field: str) -> None:
    response = _leader().get(path)
    assert response.status_code == 400, response.content
    body = response.json() if "json" in response["Content-Type"] else None
    if body is None:  # a CSV request's error comes back as a CSV row
        assert field in response.content.decode()
        return
    assert set(body) == {"detail", "errors"}
    assert field in body["errors"]


def test_an_unknown_department_or_team_is_404_with_the_error_shape(staff: Staff) -> None:
    leader = _leader()
    for path in ("/api/v1/analytics/departments/nope", "/api/v1/analytics/teams/999999"):
        response = leader.get(path)
        assert response.status_code == 404
        assert "detail" in response.json()


@pytest.mark.parametrize(
    ("path", "column"),
    [
        ("/api/v1/analytics/scorecard?format=csv", "score"),
        ("/api/v1/analytics/scorecard?format=csv&table=city.indicators", "ratio"),
        ("/api/v1/analytics/departments/public-works?format=csv&table=trend", "ttc_p90_h"),
        ("/api/v1/analytics/departments/public-works?format=csv&table=backlog.by_age", "bucket"),
        ("/api/v1/analytics/metrics?format=csv&group_by=channel", "on_time_share"),
        ("/api/v1/analytics/backlog?format=csv", "net_flow"),
        ("/api/v1/analytics/equity?format=csv", "area"),
        ("/api/v1/analytics/hotspots?service_type=pothole&format=csv", "count"),
        ("/api/v1/analytics/satisfaction?format=csv", "share"),
        ("/api/v1/analytics/live?format=csv", "overdue"),
    ],
)
def test_every_table_exports_as_csv(staff: Staff, path: str, column: str) -> None:
    response = _leader().get(path)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert rows and column in rows[0]


def test_metrics_by_service_type_count_what_was_loaded(staff: Staff) -> None:
    start = (local_today() - timedelta(days=7)).isoformat()
    body = _leader().get(f"/api/v1/analytics/metrics?start={start}&end={local_today()}").json()
    by_label = {r["label"]: r for r in body["rows"]}
    assert by_label["Pothole"]["created"] == 2
    assert by_label["Graffiti"]["created"] == 1


def test_the_schema_documents_the_analytics_api(api: APIClient, db: None) -> None:
    import yaml

    document = yaml.safe_load(api.get("/api/schema/").content)
    assert {"/api/v1/analytics/scorecard", "/api/v1/analytics/hotspots"} <= set(document["paths"])


def test_pages_are_for_staff(client: Any, staff: Staff) -> None:
    assert client.get("/staff/analytics/").status_code == 302  # to the log-in
    client.force_login(user_make("rita"))
    assert client.get("/staff/analytics/").status_code == 403
    client.force_login(user_make("lee", is_staff=True))
    for path in (
        "/staff/analytics/",
        "/staff/analytics/departments/public-works",
        f"/staff/analytics/teams/{staff.team.pk}",
        "/staff/analytics/hotspots",
        "/staff/analytics/hotspots?service_type=pothole",
        "/staff/analytics/?period=year",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
    page = client.get("/staff/analytics/departments/public-works").content.decode()
    assert "chart.umd.min.js" in page and 'id="ttc-chart"' in page
    hot = client.get("/staff/analytics/hotspots?service_type=pothole").content.decode()
    assert "leaflet.js" in hot and 'id="map"' in hot
