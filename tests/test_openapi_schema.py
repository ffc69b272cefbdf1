"""The OpenAPI document is served, valid, documents the mobile API's paths exactly, and says
what the server refuses (the rest is schemathesis's, tests/security/test_schemathesis.py)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import yaml
from django.core.management import call_command
from jsonschema import FormatChecker
from rest_framework.test import APIClient

from tests.openapi import openapi_document
from tests.workorders.factories import staff_make, token_client, user_make


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


def _operation(path: str, method: str) -> dict[str, Any]:
    return dict(openapi_document()["paths"][path][method])


def _query(path: str, name: str) -> dict[str, Any]:
    parameters = _operation(path, "get")["parameters"]
    return next(p["schema"] for p in parameters if p["name"] == name and p["in"] == "query")


def _body(path: str, method: str = "post") -> dict[str, Any]:
    schema = _operation(path, method)["requestBody"]["content"]["application/json"]["schema"]
    return dict(openapi_document()["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])


def _accepts(schema: dict[str, Any], value: Any) -> bool:
    schema = {**schema, "components": openapi_document()["components"]}
    validator = jsonschema.Draft202012Validator(schema, format_checker=FormatChecker())
    return validator.is_valid(value)


def test_open311_reads_an_empty_parameter_as_absent() -> None:
    # GeoReport: an empty jurisdiction_id or start_date is an absent one, not a wrong one.
    assert _accepts(_query("/open311/v2/services.json", "jurisdiction_id"), "")
    start = _query("/open311/v2/servicerequestupdates.json", "start_date")
    assert _accepts(start, "") and _accepts(start, "2026-01-01T09:30:00-05:00")
    assert not _accepts(start, "yesterday")
    flag = _query("/open311/v2/requests.json", "extensions")
    assert _accepts(flag, "") and _accepts(flag, "true") and not _accepts(flag, "maybe")


def test_the_document_says_what_the_server_refuses() -> None:
    # No NUL in a text field; "" reads as absent in an optional query parameter.
    chat = _body("/api/v1/chat/")
    assert not _accepts(chat, {"message": "a\x00b"}) and _accepts(chat, {"message": "hi"})
    assert not _accepts(chat, {"message": "hi", "unknown": 1})  # the chat refuses extras
    assert _accepts(_query("/api/v1/analytics/live", "format"), "")
    assert not _accepts(_query("/api/v1/analytics/live", "format"), "xml")
    # A hold for "other" reason needs a note.
    hold = _body("/api/v1/workorders/{id}/hold")
    assert not _accepts(hold, {"reason": "other", "note": "  "})
    assert _accepts(hold, {"reason": "other", "note": "Waiting for the owner"})
    # Paging is bounded; a Web Push subscription is JSON (its keys are an object).
    assert _query("/api/v1/workorders", "offset")["minimum"] == 0
    assert _query("/api/v1/workorders", "limit")["minimum"] == 1
    content = _operation("/mobile/v1/push/subscriptions", "post")["requestBody"]["content"]
    assert set(content) == {"application/json"}
    assert (
        "endpoint"
        in _operation("/mobile/v1/push/subscriptions", "delete")["requestBody"]["content"][
            "application/json"
        ]["schema"]["required"]
    )


@pytest.mark.django_db
def test_paging_that_is_not_a_number_is_refused() -> None:
    client = token_client(staff_make().supervisor)
    for query in ("offset=null", "limit=0", "offset=-1", "limit=1e3"):
        response = client.get(f"/api/v1/workorders?{query}")
        assert response.status_code == 400, query
        assert set(response.json()["errors"]) == {query.split("=")[0]}
    assert client.get("/api/v1/workorders?offset=0&limit=500").status_code == 200


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 400, response.content
    assert set(response.json()["errors"]) == {field}


@pytest.mark.django_db
def test_what_the_document_refuses_the_server_refuses() -> None:
    supervisor = token_client(staff_make().supervisor)
    # A date off the calendar ran a trailing quarter off it: a 500 before.
    _refused(supervisor.get("/api/v1/analytics/equity?date=0001-01-01"), "date")
    # An unknown table is refused in JSON too; a number is not a push token.
    _refused(supervisor.get("/api/v1/analytics/satisfaction?table=nope"), "table")
    resident = token_client(user_make("rita@example.org"))
    device = {"platform": "ios", "push_token": 12345}
    _refused(resident.post("/mobile/v1/devices", device, format="json"), "push_token")
