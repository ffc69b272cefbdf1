"""The Open311 GeoReport v2 views: thin, one per resource; the format comes from the path's
suffix (``.json`` or ``.xml``) through the ``format`` URL argument, never from ``Accept``.
Work is done by ``parameters`` (query checks), ``selectors`` (reads), ``services`` (writes,
through the intake pipeline) and ``serializers`` (shapes)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import Resolver404, resolve, reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.parsers import BaseParser, FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.catalog.selectors import emergency_state, service_type_list
from backend.i18n import language_current
from backend.intake.services import PhotoUpload
from backend.intake.validation import service_available_check
from backend.open311 import serializers as out
from backend.open311.errors import Open311Error, error_list, exception_handler
from backend.open311.models import ApiKey, TokenState
from backend.open311.parameters import (
    RequestQuery,
    flag_parse,
    jurisdiction_check,
    partner_update_parse,
    requests_query_parse,
    updates_query_parse,
)
from backend.open311.renderers import Open311JSONRenderer, Open311XMLRenderer, xml_document
from backend.open311.schema import Open311Schema
from backend.open311.selectors import (
    intake_token_get,
    open311_requests_find,
    request_updates_find,
    service_info,
)
from backend.open311.services import (
    Submission,
    api_key_authenticate,
    api_key_updates_check,
    open311_request_submit,
    partner_update_submit,
)
from backend.parsers import NUL_MESSAGE
from backend.photos.uploads import photo_size_check
from backend.process_cache import ProcessCache
from backend.ratelimit import intake_throttle
from backend.service_requests.selectors import moderation_version

# When the discovery document (the endpoint list) last changed.
DISCOVERY_CHANGESET = "2026-11-21T00:00:00Z"
_ATTRIBUTE_KEY = re.compile(r"^attribute\[(?P<code>[^\]]*)\](?P<many>\[\])?$")
_PHOTO_FIELD = re.compile(r"^photo(?P<n>[1-9]\d{0,2})$")

ERRORS = OpenApiResponse(
    {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "code": {"type": "integer", "description": "The HTTP status"},
                "description": {"type": "string", "description": "`field: message`"},
            },
            "required": ["code", "description"],
        },
    },
    description="Errors: `[{code, description}]`, one per message",
)
REQUESTS = ("service_requests", "request")


def _errors(*statuses: int) -> dict[int, OpenApiResponse]:
    """The OpenAPI responses of these error statuses: each answers the Open311 error list."""
    return dict.fromkeys(statuses, ERRORS)


def _form_body(serializer: type[Any]) -> dict[str, Any]:
    """A POST's body for OpenAPI: a form, urlencoded or multipart."""
    return {"application/x-www-form-urlencoded": serializer, "multipart/form-data": serializer}


class FormatNegotiation(BaseContentNegotiation):
    """The path's suffix decides; the Accept header does not (clients send all sorts)."""

    def select_parser(self, request: Request, parsers: Iterable[BaseParser]) -> BaseParser | None:
        content_type = request.content_type.split(";")[0].strip().lower()
        for parser in parsers:
            if parser.media_type == content_type:
                return parser
        return None

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        available = list(renderers)
        for renderer in available:
            if renderer.format == (format_suffix or "json"):
                return renderer, renderer.media_type
        return available[0], available[0].media_type


class Open311View(APIView):
    renderer_classes = [Open311JSONRenderer, Open311XMLRenderer]
    parser_classes: list[type[BaseParser]] = []
    content_negotiation_class = FormatNegotiation
    authentication_classes = []  # api_key only: no session, so no CSRF either
    permission_classes = [AllowAny]
    schema = Open311Schema()
    open311_operation = ""

    def get_exception_handler(self) -> Callable[[Exception, dict[str, Any]], Response | None]:
        return exception_handler

    @staticmethod
    def language() -> str:
        return language_current()


def _answer(data: Any, *, names: tuple[str, str], status: int = 200) -> Response:
    response = Response(data, status=status)
    response.xml_names = names  # type: ignore[attr-defined]
    return response


