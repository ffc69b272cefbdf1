"""One shape for every API error: ``{"detail": "...", "errors": {"field": ["message"]}}``.

Malformed bodies, unknown fields and oversized uploads all answer 4xx naming the field. Every
refusal of the domain (a ``City311Error``) is answered here, once: views let them pass."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from backend.errors import City311Error


def _flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors":
                name = prefix or "body"
            for k, v in _flatten(value, name).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(errors, list):
        for index, item in enumerate(errors):
            if isinstance(item, dict | list):
                for k, v in _flatten(item, f"{prefix}[{index}]").items():
                    out.setdefault(k, []).extend(v)
            else:
                out.setdefault(prefix or "body", []).append(str(item))
    else:
        out.setdefault(prefix or "body", []).append(str(errors))
    return out


def invalid_input(errors: dict[str, list[str]]) -> str:
    """The ``detail`` of an answer that names only its fields."""
    return "Invalid input: " + ", ".join(errors) if errors else "Invalid input."


def error_response(errors: dict[str, list[str]], *, status_code: int, detail: str = "") -> Response:
    return Response(
        {"detail": detail or invalid_input(errors), "errors": errors}, status=status_code
    )


def city311_error_response(exc: City311Error) -> Response:
    """The answer to a refusal: its status, its ``detail`` (or "Invalid input: " and the
    fields), its errors, and what more it says (an illegal transition's current status)."""
    detail = exc.answer_detail() or invalid_input(exc.errors)
    return Response(exc.answer(detail), status=exc.status_code)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RequestDataTooBig):
        return error_response(
            {"body": ["The request body is too large."]},
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            detail="The request body is too large.",
        )
    if isinstance(exc, City311Error):
        return city311_error_response(exc)
    if isinstance(exc, TooManyFieldsSent):
        return error_response({"body": ["Too many fields."]}, status_code=400)
    if isinstance(exc, exceptions.ValidationError):
        return error_response(_flatten(exc.detail), status_code=exc.status_code)
    if isinstance(exc, exceptions.ParseError):
        return error_response(
            {"body": [str(exc.detail)]}, status_code=400, detail=f"Malformed body: {exc.detail}"
        )
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return error_response(
            {"Content-Type": [str(exc.detail)]}, status_code=exc.status_code, detail=str(exc.detail)
        )
    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(response.data, dict) and "errors" not in response.data:
        response.data["errors"] = {}
    return response


ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
}
# An error answer, as the OpenAPI document shows it.
ERROR = OpenApiResponse(ERROR_SCHEMA)
_OPEN311_ERRORS_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}


def openapi_document_415(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every operation that takes a body answers 415,
    in its error shape, to a body of a content type it does not read; the document says so."""
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "requestBody" not in operation:
                continue
            responses = operation.setdefault("responses", {})
            if "415" in responses:
                continue
            open311 = path.startswith("/open311/")
            schema = _OPEN311_ERRORS_SCHEMA if open311 else ERROR_SCHEMA
            media_type = "application/json"
            responses["415"] = {
                "description": "The body's Content-Type is not one this operation reads",
                "content": {media_type: {"schema": schema}},
            }
            if open311 and path.endswith(".xml"):
                responses["415"]["content"] = {
                    "text/xml": {"schema": {"type": "string", "description": "GeoReport v2 XML"}}
                }
    return result
