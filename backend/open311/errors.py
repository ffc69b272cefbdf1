"""Open311's error answers: ``[{"code": 400, "description": "field: message"}]`` (XML:
``<errors><error><code/><description/></error></errors>``), one entry per message, so a client
learns about every wrong field at once. ``exception_handler`` gives DRF's own errors
(malformed bodies, 405, 415) the same shape."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response

from backend.errors import City311Error, Errors

# Intake's error keys, as Open311 names the parameters.
INTAKE_FIELD_NAMES = {
    "address": "address_string",
    "name": "first_name",
    "attributes": "attribute",
    "photos": "media",
}


class Open311Error(City311Error):
    """A GeoReport refusal, its errors under Open311's parameter names."""

    def __init__(self, errors: Errors, *, status: int = 400) -> None:
        super().__init__(errors, status_code=status)


def error_list(errors: Errors, *, status: int) -> list[dict[str, Any]]:
    return [
        {"code": status, "description": f"{field}: {message}" if field else message}
        for field, messages in errors.items()
        for message in messages
    ]


def error_response(errors: Errors, *, status: int) -> Response:
    response = Response(error_list(errors, status=status), status=status)
    response.xml_names = ("errors", "error")  # type: ignore[attr-defined]
    return response


def intake_errors(errors: Errors) -> Errors:
    """The intake pipeline's errors under the names of the Open311 parameters."""
    named: Errors = {}
    for key, messages in errors.items():
        named.setdefault(INTAKE_FIELD_NAMES.get(key, key), []).extend(messages)
    return named


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, City311Error):  # Open311Error, IntakeError (renamed), PhotoTooLarge...
        return error_response(exc.errors, status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return error_response({"body": ["The request body is too large."]}, status=413)
    if isinstance(exc, TooManyFieldsSent):
        return error_response({"body": ["Too many fields."]}, status=400)
    if isinstance(exc, exceptions.ParseError):
        return error_response({"body": [f"Malformed body: {exc.detail}"]}, status=400)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return error_response(
            {"Content-Type": [f"{exc.detail} Send application/x-www-form-urlencoded."]},
            status=exc.status_code,
        )
    if isinstance(exc, exceptions.Throttled):
        response = error_response({"": [str(exc.detail)]}, status=exc.status_code)
        response["Retry-After"] = str(getattr(exc, "wait", None) or 60)
        return response
    if isinstance(exc, exceptions.MethodNotAllowed):
        return error_response({"": [str(exc.detail)]}, status=exc.status_code)
    if isinstance(exc, exceptions.APIException):
        return error_response({"": [str(exc.detail)]}, status=exc.status_code)
    if isinstance(exc, Http404):
        return error_response({"": ["Not found."]}, status=status.HTTP_404_NOT_FOUND)
    return None
