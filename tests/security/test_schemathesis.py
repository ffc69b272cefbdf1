"""schemathesis over the whole served OpenAPI document (/api/schema/) with every check it ships
(``--checks all``: server errors, status, content type, headers and body as documented, valid
requests accepted and invalid ones refused, missing required headers, unsupported methods,
ignored authentication, use after free, resource availability...): every operation of the
mobile API, the staff API and Open311, in-process against the WSGI application, with the
identity the operation is for (anonymous, a resident's token, a crew member's, a supervisor's;
anonymous on a quarter of the valid cases) and, on half of the valid cases, the ids of real
objects in the path. Then a stateful run chains operations through the links schemathesis
infers. At least 5,000 generated cases in all, the same ones on every run: 0 failures."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import settings
from rest_framework.authtoken.models import Token

from backend.wsgi import application
from tests.schemathesis_run import (
    SCHEMA_RUN,
    STATEFUL_RUN,
    connection_kept_across_calls,
    schema_served_by,
)
from tests.security.conftest import World
from tests.workorders.factories import order_of

schema = schema_served_by(application)
EXAMPLES = 60
CASES: dict[str, int] = {}


@pytest.fixture(autouse=True)
def _keep_the_test_connection() -> Iterator[None]:
    with connection_kept_across_calls():
        yield


def identity(path: str) -> str:
    """Whom the operation is for: staff routes a supervisor, the crew app a crew member, the
    resident app and the chat a resident; the rest (Open311, feedback...) anyone."""
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


# schemathesis asks for gzip like an HTTP client but, calling the WSGI application directly,
# does not undo it: answers uncompressed here (GZipMiddleware is tested in tests/web).
PLAIN = {"Accept-Encoding": "identity"}


def prepare(case: Any, world: World) -> dict[str, str]:
    """Headers for the case; on half of the valid cases, real ids in its path (an invalid
    case keeps what schemathesis made of it: the part it broke must stay broken)."""
    seed = zlib.crc32(repr((case.method, case.path, case.path_parameters, case.query)).encode())
    positive = case.meta is None or case.meta.generation.mode.is_positive
    params = case.path_parameters or {}
    if positive and seed % 2 == 0:
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
    real_key = positive and seed % 3 == 0 and case.method == "POST"
    if real_key and isinstance(body, dict) and "api_key" in body:
        body["api_key"] = world.open311_key
    who = "anonymous" if positive and seed % 4 == 1 else identity(case.path)
    if "Authorization" in (case.headers or {}):
        return PLAIN  # the case tries its own credentials (ignored_auth, missing header...)
    return {**token_header(world, who), **PLAIN}


@pytest.mark.django_db
@schema.parametrize()
@settings(SCHEMA_RUN, max_examples=EXAMPLES)
def test_every_operation_conforms_to_its_schema(case: Any, world: World) -> None:
    headers = prepare(case, world)
    CASES[case.operation.label] = CASES.get(case.operation.label, 0) + 1
    case.call_and_validate(headers=headers)


class APIWorkflows(schema.as_state_machine()):  # type: ignore[misc]
    """Chains of calls along the links schemathesis infers (a filed request's id into its
    detail, timeline and Open311 views...), each under the identity its route is for."""

    world: World | None = None

    def get_call_kwargs(self, case: Any) -> dict[str, Any]:
        assert self.world is not None
        CASES["stateful"] = CASES.get("stateful", 0) + 1
        return {"headers": prepare(case, self.world)}

    def validate_response(
        self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
    ) -> None:
        # The checks must know which headers were the test's own (the identity's token), or
        # they take that token for one schemathesis made up (ignored_auth).
        case.validate_response(
            response,
            additional_checks=additional_checks,
            headers=kwargs.get("headers"),
            transport_kwargs=kwargs or None,
            recorder=getattr(self, "recorder", None),
        )


@pytest.mark.django_db
def test_stateful_workflows(world: World) -> None:
    APIWorkflows.world = world
    CASES["stateful"] = 0
    APIWorkflows.run(settings=STATEFUL_RUN)
    assert CASES["stateful"] >= 200, "the stateful run chained too few calls"


def test_over_five_thousand_cases_were_generated(request: pytest.FixtureRequest) -> None:
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
    assert total >= 5000, CASES
