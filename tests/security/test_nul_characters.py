"""A NUL character (which PostgreSQL cannot store or compare in text) in a path answers 404,
in a query parameter or a form field that is used 400 naming it, never a 500; a parameter
the endpoint does not read is ignored as any other would be."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

QUERIES = [
    ("/open-data/requests.csv?service_code=a%00", "service_code"),
    ("/open-data/requests.geojson?service_code=pot%00hole&other=1", "service_code"),
]


@pytest.mark.parametrize(("path", "field"), QUERIES)
def test_a_nul_in_a_query_parameter_is_a_400_naming_it(
    client: Client, catalog: None, path: str, field: str
) -> None:
    answer = client.get(path)
    assert answer.status_code == 400, (path, answer.status_code)
    assert answer.json()["errors"] == {field: ["NUL characters are not allowed."]}


def test_a_parameter_nobody_reads_is_ignored_nul_or_not(client: Client, catalog: None) -> None:
    assert client.get("/mobile/v1/services?x%00y=1").status_code == 200


@pytest.mark.parametrize("path", ["/mobile/v1/requests/SR-%00", "/track/SR-%00"])
def test_a_nul_in_the_path_is_a_404(client: Client, catalog: None, path: str) -> None:
    answer = client.get(path)
    assert answer.status_code == 404
    assert answer.json()["detail"] == "Not found."


def test_open311_answers_in_its_own_error_shape_json_and_xml(client: Client, catalog: None) -> None:
    listing = client.get("/open311/v2/requests.json?q=pot%00hole")
    assert listing.status_code == 400
    assert listing.json() == [{"code": 400, "description": "q: NUL characters are not allowed."}]
    xml = client.get("/open311/v2/requests.xml?q=a%00")
    assert xml.status_code == 400 and xml["Content-Type"].startswith("text/xml")
    assert b"<error><code>400</code><description>q: NUL" in xml.content
    missing = client.get("/open311/v2/services/a%00.json")
    assert missing.status_code == 404
    assert missing.json() == [{"code": 404, "description": "path: Not found."}]


def test_a_nul_in_a_form_field_is_a_400_and_nothing_is_stored(
    client: Client, catalog: None
) -> None:
    from backend.open311.services import api_key_create
    from backend.service_requests.models import ServiceRequest

    key = api_key_create(name="partner app", channel="open311").raw
    answer = client.post(
        "/open311/v2/requests.json",
        {"api_key": key, "service_code": ",\x00", "description": "ok"},
    )
    assert answer.status_code == 400
    assert answer.json() == [
        {"code": 400, "description": "service_code: NUL characters are not allowed."}
    ]
    assert ServiceRequest.objects.count() == 0


def test_ordinary_input_passes_through(client: Client, catalog: None, settings: Any) -> None:
    assert client.get("/open311/v2/requests.json?service_code=pothole").status_code == 200
