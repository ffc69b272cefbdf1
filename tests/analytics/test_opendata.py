"""The public open-data export: the GeoReport bulk columns, no reporter data, scrubbed text,
sensitive points rounded; the published SLAs."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.test import Client

from analytics.opendata import COLUMNS, scrub
from backend.service_requests.models import ServiceRequest
from backend.service_requests.services import do_service_request_close
from tests.factories import submit

pytestmark = pytest.mark.django_db

SECRET_BITS = ("Rosa Diaz", "rosa.diaz@example.org", "617-555-0199", "6175550199")


@pytest.fixture
def published(catalog: None) -> dict[str, ServiceRequest]:
    pothole = submit(
        "pothole",
        lat=42.3601234,
        long=-71.0589876,
        address="12 Main St",
        description="Deep hole. Call me at 617-555-0199 or rosa.diaz@example.org",
        contact_name="Rosa Diaz",
        contact_email="rosa.diaz@example.org",
        contact_phone="6175550199",
    )
    rats = submit(
        "rodents",
        lat=42.3456789,
        long=-71.0987654,
        address="221 Baker Street",
        description="Rats behind my house, text (617) 555 0142",
        contact_name="Rosa Diaz",
        contact_email="rosa.diaz@example.org",
    )
    do_service_request_close(
        service_request=pothole,
        reason="resolved",
        public_note="Filled. Questions: roads@example.org",
        internal_note="Resident Rosa Diaz was rude",
    )
    return {"pothole": pothole, "rats": rats}


def test_csv_has_the_bulk_columns_and_no_personal_data(
    client: Client, published: dict[str, ServiceRequest]
) -> None:
    response = client.get("/open-data/requests.csv")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
    rows = {r["service_request_id"]: r for r in csv.DictReader(io.StringIO(text))}
    assert next(csv.reader(io.StringIO(text))) == list(COLUMNS)
    for bit in (*SECRET_BITS, "rude", "Rosa"):
        assert bit not in text
    pothole = rows[published["pothole"].public_id]
    assert pothole["description"] == "Deep hole. Call me at [phone removed] or [email removed]"
    assert pothole["status_description"] == "closed"
    assert pothole["status_notes"] == "Filled. Questions: [email removed]"
    assert pothole["source"] == "app"
    assert pothole["agency_responsible"] == "Public Works"
    assert (float(pothole["lat"]), float(pothole["long"])) == (42.3601234, -71.0589876)
    rats = rows[published["rats"].public_id]
    assert rats["description"] == "Rats behind my house, text [phone removed]"
    # A sensitive service: the point to 0.001 degree, the address without its house number.
    assert (rats["lat"], rats["long"]) == ("42.346", "-71.099")
    assert rats["address"] == "Baker Street"


def test_geojson_is_the_same_rows_as_features(
    client: Client, published: dict[str, ServiceRequest]
) -> None:
    response = client.get("/open-data/requests.geojson")
    assert response["Content-Type"] == "application/geo+json"
    document = json.loads(b"".join(response.streaming_content))  # type: ignore[attr-defined]
    assert document["type"] == "FeatureCollection"
    by_id = {f["properties"]["service_request_id"]: f for f in document["features"]}
    rats = by_id[published["rats"].public_id]
    assert rats["geometry"]["coordinates"] == [-71.099, 42.346]
    assert set(rats["properties"]) == set(COLUMNS) - {"lat", "long"}
    assert "rosa" not in json.dumps(document).lower()


def test_filters_and_bad_filters(client: Client, published: dict[str, ServiceRequest]) -> None:
    text = b"".join(
        client.get("/open-data/requests.csv?service_code=rodents").streaming_content  # type: ignore[attr-defined]
    ).decode()
    assert len(list(csv.DictReader(io.StringIO(text)))) == 1
    for query, field in (
        ("service_code=nope", "service_code"),
        ("start=2026-13-01&end=2026-01-02", "start"),
        ("start=2026-01-01", "end"),
    ):
        response = client.get(f"/open-data/requests.csv?{query}")
        assert response.status_code == 400
        assert field in response.json()["errors"]


def test_published_slas(client: Client, catalog: None) -> None:
    body = client.get("/open-data/services.json").json()
    by_code = {s["service_code"]: s for s in body["services"]}
    assert by_code["pothole"]["sla_hours"] == 72
    assert by_code["rodents"]["agency_responsible"] == "Environmental Health"
    text = client.get("/open-data/services.csv")
    assert b"sla_hours" in b"".join(text.streaming_content)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail a.b+c@x.co.uk now", "mail [email removed] now"),
        ("+1 (617) 555-0199", "[phone removed]"),
        ("555-0199", "[phone removed]"),
        ("on 2024-01-05 at 10:30", "on 2024-01-05 at 10:30"),
        ("house 221B", "house 221B"),
    ],
)
def test_scrub(text: str, expected: str) -> None:
    assert scrub(text) == expected


def test_streams_more_than_one_batch(client: Client, catalog: None, settings: Any) -> None:
    import analytics.opendata as opendata

    opendata_batch = opendata.BATCH
    opendata.BATCH = 2
    try:
        for i in range(5):
            submit("graffiti", lat=42.30 + i * 0.001, long=-71.1)
        text = b"".join(client.get("/open-data/requests.csv").streaming_content).decode()  # type: ignore[attr-defined]
        assert len(list(csv.DictReader(io.StringIO(text)))) == 5
    finally:
        opendata.BATCH = opendata_batch


def test_the_export_imports_back_as_georeport_bulk(
    client: Client, published: dict[str, ServiceRequest], tmp_path: Any
) -> None:
    from django.core.management import call_command

    text = b"".join(client.get("/open-data/requests.csv").streaming_content).decode()  # type: ignore[attr-defined]
    path = tmp_path / "bulk.csv"
    path.write_text(text, encoding="utf-8")
    call_command("analytics_import", "georeport", str(path), "--no-progress")
    pothole = published["pothole"]
    copy = ServiceRequest.objects.get(public_id=f"GR-{pothole.public_id}")
    assert copy.channel == "import"
    assert copy.service_type_id == pothole.service_type_id
    assert copy.status == "closed"
    original = ServiceRequest.objects.get(pk=pothole.pk)
    assert copy.requested_at == original.requested_at
    assert copy.closed_at == original.closed_at
    assert ServiceRequest.objects.get(public_id=f"GR-{published['rats'].public_id}").is_open
