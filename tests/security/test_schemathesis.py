"""schemathesis over the whole served OpenAPI document (/api/schema/): every operation of the
mobile API, the staff API and Open311, in-process against the WSGI application, with the
identity the operation needs (a resident's token, a crew member's, a supervisor's; anonymous on
a quarter of the cases) and, on half of the cases, the ids of real objects in the path. Every
answer: no 5xx, and status, content type and body as documented. Then a stateful run chains
operations through the links schemathesis infers. At least 1,000 generated cases in all."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.core import NOT_SET
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from backend.wsgi import application
from tests.schemathesis_run import SCHEMA_RUN, connection_kept_across_calls
from tests.security.conftest import World
from tests.workorders.factories import order_of

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 30
CASES: dict[str, int] = {}


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    with connection_kept_across_calls():
        yield


def identity(path: str) -> str:
    if path.startswith(("/api/v1/workorders", "/api/v1/requests", "/api/v1/analytics")):
        return "supervisor"
    if path.startswith("/api/v1/chat"):
        return "resident"
    if path.startswith("/mobile/v1/crew"):
        return "crew"
    if path.startswith("/mobile/v1/"):
        return "resident"
    return "anonymous"


def token_header(world: World, who: str) -> dict[str, str]:
    users = {
        "supervisor": world.staff.supervisor,
        "crew": world.staff.crew,
        "resident": world.resident,
    }
    if who not in users:
        return {}
    token, _ = Token.objects.get_or_create(user=users[who])
    return {"Authorization": f"Token {token.key}"}


def checks_for(case: Any, response: Any) -> list[Any]:
    """A documented 503 is the planned answer of a part that is away (the chat without its
    assistant: "chat answers 503 politely"), not a server error; it must still conform."""
    documented = case.operation.definition.raw.get("responses", {})
    if response.status_code == 503 and "503" in documented:
        return [check for check in CHECKS if check is not not_a_server_error]
    return CHECKS


def wrong_content_type(case: Any) -> bool:
    """A Content-Type header schemathesis set itself over the body's: one the operation does
    not take (text/plain), or multipart without its boundary."""
    sent = (case.headers or {}).get("Content-Type")
    if not sent or case.body is None or case.body is NOT_SET:
        return False
    documented = case.operation.definition.raw.get("requestBody", {}).get("content", {})
    media_type = sent.split(";")[0].strip()
    return media_type not in documented or (
        media_type == "multipart/form-data" and "boundary=" not in sent
    )


# schemathesis asks for gzip like an HTTP client but, calling the WSGI application directly,
# does not undo it: answers uncompressed here (GZipMiddleware is tested in tests/web).
PLAIN = {"Accept-Encoding": "identity"}


def prepare(case: Any, world: World) -> dict[str, str]:
    """Headers for the case, and real ids in its path on half of the cases."""
    seed = zlib.crc32(repr((case.method, case.path, case.path_parameters, case.query)).encode())
    params = case.path_parameters or {}
    if seed % 2 == 0:
        order = order_of(world.service_request)
        if "public_id" in params:
            params["public_id"] = world.service_request.public_id
        if "service_request_id" in params:
            params["service_request_id"] = world.service_request.public_id
        if "id" in params:
            params["id"] = order.pk
        if "service_code" in params:
            params["service_code"] = "pothole"
    body = case.body
    if case.method == "POST" and isinstance(body, dict) and "api_key" in body and seed % 3 == 0:
        body["api_key"] = world.open311_key
    who = "anonymous" if seed % 4 == 1 else identity(case.path)
    return {**token_header(world, who), **PLAIN}


@pytest.mark.django_db
@schema.parametrize()
@settings(SCHEMA_RUN, max_examples=EXAMPLES)
def test_every_operation_conforms_to_its_schema(case: Any, world: World) -> None:
    headers = prepare(case, world)
    CASES[case.operation.label] = CASES.get(case.operation.label, 0) + 1
    response = case.call(headers=headers)
    if wrong_content_type(case):
        # schemathesis also sends bodies under a content type the operation does not take
        # (text/plain): refused (415, or 401/404 when the caller or the object is wrong).
        assert 400 <= response.status_code < 500, response.content
        case.validate_response(response, checks=[not_a_server_error, content_type_conformance])
        return
    case.validate_response(response, checks=checks_for(case, response))


class APIWorkflows(schema.as_state_machine()):  # type: ignore[misc]
    """Chains of calls along the links schemathesis infers (a filed request's id into its
    detail, timeline and Open311 views...), as a signed-in resident."""

    world: World | None = None

    def get_call_kwargs(self, case: Any) -> dict[str, Any]:
        assert self.world is not None
        CASES["stateful"] = CASES.get("stateful", 0) + 1
        return {"headers": prepare(case, self.world)}

    def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
        case.validate_response(response, checks=checks_for(case, response))


@pytest.mark.django_db
def test_stateful_workflows(world: World) -> None:
    APIWorkflows.world = world
    CASES["stateful"] = 0
    APIWorkflows.run(
        settings=settings(
            max_examples=40,
            stateful_step_count=6,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    assert CASES["stateful"] >= 100, "the stateful run chained too few calls"


def test_over_a_thousand_cases_were_generated(request: pytest.FixtureRequest) -> None:
    """Counts the cases of the tests above (this module runs in order)."""
    ran = [
        item
        for item in request.session.items
        if getattr(item, "module", None) is request.module and item is not request.node
    ]
    if len(ran) < 40:  # only part of the module was selected (pytest -k): count what ran
        assert sum(CASES.values()) >= 1
        return
    total = sum(CASES.values())
    stateful = CASES.get("stateful", 0)
    print(f"schemathesis: {total} cases, {len(CASES) - 1} operations, {stateful} stateful calls")
    assert total >= 1000, CASES
