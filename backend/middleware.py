"""Project-wide HTTP middleware."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse


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
