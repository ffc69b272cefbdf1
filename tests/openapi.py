"""Checks API answers against the OpenAPI document the project serves at /api/schema/."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import jsonschema
from drf_spectacular.generators import SchemaGenerator


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    document = SchemaGenerator().get_schema(request=None, public=True)
    assert document is not None
    return dict(document)


def assert_matches_schema(data: Any, *, path: str, method: str, status: int) -> None:
    document = openapi_document()
    operation = document["paths"][path][method.lower()]
    content = operation["responses"][str(status)]["content"]["application/json"]
    schema = {**content["schema"], "components": document["components"]}
    jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator, format_checker=None)
