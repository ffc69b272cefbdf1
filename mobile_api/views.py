"""The mobile API's views: thin, one per operation; the work is in services and selectors."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from django.contrib.gis.geos import Point, Polygon
from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api_errors import error_response
from backend.catalog.selectors import service_type_get_for_intake, service_type_list
from backend.i18n import language_current
from backend.intake.services import (
    IdempotencyConflict,
    IntakeError,
    IntakeResult,
    PhotoUpload,
    service_request_submit,
)
from backend.photos.models import Photo, PhotoKind
from backend.photos.uploads import request_photos
from backend.ratelimit import (
    intake_throttle,
    login_failed,
    login_succeeded,
    login_throttle,
    push_subscription_throttle,
    signup_throttle,
)
from backend.service_requests.models import Channel, ServiceRequest
from backend.service_requests.selectors import service_request_get_public
from backend.service_requests.services import service_request_follower_add
from mobile_api.push import vapid_public_key
from mobile_api.selectors import (
    service_request_get,
    service_request_get_for_reporter,
    service_request_timeline,
    service_requests_nearby,
    service_requests_of_reporter,
)
from mobile_api.serializers import (
    AccountOut,
    CrewActionIn,
    CrewCompleteFieldsIn,
    CrewCompleteIn,
    CrewHoldIn,
    CrewListQueryIn,
    CrewNoteIn,
    CrewResumeIn,
    CrewStartIn,
    CrewWorkOrderDetailOut,
    CrewWorkOrderOut,
    DeviceIn,
    DeviceOut,
    FollowOut,
    LoginIn,
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
    SignupIn,
    TimelineOut,
    VapidPublicKeyOut,
    WebPushSubscriptionIn,
    WebPushSubscriptionOut,
    WebPushUnsubscribedOut,
    WebPushUnsubscribeIn,
)
from mobile_api.services import (
    AccountError,
    ActionAnswer,
    PushSubscriptionError,
    ReplayConflict,
    account_login,
    account_signup,
    action_run_once,
    client_time,
    device_register,
    service_request_unfollow,
    web_push_subscribe,
    web_push_unsubscribe,
)
from workorders.api.rows import work_order_rows
from workorders.api.serializers import WorkOrderErrorOut
from workorders.api.views import service_error
from workorders.feedback import feedback_submit
from workorders.models import WorkOrder
from workorders.selectors import (
    StaffAccess,
    close_event_latest,
    staff_access_get,
    work_order_list_for_user,
    work_orders_visible,
)
from workorders.services import (
    KEY_MAX,
    WorkOrderError,
    work_order_complete,
    work_order_hold,
    work_order_note_add,
    work_order_resume,
    work_order_start,
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


class MobileView(APIView):
    """The app signs in with a DRF token (``Authorization: Token ...``); the session works
    too. Anonymous residents may still browse and file requests."""

    authentication_classes = [TokenAuthentication, SessionAuthentication]


class ServiceListView(MobileView):
    @extend_schema(
        operation_id="mobile_services_list",
        summary="The service catalog, localized by Accept-Language (en, es, vi)",
        responses={200: ServiceOut(many=True)},
    )
    def get(self, request: Request) -> Response:
        services = service_type_list()
        data = ServiceOut(services, many=True, context={"language": language_current()}).data
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
            400: OpenApiResponse(ERROR_SCHEMA),
            404: OpenApiResponse(ERROR_SCHEMA),
            413: OpenApiResponse(ERROR_SCHEMA),
            422: OpenApiResponse(ERROR_SCHEMA),
            429: OpenApiResponse(ERROR_SCHEMA),
        },
    )
    def post(self, request: Request) -> Response:
        user_id = request.user.pk if request.user.is_authenticated else None
        intake_throttle(request, client_key=f"user:{user_id}" if user_id else "")
        data_in = RequestIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        photos = [PhotoUpload(data=data, field="photos") for data in request_photos(request)]
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
                language=data.get("language") or language_current(),
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


class RequestDetailView(MobileView):
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
                service_request, context={"request": request, "language": language_current()}
            ).data
        )


# --- Shared pieces of the views below

AUTH_ERRORS = {401: OpenApiResponse(ERROR_SCHEMA), 404: OpenApiResponse(ERROR_SCHEMA)}
MY_REQUESTS_MAX = 200
CREW_LIST_MAX = 200
PK_MAX = 2**63 - 1  # larger ids cannot exist (and would overflow the database's bigint)


def _not_found(value: object, *, field: str = "public_id", what: str = "request") -> Response:
    return error_response(
        {field: [f"No {what} {value}."]},
        status_code=status.HTTP_404_NOT_FOUND,
        detail="Not found.",
    )


class SignedInView(MobileView):
    permission_classes = [IsAuthenticated]


# --- Accounts and devices


def _account_body(user: Any, token: str) -> dict[str, Any]:
    return dict(
        AccountOut(
            {"user_id": user.pk, "email": user.email, "name": user.first_name, "token": token}
        ).data
    )


class SignupView(MobileView):
    authentication_classes: list[Any] = []

    @extend_schema(
        operation_id="mobile_accounts_signup",
        summary="Create a resident account with e-mail and password; answers its token",
        request=SignupIn,
        responses={
            201: AccountOut,
            400: OpenApiResponse(ERROR_SCHEMA),
            409: OpenApiResponse(ERROR_SCHEMA),
            429: OpenApiResponse(ERROR_SCHEMA),
        },
    )
    def post(self, request: Request) -> Response:
        signup_throttle(request)
        data_in = SignupIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        try:
            user, token = account_signup(
                email=data["email"], password=data["password"], name=data["name"]
            )
        except AccountError as exc:
            return error_response({exc.field: [exc.message]}, status_code=exc.status_code)
        return Response(_account_body(user, token), status=status.HTTP_201_CREATED)


class LoginView(MobileView):
    authentication_classes: list[Any] = []

    @extend_schema(
        operation_id="mobile_accounts_login",
        summary="Log in with e-mail and password; answers the account's token",
        request=LoginIn,
        responses={
            200: AccountOut,
            400: OpenApiResponse(ERROR_SCHEMA),
            401: OpenApiResponse(ERROR_SCHEMA),
            429: OpenApiResponse(ERROR_SCHEMA),
        },
    )
    def post(self, request: Request) -> Response:
        data_in = LoginIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        login_throttle(request, account=data["email"])
        try:
            user, token = account_login(email=data["email"], password=data["password"])
        except AccountError as exc:
            login_failed(request, account=data["email"])
            return error_response({exc.field: [exc.message]}, status_code=exc.status_code)
        login_succeeded(request, account=data["email"])
        return Response(_account_body(user, token))


class DeviceRegisterView(SignedInView):
    @extend_schema(
        operation_id="mobile_devices_register",
        summary="Register this phone for push messages (again: refreshes it)",
        request=DeviceIn,
        responses={201: DeviceOut, 400: OpenApiResponse(ERROR_SCHEMA), **AUTH_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data_in = DeviceIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        device = device_register(
            user=request.user,
            platform=data_in.validated_data["platform"],
            push_token=data_in.validated_data["push_token"],
        )
        return Response(DeviceOut(device).data, status=status.HTTP_201_CREATED)


# --- Web Push (browsers; anonymous reporters too, bound to their request)


def _push_throttle(request: Request) -> None:
    user_id = request.user.pk if request.user.is_authenticated else None
    push_subscription_throttle(request, client_key=f"user:{user_id}" if user_id else "")


class VapidPublicKeyView(MobileView):
    authentication_classes: list[Any] = []

    @extend_schema(
        operation_id="mobile_push_vapid_public_key",
        summary="The site's VAPID public key, for pushManager.subscribe (applicationServerKey)",
        responses={200: VapidPublicKeyOut, 503: OpenApiResponse(ERROR_SCHEMA)},
    )
    def get(self, request: Request) -> Response:
        public_key = vapid_public_key()
        if not public_key:
            return error_response(
                {"public_key": ["Web Push is not configured on this site."]},
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                detail="Web Push is not configured on this site "
                "(WEB_PUSH_VAPID_PRIVATE_KEY is not set).",
            )
        return Response(VapidPublicKeyOut({"public_key": public_key}).data)


class WebPushSubscriptionView(MobileView):
    """Signed in (token or session; the session needs its CSRF token): the account's
    requests and follows. Anonymous: one request, named by ``service_request_id``."""

    @extend_schema(
        operation_id="mobile_push_subscribe",
        summary="Subscribe this browser to status messages by Web Push (again: refreshes it)",
        description="The body is the browser's PushSubscription JSON, plus `service_request_id` "
        "(required without an account). The endpoint must be an https URL of a known push "
        "service (WEB_PUSH_ALLOWED_HOSTS).",
        request=WebPushSubscriptionIn,
        responses={
            201: WebPushSubscriptionOut,
            400: OpenApiResponse(ERROR_SCHEMA),
            401: OpenApiResponse(ERROR_SCHEMA),
            403: OpenApiResponse(ERROR_SCHEMA),
            429: OpenApiResponse(ERROR_SCHEMA),
            503: OpenApiResponse(ERROR_SCHEMA),
        },
    )
    def post(self, request: Request) -> Response:
        _push_throttle(request)
        data_in = WebPushSubscriptionIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        if not vapid_public_key():
            return error_response(
                {"endpoint": ["Web Push is not configured on this site."]},
                status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        service_request = None
        if data["service_request_id"]:
            service_request = service_request_get(public_id=data["service_request_id"])
            if service_request is None:
                return error_response(
                    {"service_request_id": [f"No request {data['service_request_id']}."]},
                    status_code=status.HTTP_400_BAD_REQUEST,
                )
        try:
            device = web_push_subscribe(
                user=request.user,
                endpoint=data["endpoint"],
                p256dh=data["keys"]["p256dh"],
                auth=data["keys"]["auth"],
                service_request=service_request,
            )
        except PushSubscriptionError as exc:
            return error_response({exc.field: [exc.message]}, status_code=400)
        return Response(WebPushSubscriptionOut(device).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="mobile_push_unsubscribe",
        summary="Stop Web Push to this browser (its endpoint in the body)",
        request=WebPushUnsubscribeIn,
        responses={
            200: WebPushUnsubscribedOut,
            400: OpenApiResponse(ERROR_SCHEMA),
            401: OpenApiResponse(ERROR_SCHEMA),
            403: OpenApiResponse(ERROR_SCHEMA),
            429: OpenApiResponse(ERROR_SCHEMA),
        },
    )
    def delete(self, request: Request) -> Response:
        _push_throttle(request)
        data_in = WebPushUnsubscribeIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        deleted = web_push_unsubscribe(endpoint=data_in.validated_data["endpoint"])
        return Response(WebPushUnsubscribedOut({"deleted": deleted}).data)


# --- Residents


class RequestNearbyView(MobileView):
    @extend_schema(
        operation_id="mobile_requests_nearby",
        summary="Open requests of a service near a point: follow one instead of filing again",
        parameters=[NearbyQueryIn],
        responses={
            200: NearbyOut(many=True),
            400: OpenApiResponse(ERROR_SCHEMA),
            404: OpenApiResponse(ERROR_SCHEMA),
        },
    )
    def get(self, request: Request) -> Response:
        query = NearbyQueryIn(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        service_type = service_type_get_for_intake(service_code=data["service_code"])
        if service_type is None:
            return _not_found(data["service_code"], field="service_code", what="service")
        nearby = service_requests_nearby(
            service_type=service_type, point=Point(data["long"], data["lat"], srid=4326)
        )
        return Response(NearbyOut(nearby, many=True).data)


class MyRequestListView(SignedInView):
    @extend_schema(
        operation_id="mobile_me_requests",
        summary="The requests I filed, newest first (with the contact data I gave)",
        responses={200: MyRequestOut(many=True), 401: OpenApiResponse(ERROR_SCHEMA)},
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
        responses={200: TimelineOut, 404: OpenApiResponse(ERROR_SCHEMA)},
    )
    def get(self, request: Request, public_id: str) -> Response:
        service_request = service_request_timeline(public_id=public_id)
        if service_request is None:
            return _not_found(public_id)
        return Response(TimelineOut(service_request, context={"request": request}).data)


class RequestFollowView(SignedInView):
    def _found(self, public_id: str) -> ServiceRequest | None:
        return service_request_get(public_id=public_id)

    @extend_schema(
        operation_id="mobile_requests_follow",
        summary="Follow a request: its status messages reach me too",
        request=None,
        responses={200: FollowOut, **AUTH_ERRORS},
    )
    def post(self, request: Request, public_id: str) -> Response:
        service_request = self._found(public_id)
        if service_request is None:
            return _not_found(public_id)
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
        service_request = self._found(public_id)
        if service_request is None:
            return _not_found(public_id)
        service_request_unfollow(service_request=service_request, user=request.user)
        return Response(FollowOut({"service_request_id": public_id, "following": False}).data)


class RequestFeedbackView(SignedInView):
    @extend_schema(
        operation_id="mobile_requests_feedback",
        summary="Was it fixed? The reporter's answer to the latest closure",
        description="Only the request's reporter may answer (anyone else: 404), once per "
        'closure (409). "Not fixed" within the reopening window reopens the request.',
        request=ResidentFeedbackIn,
        responses={
            201: ResidentFeedbackOut,
            400: OpenApiResponse(ERROR_SCHEMA),
            409: OpenApiResponse(ERROR_SCHEMA),
            **AUTH_ERRORS,
        },
    )
    def post(self, request: Request, public_id: str) -> Response:
        service_request = service_request_get_for_reporter(user=request.user, public_id=public_id)
        if service_request is None:
            return _not_found(public_id)
        data_in = ResidentFeedbackIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        close_event = close_event_latest(service_request_id=service_request.pk)
        if close_event is None:
            return error_response(
                {"status": ["The request is not closed: there is nothing to answer yet."]},
                status_code=status.HTTP_409_CONFLICT,
            )
        try:
            result = feedback_submit(
                close_event=close_event,
                fixed=data["fixed"],
                rating=data["rating"],
                comment=data["comment"],
                channel=Channel.APP,
            )
        except WorkOrderError as exc:
            return service_error(exc)
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


# --- Crews


CREW_ERRORS = {
    400: OpenApiResponse(ERROR_SCHEMA),
    401: OpenApiResponse(ERROR_SCHEMA),
    404: OpenApiResponse(ERROR_SCHEMA),
    409: OpenApiResponse(WorkOrderErrorOut),
    422: OpenApiResponse(ERROR_SCHEMA),
}
WORK_ORDER_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="A work order id")
ACTION_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description="One key per action taken on the phone: a retry (even days later, after "
    "being offline) returns the first answer; the same key for another action or body: 422.",
)


def _crew_orders(access: StaffAccess) -> Any:
    """The orders a crew member works on: their teams' (all of the department's for a
    supervisor). Anything else does not exist for the app."""
    queryset = work_order_list_for_user(access=access)
    if not access.is_superuser:
        queryset = queryset.filter(
            Q(team_id__in=access.teams) | Q(department_id__in=access.supervised)
        )
    return queryset.prefetch_related(
        Prefetch(
            "service_request__photos",
            queryset=Photo.objects.filter(kind=PhotoKind.REPORT).order_by("created_at", "id"),
        )
    )


def _crew_order(request: Request, pk: str) -> tuple[StaffAccess, WorkOrder | None]:
    """The order if the user works on it; anything else (another team's, a malformed or
    impossible id) does not exist."""
    access = staff_access_get(user=request.user)
    if not pk.isascii() or not pk.isdigit() or int(pk) > PK_MAX:
        return access, None
    return access, _crew_orders(access).filter(pk=int(pk)).first()


def _crew_not_found(access: StaffAccess, pk: str) -> Response:
    """404 for an order the user does not work on. One of their own department's orders
    (which they may see in the staff API anyway) that went to another team says so, for a
    phone that acted on it offline before it was reassigned; any other id does not exist."""
    valid = pk.isascii() and pk.isdigit() and int(pk) <= PK_MAX
    if valid and work_orders_visible(access=access).filter(pk=int(pk)).exists():
        message = _("Work order %(id)s is with another team now: it is not in your queue.") % {
            "id": pk
        }
        return error_response(
            {"team": [message]}, status_code=status.HTTP_404_NOT_FOUND, detail=message
        )
    return _not_found(pk, field="id", what="work order")


def _crew_detail(request: Request, work_order: WorkOrder) -> dict[str, Any]:
    context = {"request": request, "language": language_current()}
    return dict(CrewWorkOrderDetailOut(work_order, context=context).data)


def _crew_body(request: Request, access: StaffAccess, pk: str) -> dict[str, Any]:
    return _crew_detail(request, _crew_orders(access).get(pk=int(pk)))


class CrewWorkOrderListView(SignedInView):
    @extend_schema(
        operation_id="mobile_crew_workorders_list",
        summary="My team's work orders by due time; filter by status and bounding box",
        parameters=[CrewListQueryIn],
        responses={
            200: CrewWorkOrderOut(many=True),
            400: OpenApiResponse(ERROR_SCHEMA),
            401: OpenApiResponse(ERROR_SCHEMA),
        },
    )
    def get(self, request: Request) -> Response:
        query = CrewListQueryIn(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        queryset = _crew_orders(staff_access_get(user=request.user))
        if data.get("status"):
            queryset = queryset.filter(status__in=sorted(data["status"]))
        if data.get("bbox"):
            queryset = queryset.filter(
                service_request__location__within=Polygon.from_bbox(data["bbox"])
            )
        orders = queryset[:CREW_LIST_MAX]
        return Response(work_order_rows(orders, request=request, crew=True))


class CrewWorkOrderDetailView(SignedInView):
    @extend_schema(
        operation_id="mobile_crew_workorders_retrieve",
        summary="One of my team's work orders, with the request's photos, location and "
        "answers, and the actions its status allows",
        parameters=[WORK_ORDER_ID],
        responses={200: CrewWorkOrderDetailOut, **AUTH_ERRORS},
    )
    def get(self, request: Request, pk: str) -> Response:
        access, work_order = _crew_order(request, pk)
        if work_order is None:
            return _crew_not_found(access, pk)
        return Response(_crew_detail(request, work_order))


class CrewActionView(SignedInView):
    """Start, hold, resume, complete, note: each with an idempotency key and the phone's
    time."""

    action = ""
    input_class: type[CrewActionIn] = CrewActionIn
    # Fields added after the action was first released: left out of the replay fingerprint
    # while empty, so a retry of an action sent before they existed still finds its answer.
    added_fields: tuple[str, ...] = ()

    def act(self, request: Request, work_order: WorkOrder, data: dict[str, Any]) -> None:
        raise NotImplementedError

    def input(self, request: Request) -> dict[str, Any] | Response:
        raw = request.data
        fields = (
            {key: raw.get(key) for key in raw if key != "photos"} if hasattr(raw, "get") else raw
        )
        data_in = self.input_class(data=fields)
        data_in.is_valid(raise_exception=True)
        return dict(data_in.validated_data)

    def fingerprint(self, request: Request, data: dict[str, Any]) -> dict[str, Any]:
        return {
            key: str(value)
            for key, value in data.items()
            if not (key in self.added_fields and value == "")
        }

    def post(self, request: Request, pk: str) -> Response:
        access, work_order = _crew_order(request, pk)
        if work_order is None:
            return _crew_not_found(access, pk)
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if not key or len(key) > KEY_MAX:
            return error_response(
                {"Idempotency-Key": [f"Required, at most {KEY_MAX} characters."]},
                status_code=status.HTTP_400_BAD_REQUEST,
            )
        data = self.input(request)
        if isinstance(data, Response):
            return data
        order = work_order

        def run() -> ActionAnswer:
            try:
                self.act(request, order, data)
            except WorkOrderError as exc:
                failed = service_error(exc)
                return ActionAnswer(status_code=failed.status_code, body=dict(failed.data or {}))
            return ActionAnswer(status_code=200, body=_crew_body(request, access, pk))

        try:
            answer = action_run_once(
                user=request.user,
                key=key,
                action=f"{self.action}:{work_order.pk}",
                payload=self.fingerprint(request, data),
                run=run,
            )
        except ReplayConflict:
            return error_response(
                {"Idempotency-Key": ["This key was used for another action or with another body."]},
                status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
            )
        response = Response(answer.body, status=answer.status_code)
        if answer.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class CrewStartView(CrewActionView):
    action = "start"
    input_class = CrewStartIn

    def act(self, request: Request, work_order: WorkOrder, data: dict[str, Any]) -> None:
        work_order_start(
            work_order=work_order,
            actor=request.user,
            note=data["note"],
            public_note=data["public_note"],
            at=client_time(data["client_at"], not_before=work_order.updated_at),
        )

    @extend_schema(
        operation_id="mobile_crew_workorders_start",
        summary="Start the work",
        request=CrewStartIn,
        parameters=[WORK_ORDER_ID, ACTION_KEY],
        responses={200: CrewWorkOrderDetailOut, **CREW_ERRORS},
    )
    def post(self, request: Request, pk: str) -> Response:
        return super().post(request, pk)


class CrewHoldView(CrewActionView):
    action = "hold"
    input_class = CrewHoldIn
    added_fields = ("public_note",)

    def act(self, request: Request, work_order: WorkOrder, data: dict[str, Any]) -> None:
        work_order_hold(
            work_order=work_order,
            reason=data["reason"],
            note=data["note"],
            public_note=data["public_note"],
            actor=request.user,
            at=client_time(data["client_at"], not_before=work_order.updated_at),
        )

    @extend_schema(
        operation_id="mobile_crew_workorders_hold",
        summary="Put on hold (pauses the SLA clock)",
        request=CrewHoldIn,
        parameters=[WORK_ORDER_ID, ACTION_KEY],
        responses={200: CrewWorkOrderDetailOut, **CREW_ERRORS},
    )
    def post(self, request: Request, pk: str) -> Response:
        return super().post(request, pk)


class CrewResumeView(CrewActionView):
    action = "resume"
    input_class = CrewResumeIn

    def act(self, request: Request, work_order: WorkOrder, data: dict[str, Any]) -> None:
        work_order_resume(
            work_order=work_order,
            note=data["note"],
            public_note=data["public_note"],
            actor=request.user,
            at=client_time(data["client_at"], not_before=work_order.updated_at),
        )

    @extend_schema(
        operation_id="mobile_crew_workorders_resume",
        summary="End the hold (the SLA clock runs again from the phone's time)",
        description="Back to the status before the hold; the due time moves by the time "
        "paused, counted up to `client_at`.",
        request=CrewResumeIn,
        parameters=[WORK_ORDER_ID, ACTION_KEY],
        responses={200: CrewWorkOrderDetailOut, **CREW_ERRORS},
    )
    def post(self, request: Request, pk: str) -> Response:
        return super().post(request, pk)


class CrewNoteView(CrewActionView):
    action = "note"
    input_class = CrewNoteIn

    def act(self, request: Request, work_order: WorkOrder, data: dict[str, Any]) -> None:
        work_order_note_add(
            work_order=work_order,
            public_note=data["public_note"],
            note=data["note"],
            actor=request.user,
            at=client_time(data["client_at"], not_before=work_order.updated_at),
        )

    @extend_schema(
        operation_id="mobile_crew_workorders_note",
        summary="Add a note: `public_note` for the resident (track page), `note` internal",
        description="At least one of the two; an order that is completed or cancelled "
        "takes no more notes (409).",
        request=CrewNoteIn,
        parameters=[WORK_ORDER_ID, ACTION_KEY],
        responses={200: CrewWorkOrderDetailOut, **CREW_ERRORS},
    )
    def post(self, request: Request, pk: str) -> Response:
        return super().post(request, pk)


class CrewCompleteView(CrewActionView):
    action = "complete"
    input_class = CrewCompleteFieldsIn

    def input(self, request: Request) -> dict[str, Any] | Response:
        data = super().input(request)
        if isinstance(data, Response):
            return data
        data["photos"] = request_photos(request)  # a photo too large: 413 (backend/api_errors.py)
        return data

    def fingerprint(self, request: Request, data: dict[str, Any]) -> dict[str, Any]:
        fingerprint = {
            "client_at": str(data["client_at"]),
            "note": data["note"],
            "photos": [hashlib.sha256(photo).hexdigest() for photo in data["photos"]],
        }
        if data["public_note"]:  # added later: absent from older actions' fingerprints
            fingerprint["public_note"] = data["public_note"]
        return fingerprint

    def act(self, request: Request, work_order: WorkOrder, data: dict[str, Any]) -> None:
        work_order_complete(
            work_order=work_order,
            actor=request.user,
            proof_photos=data["photos"],
            note=data["note"],
            public_note=data["public_note"],
            idempotency_key=request.headers.get("Idempotency-Key"),
            at=client_time(data["client_at"], not_before=work_order.updated_at),
        )

    @extend_schema(
        operation_id="mobile_crew_workorders_complete",
        summary="Complete with proof photos (multipart `photos`); closes the request",
        description="At least one proof photo is needed (sent now or before). A photo taken "
        "before the request, away from its location, or without EXIF position still "
        "completes the order but flags it for a supervisor's review.",
        request={"multipart/form-data": CrewCompleteIn, "application/json": CrewCompleteFieldsIn},
        parameters=[WORK_ORDER_ID, ACTION_KEY],
        responses={
            200: CrewWorkOrderDetailOut,
            413: OpenApiResponse(ERROR_SCHEMA),
            **CREW_ERRORS,
        },
    )
    def post(self, request: Request, pk: str) -> Response:
        return super().post(request, pk)
