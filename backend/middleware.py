"""Project-wide HTTP middleware."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict


class RequestBodyLimitMiddleware:
    """Answers 413 before reading a body whose declared length is over the limit."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        raw = request.META.get("CONTENT_LENGTH") or "0"
        try:
            length = int(raw)
        except ValueError:
            return JsonResponse(
                {"detail": "Bad Content-Length.", "errors": {"Content-Length": ["Not a number."]}},
                status=400,
            )
        if length > settings.REQUEST_BODY_MAX_BYTES:
            limit_mb = settings.REQUEST_BODY_MAX_BYTES // (1024 * 1024)
            return JsonResponse(
                {
                    "detail": f"The request body is too large (limit {limit_mb} MB).",
                    "errors": {"body": [f"At most {limit_mb} MB."]},
                },
                status=413,
            )
        return self.get_response(request)


class ContentSecurityPolicyMiddleware:
    """Adds ``CONTENT_SECURITY_POLICY`` (when set) to every answer that has none."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        policy = settings.CONTENT_SECURITY_POLICY
        if policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = policy
        return response


NUL_MESSAGE = "NUL characters are not allowed."
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class NulCharacterMiddleware:
    """Answers 400 naming the field when the path, a query parameter or a form field holds a
    NUL character, which PostgreSQL cannot store or compare in text: without this, any view
    that looks such a value up would fail with a 500. (JSON bodies go through DRF's
    serializers, whose text fields refuse NUL already.)"""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        fields: list[str] = []
        if "\x00" in request.path:
            fields.append("path")
        fields += _nul_fields(request.GET)
        content_type = request.content_type or ""
        if request.method in ("POST", "PUT", "PATCH") and content_type in FORM_TYPES:
            fields += _nul_fields(request.POST)
        if fields:
            return JsonResponse(
                {"detail": NUL_MESSAGE, "errors": {field: [NUL_MESSAGE] for field in fields}},
                status=400,
            )
        return self.get_response(request)


def _nul_fields(data: QueryDict) -> list[str]:
    found = []
    for key, values in data.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            found.append(key.replace("\x00", "\\x00"))
    return found
