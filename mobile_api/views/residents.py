"""Residents: the catalog, filing a request, following it, and answering "Was it fixed?"."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.gis.geos import Point
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from backend.api_errors import ERROR
from backend.cases.feedback import feedback_submit
from backend.catalog.selectors import (
    emergency_state,
    service_type_get_for_intake,
    service_type_list,
)
from backend.errors import City311Error, ErrorCode, found
from backend.i18n import language_current
from backend.intake.edit import edit_token_make, edit_window_ends
from backend.intake.services import IntakeResult, PhotoUpload, service_request_submit
from backend.photos.models import Photo
from backend.photos.uploads import request_photos
from backend.ratelimit import intake_throttle
from backend.service_requests.models import Channel, ServiceRequest
from backend.service_requests.selectors import service_request_get_public
from backend.service_requests.services import service_request_follower_add
from mobile_api.selectors import (
    service_request_get,
    service_request_get_for_reporter,
    service_request_timeline,
    service_requests_nearby,
    service_requests_of_reporter,
)
from mobile_api.serializers import (
    FollowOut,
    MyRequestOut,
    NearbyOut,
    NearbyQueryIn,
    PhotoOut,
    RequestCreatedOut,
    RequestIn,
    RequestPublicOut,
    ResidentFeedbackIn,
    ResidentFeedbackOut,
    ServiceOut,
    TimelineOut,
)
from mobile_api.services import service_request_unfollow
from mobile_api.views.base import (
    AUTH_ERRORS,
    MobileView,
    SignedInView,
    client_key,
    parsed,
    request_found,
)
from mobile_api.views.edit import RequestEditMixin
from workorders.selectors import close_event_latest

MY_REQUESTS_MAX = 200


class ServiceListView(MobileView):
    @extend_schema(
        operation_id="mobile_services_list",
        summary="The service catalog, localized by Accept-Language (en, es, vi)",
        responses={200: ServiceOut(many=True)},
    )
    def get(self, request: Request) -> Response:
        services = service_type_list()
        context = {"language": language_current(), "emergency": emergency_state()}
        data = ServiceOut(services, many=True, context=context).data
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
        **_edit_fields(sr, request),
    }


def _edit_fields(sr: ServiceRequest, request: Request) -> dict[str, Any]:
    """Until when the reporter may correct it, and, filed without an account, the token that
    shows they filed it (a signed-in reporter is known by their account)."""
    fields: dict[str, Any] = {"edit_until": _when(edit_window_ends(sr))}
    if not request.user.is_authenticated:
        fields["edit_token"] = edit_token_make(public_id=sr.public_id)
    return fields


class RequestCreateView(MobileView):
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
            400: ERROR,
            404: ERROR,
            413: ERROR,
            422: ERROR,
            429: ERROR,
        },
    )
    def post(self, request: Request) -> Response:
        intake_throttle(request, client_key=client_key(request))
        data = parsed(RequestIn, request.data)
        photos = [PhotoUpload(data=data, field="photos") for data in request_photos(request)]
        contact = data.get("contact") or {}
        result = service_request_submit(
            service_code=data["service_code"],
            channel=Channel.APP,
            lat=data.get("lat"),
            long=data.get("long"),
            address=data["address"],
            description=data["description"],
            attributes=data["attributes"],
            language=data.get("language") or language_current(),
            reporter=request.user,
            contact_name=contact.get("name", ""),
            contact_email=contact.get("email", ""),
            contact_phone=contact.get("phone", ""),
            photos=photos,
            idempotency_key=request.headers.get("Idempotency-Key"),
        )
        response = Response(_created_body(result, request), status=status.HTTP_201_CREATED)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class RequestDetailView(RequestEditMixin, MobileView):
    @extend_schema(
        operation_id="mobile_requests_retrieve",
        summary="The public view of a request: status, expected date, photos, public events",
        responses={200: RequestPublicOut, 404: ERROR},
    )
    def get(self, request: Request, public_id: str) -> Response:
        service_request = request_found(service_request_get_public(public_id=public_id), public_id)
        return Response(
            RequestPublicOut(
                service_request, context={"request": request, "language": language_current()}
            ).data
        )


class RequestNearbyView(MobileView):
    @extend_schema(
        operation_id="mobile_requests_nearby",
        summary="Open requests of a service near a point: follow one instead of filing again",
        parameters=[NearbyQueryIn],
        responses={200: NearbyOut(many=True), 400: ERROR, 404: ERROR},
    )
    def get(self, request: Request) -> Response:
        data = parsed(NearbyQueryIn, request.query_params)
        service_type = found(
            service_type_get_for_intake(service_code=data["service_code"]),
            data["service_code"],
            field="service_code",
            what="service",
        )
        nearby = service_requests_nearby(
            service_type=service_type, point=Point(data["long"], data["lat"], srid=4326)
        )
        return Response(NearbyOut(nearby, many=True).data)


class MyRequestListView(SignedInView):
    @extend_schema(
        operation_id="mobile_me_requests",
        summary="The requests I filed, newest first (with the contact data I gave)",
        responses={200: MyRequestOut(many=True), 401: ERROR},
    )
    def get(self, request: Request) -> Response:
        requests = service_requests_of_reporter(user=request.user)[:MY_REQUESTS_MAX]
        return Response(
            MyRequestOut(requests, many=True, context={"language": language_current()}).data
        )


class RequestTimelineView(MobileView):
    @extend_schema(
        operation_id="mobile_requests_timeline",
        summary="A request's public timeline: its events and photos (report and proof)",
        responses={200: TimelineOut, 404: ERROR},
    )
    def get(self, request: Request, public_id: str) -> Response:
        service_request = request_found(service_request_timeline(public_id=public_id), public_id)
        return Response(TimelineOut(service_request, context={"request": request}).data)


class RequestFollowView(SignedInView):
    @extend_schema(
        operation_id="mobile_requests_follow",
        summary="Follow a request: its status messages reach me too",
        request=None,
        responses={200: FollowOut, **AUTH_ERRORS},
    )
    def post(self, request: Request, public_id: str) -> Response:
        service_request = request_found(service_request_get(public_id=public_id), public_id)
        service_request_follower_add(
            service_request=service_request, user=request.user, source="follow"
        )
        return Response(FollowOut({"service_request_id": public_id, "following": True}).data)

    @extend_schema(
        operation_id="mobile_requests_unfollow",
        summary="Stop following a request",
        request=None,
        responses={200: FollowOut, **AUTH_ERRORS},
    )
    def delete(self, request: Request, public_id: str) -> Response:
        service_request = request_found(service_request_get(public_id=public_id), public_id)
        service_request_unfollow(service_request=service_request, user=request.user)
        return Response(FollowOut({"service_request_id": public_id, "following": False}).data)


class RequestFeedbackView(SignedInView):
    @extend_schema(
        operation_id="mobile_requests_feedback",
        summary="Was it fixed? The reporter's answer to the latest closure",
        description="Only the request's reporter may answer (anyone else: 404), once per "
        'closure (409). "Not fixed" within the reopening window reopens the request.',
        request=ResidentFeedbackIn,
        responses={201: ResidentFeedbackOut, 400: ERROR, 409: ERROR, **AUTH_ERRORS},
    )
    def post(self, request: Request, public_id: str) -> Response:
        service_request = request_found(
            service_request_get_for_reporter(user=request.user, public_id=public_id), public_id
        )
        data = parsed(ResidentFeedbackIn, request.data)
        close_event = close_event_latest(service_request_id=service_request.pk)
        if close_event is None:
            raise City311Error(
                {"status": ["The request is not closed: there is nothing to answer yet."]},
                code=ErrorCode.CONFLICT,
            )
        result = feedback_submit(
            close_event=close_event,
            fixed=data["fixed"],
            rating=data["rating"],
            comment=data["comment"],
            channel=Channel.APP,
        )
        service_request.refresh_from_db(fields=["status"])
        if result.reopened:
            message = "We have reopened your request: a crew will look again."
        else:
            message = result.not_reopened_because or "Thank you for telling us."
        answer = result.feedback
        return Response(
            ResidentFeedbackOut(
                {
                    "service_request_id": service_request.public_id,
                    "status": service_request.status,
                    "fixed": answer.fixed,
                    "rating": answer.rating,
                    "comment": answer.comment,
                    "reopened": result.reopened,
                    "message": message,
                }
            ).data,
            status=status.HTTP_201_CREATED,
        )