def _absolute(request: Request) -> Callable[[str], str]:
    return request.build_absolute_uri


class DiscoveryView(Open311View):
    open311_operation = "discovery"

    @extend_schema(
        summary="Discovery: where this GeoReport v2 endpoint is and what it speaks",
        responses={200: out.Open311DiscoveryOut},
    )
    def get(self, request: Request, format: str = "json") -> Response:
        discovery = reverse("open311:discovery", kwargs={"format": format})
        base = request.build_absolute_uri(discovery.rsplit("/", 1)[0] + "/")
        data = out.discovery_data(
            endpoint_url=base,
            changeset=DISCOVERY_CHANGESET,
            contact=settings.OPEN311_CONTACT,
            production=not settings.DEBUG,
        )
        return _answer(data, names=("discovery", ""))


class ServiceListView(Open311View):
    open311_operation = "services_list"

    @extend_schema(
        summary="The service list (the catalog), localized by Accept-Language",
        parameters=[out.Open311JurisdictionQueryIn],
        responses={200: out.Open311ServiceOut(many=True), **_errors(404)},
    )
    def get(self, request: Request, format: str = "json") -> Response:
        jurisdiction_check(request.query_params)
        language = self.language()
        off = emergency_state().suspended_codes()  # switched off for now: left out
        data = [
            out.service_data(s, language=language)
            for s in service_type_list()
            if s.service_code not in off
        ]
        return _answer(data, names=("services", "service"))


class ServiceDefinitionView(Open311View):
    open311_operation = "service_definition"

    @extend_schema(
        summary="A service's definition: the attributes asked when reporting it",
        parameters=[out.Open311JurisdictionQueryIn],
        responses={200: out.Open311ServiceDefinitionOut, **_errors(404)},
    )
    def get(self, request: Request, service_code: str, format: str = "json") -> Response:
        jurisdiction_check(request.query_params)
        service = service_type_list().filter(service_code=service_code).first()
        if service is None:
            raise Open311Error(
                {"service_code": [f"There is no service {service_code!r}."]}, status=404
            )
        errors: dict[str, list[str]] = {}
        if not service_available_check(service_type=service, errors=errors):
            raise Open311Error(errors, status=404)
        data = out.service_definition_data(service, language=self.language())
        return _answer(data, names=("service_definition", ""))


def _submission(data: QueryDict) -> Submission:
    nul = [
        key
        for key, values in data.lists()
        if "\x00" in key or any(isinstance(v, str) and "\x00" in v for v in values)
    ]
    if nul:
        raise Open311Error({key.replace("\x00", "\\x00"): [NUL_MESSAGE] for key in nul})

    def text(name: str) -> str:
        value = data.get(name)
        return value if isinstance(value, str) else ""

    def number(name: str) -> str | None:
        value = text(name).strip()
        return value or None

    attributes: dict[str, Any] = {}
    for key in data:
        match = _ATTRIBUTE_KEY.match(key)
        if match is None:
            continue
        values = [v for v in data.getlist(key) if isinstance(v, str)]
        code = match["code"]
        if match["many"] or len(values) > 1 or isinstance(attributes.get(code), list):
            previous = attributes.get(code, [])
            attributes[code] = (previous if isinstance(previous, list) else [previous]) + values
        elif values:
            attributes[code] = values[0]
    name = " ".join(
        part for part in (text("first_name").strip(), text("last_name").strip()) if part
    )
    return Submission(
        service_code=text("service_code").strip(),
        lat=number("lat"),
        long=number("long"),
        address=text("address_string"),
        address_id=text("address_id").strip(),
        description=text("description"),
        attributes=attributes,
        contact_name=name,
        contact_email=text("email"),
        contact_phone=text("phone"),
        media_url=text("media_url"),
    )


