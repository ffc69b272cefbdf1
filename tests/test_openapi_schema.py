"""The OpenAPI document is served, valid, and documents the mobile API's paths exactly."""

from __future__ import annotations

import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient


def test_schema_generates_without_warnings() -> None:
    # --fail-on-warn turns any drf-spectacular warning (an undocumented field...) into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


@pytest.mark.django_db
def test_schema_and_docs_are_served(api: APIClient) -> None:
    response = api.get("/api/schema/")
    assert response.status_code == 200
    document = yaml.safe_load(response.content)
    assert document["openapi"].startswith("3.1")
    assert {"/mobile/v1/services", "/mobile/v1/requests", "/mobile/v1/requests/{public_id}"} <= set(
        document["paths"]
    )
    assert "Idempotency-Key" in {
        p["name"] for p in document["paths"]["/mobile/v1/requests"]["post"]["parameters"]
    }
    assert api.get("/api/docs/").status_code == 200
