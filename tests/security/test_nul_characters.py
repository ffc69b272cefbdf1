"""A NUL character (which PostgreSQL cannot store or compare in text) anywhere in a path, a
query parameter or a form field answers 400 naming where it was, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PATHS = [
    ("/open311/v2/requests.json?service_code=a%00", "service_code"),
    ("/open311/v2/requests.json?q=pot%00hole", "q"),
    ("/open311/v2/services/a%00.json", "path"),
    ("/open311/v2/requests/SR-2026-%00.json", "path"),
    ("/mobile/v1/requests/SR-%00", "path"),
    ("/track/SR-%00", "path"),
    ("/open-data/requests.csv?service_code=a%00", "service_code"),
    ("/mobile/v1/services?x%00y=1", "x\\x00y"),
]


@pytest.mark.parametrize(("path", "field"), PATHS)
def test_a_nul_in_the_path_or_query_is_a_400_naming_it(
    client: Client, catalog: None, path: str, field: str
) -> None:
    answer = client.get(path)
    assert answer.status_code == 400, (path, answer.status_code)
    assert answer.json()["errors"] == {field: ["NUL characters are not allowed."]}


def test_a_nul_in_a_form_field_is_a_400_and_nothing_is_stored(
    client: Client, catalog: None
) -> None:
    from backend.service_requests.models import ServiceRequest

    answer = client.post(
        "/open311/v2/requests.json",
        {"api_key": "whatever", "service_code": ",\x00", "description": "ok"},
    )
    assert answer.status_code == 400
    assert answer.json()["errors"] == {"service_code": ["NUL characters are not allowed."]}
    assert ServiceRequest.objects.count() == 0


def test_ordinary_input_passes_through(client: Client, catalog: None, settings: Any) -> None:
    assert client.get("/open311/v2/requests.json?service_code=pothole").status_code == 200
