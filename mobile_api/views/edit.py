"""Residents: correcting a request just filed (its description, more photos) within the edit
window, by the signed-in reporter or, without an account, with the request's edit token."""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from backend.api_errors import ERROR
from backend.intake.edit import (
    EditResult,
    edit_window_ends,
    service_request_edit,
    service_request_for_reporter_edit,
)
from backend.photos.models import Photo, PhotoKind
from backend.photos.uploads import request_photos
from backend.service_requests.models import Channel, ServiceRequest
from mobile_api.serializers import RequestEditIn, RequestEditOut, RequestPhotosIn
from mobile_api.views.base import MobileView, parsed

EDIT_HEADER = "Edit-Token"
EDIT_TOKEN_PARAMETER = OpenApiParameter(
    EDIT_HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="Filed without an account: the `edit_token` of the 201 answer. Not needed "
    "when signed in as the reporter.",
)
EDIT_ERRORS = {400: ERROR, 404: ERROR, 409: ERROR}
EDIT_DESCRIPTION = (
    "Only the reporter: the signed-in account that filed it, or the app that filed it "
    "without an account, with its `Edit-Token` (anyone else: 404). Within "
    f"`EDIT_WINDOW_MINUTES` (default {settings.EDIT_WINDOW_MINUTES}) of filing and before "
    "work starts; after that 409 naming the field. Each change is an `edited` event on the "
    "public timeline (what changed, never the old text)."
)


def _reporter_request(request: Request, public_id: str) -> ServiceRequest:
    return service_request_for_reporter_edit(
        public_id=public_id,
        user=request.user,
        edit_token=request.headers.get(EDIT_HEADER, ""),
    )


def _answer(request: Request, result: EditResult) -> Response:
    service_request = result.service_request
    photos = Photo.objects.filter(service_request=service_request, kind=PhotoKind.REPORT)
    body = {
        "service_request": service_request,
        "changed": result.changed,
        "photos": photos.order_by("created_at", "id"),
        "edit_until": edit_window_ends(service_request),
    }
    return Response(RequestEditOut(body, context={"request": request}).data)


class RequestEditMixin:
    """``PATCH`` on the request's own path (its detail view adds this)."""

    @extend_schema(
        operation_id="mobile_requests_edit",
        summary="Correct the description of a request I filed (within the edit window)",
        description=EDIT_DESCRIPTION,
        parameters=[EDIT_TOKEN_PARAMETER],
        request={"application/json": RequestEditIn},  # one text field: JSON, as the apps send
        responses={200: RequestEditOut, **EDIT_ERRORS},
    )
    def patch(self, request: Request, public_id: str) -> Response:
        service_request = _reporter_request(request, public_id)
        data = parsed(RequestEditIn, request.data)
        result = service_request_edit(
            service_request=service_request,
            actor=request.user,
            channel=Channel.APP,
            description=data["description"],
        )
        return _answer(request, result)


class RequestPhotosAddView(MobileView):
    @extend_schema(
        operation_id="mobile_requests_photos_add",
        summary="Add photos to a request I filed (multipart `photos`, within the edit window)",
        description=EDIT_DESCRIPTION
        + " Photos are checked as at filing (413 for one over the size limit), at most "
        f"{settings.PHOTO_MAX_PER_REQUEST} per request in all.",
        parameters=[EDIT_TOKEN_PARAMETER],
        request={"multipart/form-data": RequestPhotosIn},
        responses={200: RequestEditOut, 413: ERROR, **EDIT_ERRORS},
    )
    def post(self, request: Request, public_id: str) -> Response:
        service_request = _reporter_request(request, public_id)
        result = service_request_edit(
            service_request=service_request,
            actor=request.user,
            channel=Channel.APP,
            photos=request_photos(request),  # one too large: 413 (backend/api_errors.py)
        )
        return _answer(request, result)
