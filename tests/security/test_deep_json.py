"""A JSON body nested far deeper than any real one (``[[[[...]]]]``, 100,000 levels) makes
Python's decoder raise ``RecursionError``, not ``ValueError``: every operation of the served
OpenAPI document that takes JSON must still answer 400 naming the body, never 500. Each is
called as the identity it serves, on real objects, so the body is really read."""

from __future__ import annotations

import re
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from tests.security.access.fixtures import feedback_token, order_pk
from tests.security.conftest import World
from tests.security.test_schemathesis import identity
from workorders.models import WorkOrderStatus

DEPTH = 100_000
DEEP = "[" * DEPTH + "]" * DEPTH
WHO = {"supervisor": "supervisor", "crew": "crew", "resident": "resident"}


def json_operations() -> list[tuple[str, str]]:
    document: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                found.append((method.upper(), path))
    return sorted(found)


OPERATIONS = json_operations()


def test_the_schema_has_json_operations_to_try() -> None:
    # The mobile, crew, staff and chat APIs all take JSON: the list below is not empty.
    paths = {path for _, path in OPERATIONS}
    assert {"/mobile/v1/requests", "/api/v1/chat/", "/mobile/v1/push/subscriptions"} <= paths
    assert any(path.startswith("/mobile/v1/crew/") for path in paths)
    assert any(path.startswith("/api/v1/workorders/") for path in paths)


def concrete(path: str, world: World) -> str:
    values = {
        "id": lambda: str(order_pk(WorkOrderStatus.IN_PROGRESS)(world)),
        "public_id": lambda: world.service_request.public_id,
        "service_request_id": lambda: world.service_request.public_id,
        "token": lambda: feedback_token(world),
    }
    return re.sub(r"\{(\w+)\}", lambda match: values[match.group(1)](), path)


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_a_body_nested_too_deeply_answers_400_naming_the_body(
    world: World, method: str, path: str
) -> None:
    who = identity(path)
    client = world.api(WHO.get(who, "anonymous"))
    url = concrete(path, world)
    answer = client.generic(
        method,
        url,
        DEEP,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="deep-json",
    )
    assert answer.status_code == 400, (url, answer.status_code, answer.content[:300])
    body = answer.json()
    assert "body" in body["errors"], body
    assert "nested too deeply" in " ".join(body["errors"]["body"])
