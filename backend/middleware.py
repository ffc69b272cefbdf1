"""Project-wide HTTP middleware."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.db import DataError
from django.http import HttpRequest, HttpResponse, JsonResponse

from backend.parsers import NUL_MESSAGE


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


class NulCharacterMiddleware:
    """A NUL character in the path, which PostgreSQL can neither store nor compare in text,
    answers 404 here (no resource has such a name) instead of a 500 from the view that looks
    it up. In query parameters and bodies it is refused where a value reaches the database:
    DRF's and Django's form text fields refuse NUL, Open311's form intake checks its fields,
    and a view's query that PostgreSQL refuses for it answers 400 naming the parameter
    (``process_exception``) instead of 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:
            return nul_answer(request, {"path": ["Not found."]}, status=404)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        """A view's query refused by PostgreSQL for a NUL character: 400, not 500."""
        if isinstance(exception, DataError) and "NUL (0x00)" in str(exception):
            return nul_answer(request, nul_fields(request), status=400)
        return None


def nul_fields(request: HttpRequest) -> dict[str, list[str]]:
    """The query parameters holding a NUL character, as errors (``query`` if none does: it
    was in the body)."""
    fields = [
        key.replace("\x00", "\\x00")
        for key, values in request.GET.lists()
        if "\x00" in key or any("\x00" in value for value in values)
    ]
    return {field: [NUL_MESSAGE] for field in fields or ["body"]}


def nul_answer(request: HttpRequest, errors: dict[str, list[str]], *, status: int) -> HttpResponse:
    if request.path.startswith("/open311/"):
        from backend.open311.errors import error_list
        from backend.open311.renderers import xml_document

        entries = error_list(errors, status=status)
        if request.path.endswith(".xml"):
            return HttpResponse(
                xml_document(entries, root="errors", item="error"),
                status=status,
                content_type="text/xml; charset=utf-8",
            )
        return JsonResponse(entries, status=status, safe=False)
    detail = "Not found." if status == 404 else NUL_MESSAGE
    return JsonResponse({"detail": detail, "errors": errors}, status=status)


class SyncChainMiddleware:
    """Last in MIDDLEWARE, sync-only, doing nothing: it makes Django build the whole chain
    above it in sync mode under ASGI. Without it the middlewares that can run either way
    (Django's own) are built async below WhiteNoise (sync-only), and each runs its
    ``process_request``/``process_response`` through a thread hop of its own: about 16
    hops between the event loop and the request's thread per request. With it: one hop in
    at the top, one out and back in for the view. bench/load.py measured the difference."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)