def _keyed_form(request: Request) -> tuple[QueryDict, ApiKey]:
    """A POST's form and its active key (form field, or query parameter), or 403 naming
    ``api_key``."""
    data = request.data
    if not isinstance(data, QueryDict):  # pragma: no cover - the parsers give QueryDicts
        raise Open311Error({"body": ["Send a form."]})
    jurisdiction_check(data)
    jurisdiction_check(request.query_params)
    raw_key = data.get("api_key") or request.query_params.get("api_key")
    api_key = api_key_authenticate(raw=raw_key if isinstance(raw_key, str) else None)
    if api_key is None:
        message = "Wrong or revoked api_key." if raw_key else "An api_key is required."
        raise Open311Error({"api_key": [message]}, status=403)
    return data, api_key


def _photos(request: Request) -> list[PhotoUpload]:
    """``media`` and FixMyStreet's ``photo1``..``photoN``, in that order."""
    files = request.FILES
    fields: list[tuple[int, str]] = []
    for name in files:
        match = _PHOTO_FIELD.match(name)
        if name == "media":
            fields.append((0, name))
        elif match:
            fields.append((int(match["n"]), name))
    uploads: list[PhotoUpload] = []
    limit = settings.PHOTO_MAX_PER_REQUEST + 1  # one more, so intake can say "too many"
    for _, name in sorted(fields):
        for upload in files.getlist(name):
            if len(uploads) >= limit:
                break
            assert isinstance(upload, UploadedFile)
            photo_size_check(upload, field=name)  # too large: 413 (errors.exception_handler)
            uploads.append(PhotoUpload(data=upload.read(), field=name))
    return uploads


# At most 32 lists of up to 1,000 requests (a few MB) per process, whatever the queries.
# Keyed by the moderation version too: once a request is hidden or redacted (in any
# process), no process answers from a list read before.
_REQUEST_LISTS: ProcessCache[list[dict[str, Any]]] = ProcessCache(
    "open311 request lists",
    ttl_setting="OPEN311_LIST_CACHE_SECONDS",
    max_entries=32,
    version=moderation_version,
)


class RequestsView(Open311View):
    open311_operation = "requests"
    parser_classes = [FormParser, MultiPartParser]

    @extend_schema(
        summary="Service requests: by id, or filtered (default: the last 90 days, at most 1000)",
        parameters=[out.Open311RequestsQueryIn],
        responses={200: out.Open311RequestOut(many=True), **_errors(400, 404)},
    )
    def get(self, request: Request, format: str = "json") -> Response:
        language = self.language()

        def load() -> list[dict[str, Any]]:
            query = requests_query_parse(request.query_params)
            page = open311_requests_find(query=query, language=language)
            return out.request_list_data(page, absolute=_absolute(request))

        # Pollers asking the same question within OPEN311_LIST_CACHE_SECONDS share one read
        # (public data only; a refused query raises and is not kept).
        key = (request.build_absolute_uri("/"), language, request.META.get("QUERY_STRING"))
        return _answer(_REQUEST_LISTS.get(key, load), names=REQUESTS)

    @extend_schema(
        summary="File a service request (api_key required)",
        request=_form_body(out.Open311RequestCreateIn),
        responses={
            200: out.Open311RequestFiledOut(many=True),
            **_errors(400, 403, 404, 413, 429),
        },
    )
    def post(self, request: Request, format: str = "json") -> Response:
        data, api_key = _keyed_form(request)
        intake_throttle(request, client_key=f"open311:{api_key.pk}", partner=True)
        submission = _submission(data)
        photos = _photos(request)
        filed = open311_request_submit(api_key=api_key, submission=submission, photos=photos)
        if filed.token is not None:
            body = out.request_filed_data(
                service_request_id=None, token=filed.token.token, notice=None
            )
        else:
            sr = filed.service_request
            assert sr is not None
            info = service_info(sr.service_type, language=self.language())
            body = out.request_filed_data(
                service_request_id=sr.public_id, token=None, notice=out.service_notice(info)
            )
        return _answer([body], names=REQUESTS)


