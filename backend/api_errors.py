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


# --- What the server enforces of its parameters, written into the document

# Text fields refuse a NUL character (PostgreSQL cannot store one): a body's plain strings say so.
NO_NUL = "^[^\\u0000]*$"
# ...and a required one (DRF's CharField without allow_blank) something besides what
# str.strip() removes (JSON Schema's \s, and the separators \x1c-\x1f and \x85 besides).
NOT_BLANK = "^[^\\u0000]*[^\\s\\u0000\\u001c-\\u001f\\u0085][^\\u0000]*$"
_DATE_TIME_OR_EMPTY = {
    "type": "string",
    "anyOf": [{"format": "date-time"}, {"format": "date"}, {"maxLength": 0}],
}
_OPEN311_FLAG = {"type": "string", "enum": ["true", "false", "1", "0", "yes", "no", ""]}
# Open311's paging extension and the staff lists' offset/limit: whole numbers up to a million.
COUNT_MAX = 1_000_000


def _open311_query(schema: dict[str, Any]) -> dict[str, Any]:
    """GeoReport reads an empty parameter as an absent one (``jurisdiction_id=``): no
    ``minLength``; its dates are W3C date-times or dates; its flags true/false/1/0/yes/no."""
    if schema.get("type") == "boolean":
        return dict(_OPEN311_FLAG)
    if schema.get("format") == "date-time":
        return {**_DATE_TIME_OR_EMPTY, **{k: v for k, v in schema.items() if k == "description"}}
    schema = {key: value for key, value in schema.items() if key != "minLength"}
    if schema.get("type") == "integer":
        schema.setdefault("maximum", COUNT_MAX)
    return schema


def _query_string(schema: dict[str, Any], *, required: bool | None) -> dict[str, Any]:
    """A string query parameter: no NUL; an optional one may be empty, read as absent (DRF's
    fields and its ``format`` override alike)."""
    if not {"format", "enum", "pattern"} & set(schema):
        schema["pattern"] = NOT_BLANK if schema.get("minLength") and required else NO_NUL
    if required:
        return schema
    if "enum" in schema:
        kept = {k: v for k, v in schema.items() if k != "minLength"}
        return {**kept, "enum": [*schema["enum"], ""]}
    if "format" in schema:
        kept = {k: v for k, v in schema.items() if k in ("description", "default")}
        return {"type": "string", "anyOf": [{"format": schema["format"]}, {"maxLength": 0}], **kept}
    return {key: value for key, value in schema.items() if key != "minLength"}


def _strings_refuse_nul(schema: Any, components: dict[str, Any], seen: set[str]) -> None:
    if not isinstance(schema, dict):
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        name = ref.rsplit("/", 1)[1]
        if name not in seen:
            seen.add(name)
            _strings_refuse_nul(components.get(name), components, seen)
        return
    if schema.get("type") == "string" and not {"format", "enum", "pattern"} & set(schema):
        schema["pattern"] = NOT_BLANK if schema.get("minLength") else NO_NUL
    for key in ("properties", "patternProperties"):
        for sub in (schema.get(key) or {}).values():
            _strings_refuse_nul(sub, components, seen)
    for key in ("items", "additionalProperties"):
        _strings_refuse_nul(schema.get(key), components, seen)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in schema.get(key) or []:
            _strings_refuse_nul(sub, components, seen)


_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def _forms_only_when_flat(content: dict[str, Any], components: dict[str, Any]) -> None:
    """A form carries flat strings: a body with an object inside (a Web Push subscription's
    ``keys``) or a null (a feedback without rating) is JSON only, unless it uploads files."""
    schema = (content.get("application/json") or {}).get("schema") or {}
    ref = schema.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        schema = components.get(ref.rsplit("/", 1)[1], {})
    properties = (schema.get("properties") or {}).values()
    resolved = [
        components.get(p["$ref"].rsplit("/", 1)[1], {}) if "$ref" in p else p for p in properties
    ]
    nested = any(
        p.get("type") == "object" or "properties" in p or "null" in (p.get("type") or [])
        for p in resolved
    )
    uploads = any(
        p.get("format") == "binary" or (p.get("items") or {}).get("format") == "binary"
        for p in resolved
    )
    if nested and not uploads:
        for media_type in _FORMS:
            content.pop(media_type, None)


def openapi_document_parameters(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook: the constraints the server enforces on query
    parameters, headers and body strings that the views' serializers do not carry."""
    components = result.get("components", {}).get("schemas", {})
    for component in components.values():
        # What a serializer says of itself beyond its fields (extend_schema_serializer's
        # extensions): unknown fields refused, a field required by another's value...
        component.update(component.pop("x-schema", {}))
    seen: set[str] = set()
    for path, operations in result.get("paths", {}).items():
        open311 = path.startswith("/open311/")
        for operation in operations.values():
            if not isinstance(operation, dict):
                continue
            if "x-request-body" in operation:  # a DELETE's body (see mobile_api/views/push.py)
                operation["requestBody"] = operation.pop("x-request-body")
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema") or {}
                if parameter.get("in") == "query" and open311:
                    parameter["schema"] = _open311_query(schema)
                elif parameter.get("in") == "query" and schema.get("type") == "string":
                    parameter["schema"] = _query_string(schema, required=parameter.get("required"))
            content = (operation.get("requestBody") or {}).get("content", {})
            _forms_only_when_flat(content, components)
            for media in content.values():
                _strings_refuse_nul(media.get("schema"), components, seen)
    return result
