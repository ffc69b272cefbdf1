"""Residents: "me too" on a request someone else filed (a signed-in resident, or the app
without an account by its device id)."""

from __future__ import annotations

import re

from django.utils.translation import gettext
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from backend.api_errors import ERROR
from backend.errors import City311Error
from backend.service_requests.selectors import service_request_get_visible
from backend.service_requests.support import (
    SupportResult,
    service_request_support_add,
    service_request_support_remove,
)
from mobile_api.serializers import SupportIn, SupportOut
from mobile_api.views.base import MobileView, parsed, request_found

DEVICE_HEADER = "Device-Id"
# An opaque id the app makes once and keeps (a UUID, say): letters, digits and . _ : -
DEVICE_ID = re.compile(r"[A-Za-z0-9._:-]{16,128}")
DEVICE_ID_PARAMETER = OpenApiParameter(
    DEVICE_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Without an account: the app's own opaque id for this phone (16 to 128 "
    "letters, digits, '.', '_', ':' or '-', e.g. a UUID made once and kept). Stored hashed, "
    "never shown. Ignored when signed in (the account counts).",
)
SUPPORT_ERRORS = {400: ERROR, 401: ERROR, 404: ERROR}


def _device_id(request: Request) -> str:
    """The app's device id when nobody is signed in ("" when signed in), or a 400 naming the
    header."""
    if request.user.is_authenticated:
        return ""
    value = request.headers.get(DEVICE_HEADER, "").strip()
    if not value:
        raise City311Error(gettext("Sign in, or send the app's device id."), field=DEVICE_HEADER)
    if not DEVICE_ID.fullmatch(value):
        raise City311Error(
            gettext("16 to 128 letters, digits, '.', '_', ':' or '-'."), field=DEVICE_HEADER
        )
    return value


def _answer(public_id: str, result: SupportResult, *, status_code: int) -> Response:
    body = SupportOut(
        {
            "service_request_id": public_id,
            "supporters": result.supporters,
            "supporting": result.supporting,
            "following": result.following,
        }
    ).data
    return Response(body, status=status_code)


class RequestSupportView(MobileView):
    @extend_schema(
        operation_id="mobile_requests_support",
        summary='"Me too": I have the same problem (counted once per person)',
        description="A signed-in resident (token), or the app without an account with its "
        "`Device-Id` header. Sending it again counts once: 201 when counted now, 200 when it "
        "was already. `follow: true` (signed in) also makes me a follower. A closed request: "
        "409 naming `status`; an unknown one: 404.",
        parameters=[DEVICE_ID_PARAMETER],
        request=SupportIn,
        responses={200: SupportOut, 201: SupportOut, 409: ERROR, **SUPPORT_ERRORS},
    )
    def post(self, request: Request, public_id: str) -> Response:
        service_request = request_found(service_request_get_visible(public_id=public_id), public_id)
        data = parsed(SupportIn, request.data)
        device_id = _device_id(request)
        if data["follow"] and not request.user.is_authenticated:
            raise City311Error(gettext("Sign in to follow a request."), field="follow")
        result = service_request_support_add(
            service_request=service_request,
            user=request.user,
            device_id=device_id,
            follow=data["follow"],
        )
        code = status.HTTP_201_CREATED if result.changed else status.HTTP_200_OK
        return _answer(public_id, result, status_code=code)

    @extend_schema(
        operation_id="mobile_requests_support_remove",
        summary="Take my support back (only mine; none given: nothing changes)",
        parameters=[DEVICE_ID_PARAMETER],
        request=None,
        responses={200: SupportOut, **SUPPORT_ERRORS},
    )
    def delete(self, request: Request, public_id: str) -> Response:
        service_request = request_found(service_request_get_visible(public_id=public_id), public_id)
        result = service_request_support_remove(
            service_request=service_request, user=request.user, device_id=_device_id(request)
        )
        return _answer(public_id, result, status_code=status.HTTP_200_OK)