class RequestDetailView(Open311View):
    open311_operation = "request"

    @extend_schema(
        summary="One service request (still an array of one)",
        parameters=[out.Open311RequestQueryIn],
        responses={200: out.Open311RequestOut(many=True), **_errors(400, 404)},
    )
    def get(self, request: Request, service_request_id: str, format: str = "json") -> Response:
        jurisdiction_check(request.query_params)
        errors: dict[str, list[str]] = {}
        extensions = flag_parse(request.query_params, "extensions", errors)
        if errors:
            raise Open311Error(errors)
        query = RequestQuery(ids=(service_request_id,), extensions=extensions)
        page = open311_requests_find(query=query, language=self.language())
        if not page.rows:
            raise Open311Error(
                {"service_request_id": [f"There is no request {service_request_id!r}."]},
                status=404,
            )
        return _answer(out.request_list_data(page, absolute=_absolute(request)), names=REQUESTS)


class TokenView(Open311View):
    open311_operation = "token"

    @extend_schema(
        summary="The request a token (asynchronous intake) became; null while pending",
        parameters=[out.Open311JurisdictionQueryIn],
        responses={200: out.Open311TokenOut(many=True), **_errors(400, 404)},
    )
    def get(self, request: Request, token: str, format: str = "json") -> Response:
        jurisdiction_check(request.query_params)
        found = intake_token_get(token=token)
        if found is None:
            raise Open311Error({"token": [f"There is no token {token!r}."]}, status=404)
        if found.state == TokenState.REJECTED:
            # The submission failed the intake pipeline: its errors, as POST would have said.
            raise Open311Error(found.errors, status=found.error_status or 400)
        service_request_id = found.service_request.public_id if found.service_request else None
        return _answer(
            [{"service_request_id": service_request_id, "token": found.token}], names=REQUESTS
        )


class RequestUpdatesView(Open311View):
    open311_operation = "servicerequestupdates"
    parser_classes = [FormParser, MultiPartParser]

    @extend_schema(
        summary="FixMyStreet's update feed: status changes between start_date and end_date",
        parameters=[out.Open311UpdatesQueryIn],
        responses={200: out.Open311RequestUpdateOut(many=True), **_errors(400, 404)},
    )
    def get(self, request: Request, format: str = "json") -> Response:
        query = updates_query_parse(request.query_params)
        data = [out.request_update_data(row) for row in request_updates_find(query=query)]
        return _answer(data, names=("service_requests_updates", "request_update"))

    @extend_schema(
        summary="Post a resident's update (a partner key with the updates permission): a "
        "comment held for moderation; idempotent on update_id",
        request=_form_body(out.Open311RequestUpdateCreateIn),
        responses={200: out.Open311RequestUpdateFiledOut(many=True), **_errors(400, 403, 404, 429)},
    )
    def post(self, request: Request, format: str = "json") -> Response:
        data, api_key = _keyed_form(request)
        api_key_updates_check(api_key=api_key)
        intake_throttle(request, client_key=f"open311:{api_key.pk}", partner=True)
        update = partner_update_parse(data)
        filed = partner_update_submit(api_key=api_key, update=update)
        body = {"update_id": out.comment_update_id(filed.comment_id)}
        return _answer([body], names=("service_request_updates", "request_update"))


# --- Plain Django views around the API: an Open311 404 for unknown paths, and the base URL
# tolerated with a doubled slash or without its trailing slash.


def _format_of(path: str) -> str:
    return "xml" if path.endswith(".xml") else "json"


def not_found(request: HttpRequest, rest: str = "") -> HttpResponse:
    errors = {"": [f"No Open311 resource at {request.path}."]}
    body = error_list(errors, status=404)
    if _format_of(request.path) == "xml":
        return HttpResponse(
            xml_document(body, root="errors", item="error"),
            status=404,
            content_type="text/xml; charset=utf-8",
        )
    return HttpResponse(
        json.dumps(body), status=404, content_type="application/json; charset=utf-8"
    )


def base_tolerant(request: HttpRequest, rest: str) -> HttpResponse:
    """``/open311/v2services.xml`` (a client that glues the name onto a base without its
    trailing slash) and ``/open311/v2//services.xml`` answer as ``/open311/v2/services.xml``."""
    try:
        match = resolve("/open311/v2/" + rest.lstrip("/"))
    except Resolver404:
        return not_found(request)
    response: HttpResponse = match.func(request, *match.args, **match.kwargs)
    return response
