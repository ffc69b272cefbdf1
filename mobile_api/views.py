"""The mobile API's views: thin, one per operation; the work is in services and selectors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone, translation
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api_errors import error_response
from backend.catalog.selectors import service_type_list
from backend.intake.services import (
    IdempotencyConflict,
    IntakeError,
    IntakeResult,
    PhotoUpload,
    service_request_submit,
)
from backend.photos.models import Photo
from backend.service_requests.models import Channel
from backend.service_requests.selectors import service_request_get_public
from mobile_api.serializers import (
    PhotoOut,
    RequestCreatedOut,
    RequestIn,
    RequestPublicOut,
    ServiceOut,
)

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


def _language(request: Request) -> str:
    return (translation.get_language() or settings.LANGUAGE_CODE)[:2]


class ServiceListView(APIView):
    @extend_schema(
        operation_id="mobile_services_list",
        summary="The service catalog, localized by Accept-Language (en, es, vi)",
        responses={200: ServiceOut(many=True)},
    )
    def get(self, request: Request) -> Response:
        services = service_type_list()
        data = ServiceOut(services, many=True, context={"language": _language(request)}).data
        return Response(data)


def _when(value: datetime | None) -> str | None:
    return timezone.localtime(value).isoformat() if value is not None else None


def _created_body(result: IntakeResult, request: Request) -> dict[str, Any]:
    """The 201 answer, built directly (the hottest answer of the API: DRF's serializer
    machinery cost more than the rest of the view). ``RequestCreatedOut`` documents its shape
    and the tests check the answer against it."""
    sr = result.service_request
    photos: list[dict[str, Any]] = []
    if result.photo_ids or result.replayed:
        queryset = Photo.objects.filter(service_request=sr).order_by("created_at", "id")
        photos = list(PhotoOut(queryset, many=True, context={"request": request}).data)
    duplicate = None
    if result.possible_duplicate is not None:
        duplicate = {
            "service_request_id": result.possible_duplicate.public_id,
            "status": result.possible_duplicate.status,
            "requested_at": _when(result.possible_duplicate.requested_at),
            "distance_m": round(result.duplicate_distance_m or 0.0, 1),
        }
    return {
        "service_request_id": sr.public_id,
        "status": sr.status,
        "service_code": sr.service_type.service_code,
        "requested_at": _when(sr.requested_at),
        "expected_at": _when(sr.expected_at),
        "expected_turnaround_hours": sr.service_type.turnaround_hours,
        "possible_duplicate": duplicate,
        "photos": photos,
    }


class RequestCreateView(APIView):
    @extend_schema(
        operation_id="mobile_requests_create",
        summary="File a service request (JSON, or multipart with up to 5 `photos`)",
        request={"application/json": RequestIn, "multipart/form-data": RequestIn},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                str,
                OpenApiParameter.HEADER,
                required=False,
                description="A retry with the same key returns the first answer.",
            )
        ],
        responses={
            201: RequestCreatedOut,
            400: OpenApiResponse(ERROR_SCHEMA),
            404: OpenApiResponse(ERROR_SCHEMA),
            413: OpenApiResponse(ERROR_SCHEMA),
            422: OpenApiResponse(ERROR_SCHEMA),
        },
    )
    def post(self, request: Request) -> Response:
        data_in = RequestIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        photos: list[PhotoUpload] = []
        files: list[UploadedFile] = request.FILES.getlist("photos") if request.FILES else []
        for index, upload in enumerate(files[: settings.PHOTO_MAX_PER_REQUEST + 1]):
            if upload.size and upload.size > settings.PHOTO_MAX_BYTES:
                return error_response(
                    {
                        "photos": [
                            f"Photo {index + 1} is over {settings.PHOTO_MAX_BYTES // 10**6} MB."
                        ]
                    },
                    status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
                )
            photos.append(PhotoUpload(data=upload.read(), field="photos"))
        contact = data.get("contact") or {}
        try:
            result = service_request_submit(
                service_code=data["service_code"],
                channel=Channel.APP,
                lat=data.get("lat"),
                long=data.get("long"),
                address=data["address"],
                description=data["description"],
                attributes=data["attributes"],
                language=data.get("language") or _language(request),
                reporter=request.user,
                contact_name=contact.get("name", ""),
                contact_email=contact.get("email", ""),
                contact_phone=contact.get("phone", ""),
                photos=photos,
                idempotency_key=request.headers.get("Idempotency-Key"),
            )
        except IntakeError as exc:
            return error_response(exc.errors, status_code=exc.status)
        except IdempotencyConflict as exc:
            return error_response(
                {"Idempotency-Key": [str(exc)]},
                status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        response = Response(_created_body(result, request), status=status.HTTP_201_CREATED)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class RequestDetailView(APIView):
    @extend_schema(
        operation_id="mobile_requests_retrieve",
        summary="The public view of a request: status, expected date, photos, public events",
        responses={200: RequestPublicOut, 404: OpenApiResponse(ERROR_SCHEMA)},
    )
    def get(self, request: Request, public_id: str) -> Response:
        service_request = service_request_get_public(public_id=public_id)
        if service_request is None:
            return error_response(
                {"public_id": [f"No request {public_id}."]},
                status_code=status.HTTP_404_NOT_FOUND,
                detail="Not found.",
            )
        return Response(
            RequestPublicOut(
                service_request, context={"request": request, "language": _language(request)}
            ).data
        )
