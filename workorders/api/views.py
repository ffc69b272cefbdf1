"""The work-order API for staff and crews (/api/v1/): thin views, one per operation.

Each view starts from an authorised object (``workorders.access``: another department's
order is a 404, as if it did not exist; one the user sees but may not act on a 403), parses
its input with its own serializer and calls one service. Refusals are ``City311Error``s,
answered by the JSON APIs' exception handler (``backend.api_errors``): an illegal transition
is a 409 with the current status, a completion without a proof photo a 400 naming
``photos``.

Authentication: a DRF token (``Authorization: Token ...``, for the crews' phones) or the
session (the staff console)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.generics import ListAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api_errors import COUNT_MAX
from backend.cases.change_type import service_request_change_type
from backend.cases.feedback import feedback_submit
from backend.cases.merge import service_request_merge
from backend.cases.review import work_order_review_resolve
from backend.catalog.models import Department, ServiceType
from backend.errors import City311Error
from backend.photos.uploads import request_photos
from backend.service_requests.models import ServiceRequest
from workorders.access import Act, service_request_access, work_order_access
from workorders.api.rows import work_order_rows
from workorders.api.serializers import (
    AssignIn,
    CancelIn,
    ChangeTypeIn,
    CompleteIn,
    FeedbackFormOut,
    FeedbackIn,
    FeedbackResultOut,
    HoldIn,
    MergeIn,
    NoteIn,
    ProofOut,
    ProofPhotosIn,
    PublicNoteIn,
    RequestChangedOut,
    ReviewIn,
    WorkOrderErrorOut,
    WorkOrderListQueryIn,
    WorkOrderOut,
)
from workorders.feedback import feedback_close_event_get, feedback_form_get
from workorders.models import Team, WorkOrder
from workorders.selectors import (
    StaffAccess,
    staff_access_get,
    work_order_active,
    work_order_get_for_user,
    work_order_list_for_user,
)
from workorders.services import (
    work_order_assign,
    work_order_cancel,
    work_order_complete,
    work_order_hold,
    work_order_proof_add,
    work_order_resume,
    work_order_start,
)

ERROR = OpenApiResponse(WorkOrderErrorOut)
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="A retry with the same key returns the first answer: one completion, one "
    "set of photos.",
)
ACTION_ERRORS = {400: ERROR, 401: ERROR, 403: ERROR, 404: ERROR, 409: ERROR}


def action_schema(
    operation_id: str, summary: str, request: Any, answer: Any = WorkOrderOut, **more: Any
) -> Any:
    """The documentation of an action view's POST: its answer, and the errors every action
    may answer (``responses`` adds to them)."""
    responses = {200: answer, **more.pop("responses", {}), **ACTION_ERRORS}
    return extend_schema_view(
        post=extend_schema(
            operation_id=operation_id,
            summary=summary,
            request=request,
            responses=responses,
            **more,
        )
    )


class StaffView(APIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    input_class: type[serializers.Serializer[Any]] | None = None

    def parse(self, request: Request) -> dict[str, Any]:
        """The body, checked by ``input_class`` (a 400 naming each wrong field)."""
        if self.input_class is None:
            return {}
        data_in = self.input_class(data=request.data)
        data_in.is_valid(raise_exception=True)
        return dict(data_in.validated_data)

    def answer(self, request: Request, access: StaffAccess, pk: int, code: int = 200) -> Response:
        fresh = work_order_get_for_user(access=access, pk=pk)
        return Response(WorkOrderOut(fresh, context={"request": request}).data, status=code)


def _no_service(**kwargs: Any) -> Any:
    raise NotImplementedError


class WorkOrderActionView(StaffView):
    # One action on one work order: the order found and the action allowed
    # (work_order_access), the body parsed, `perform` done, `respond` answering (by default
    # the order's new state). No docstring: it would become each action's description.

    act = Act.WORK
    # The service the action calls with the order, the acting user and these fields of the
    # input; a view with more to do overrides `perform`.
    service: Callable[..., Any] = staticmethod(_no_service)
    fields: tuple[str, ...] = ()

    def perform(self, request: Request, work_order: WorkOrder, data: dict[str, Any]) -> Any:
        arguments = {name: data[name] for name in self.fields}
        return self.service(work_order=work_order, actor=request.user, **arguments)

    def respond(self, request: Request, access: StaffAccess, pk: int, result: Any) -> Response:
        return self.answer(request, access, pk)

    def post(self, request: Request, pk: int) -> Response:
        access = staff_access_get(user=request.user)
        work_order = work_order_access(access=access, work_order_id=pk, act=self.act)
        result = self.perform(request, work_order, self.parse(request))
        return self.respond(request, access, pk, result)


class WorkOrderPagination(LimitOffsetPagination):
    """``limit`` (1 to a million, at most 200 given) and ``offset`` (0 to a million): any
    other value is refused with 400 naming it, not read as the default."""

    default_limit = 50
    max_limit = 200

    def _count(self, request: Request, name: str, minimum: int) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        if not (raw.isascii() and raw.isdigit()) or not minimum <= int(raw) <= COUNT_MAX:
            raise serializers.ValidationError(
                {
                    name: [
                        _("A whole number from %(min)s to %(max)s.")
                        % {"min": minimum, "max": COUNT_MAX}
                    ]
                }
            )
        return int(raw)

    def get_limit(self, request: Request) -> int | None:
        limit = self._count(request, self.limit_query_param, 1)
        return self.default_limit if limit is None else min(limit, self.max_limit)

    def get_offset(self, request: Request) -> int:
        return self._count(request, self.offset_query_param, 0) or 0

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            minimum = 1 if parameter["name"] == self.limit_query_param else 0
            parameter["schema"].update(minimum=minimum, maximum=COUNT_MAX)
        return parameters

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        # DRF writes OpenAPI 3.0's `nullable`; the document is 3.1 (plain JSON Schema).
        link = {"type": ["string", "null"], "format": "uri"}
        return {
            "type": "object",
            "required": ["count", "results"],
            "properties": {
                "count": {"type": "integer"},
                "next": link,
                "previous": link,
                "results": schema,
            },
        }


class WorkOrderListView(ListAPIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]
    serializer_class = WorkOrderOut
    pagination_class = WorkOrderPagination
    queryset = WorkOrder.objects.none()

    def get_queryset(self) -> Any:
        query = WorkOrderListQueryIn(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        department_id = None
        code = query.validated_data.get("department")
        if code:
            department_id = (
                Department.objects.filter(code=code).values_list("pk", flat=True).first()
            )
            if department_id is None:
                return WorkOrder.objects.none()
        return work_order_list_for_user(
            access=staff_access_get(user=self.request.user),
            status=sorted(query.validated_data.get("status") or []),
            department_id=department_id,
        )

    @extend_schema(
        operation_id="workorders_list",
        summary="The work orders of your departments, by due time",
        parameters=[WorkOrderListQueryIn],
        responses={200: WorkOrderOut(many=True), 400: ERROR, 401: ERROR},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # ListAPIView's flow, with the rows built by work_order_rows (the serializer's
        # answer, without DRF's per-field cost).
        page = self.paginate_queryset(self.get_queryset())
        if page is None:
            return Response(work_order_rows(self.get_queryset(), request=request))
        return self.get_paginated_response(work_order_rows(page, request=request))


class WorkOrderDetailView(StaffView):
    @extend_schema(
        operation_id="workorders_retrieve",
        summary="One work order (404 outside your departments)",
        responses={200: WorkOrderOut, 401: ERROR, 404: ERROR},
    )
    def get(self, request: Request, pk: int) -> Response:
        access = staff_access_get(user=request.user)
        work_order = work_order_access(access=access, work_order_id=pk)
        return Response(WorkOrderOut(work_order, context={"request": request}).data)


def _known(model: Any, pk: int | None, *, field: str, what: str) -> Any:
    """The row ``pk`` names (None for none); an unknown one is a 400 naming ``field``."""
    if pk is None:
        return None
    row = model.objects.filter(pk=pk).first()
    if row is None:
        raise City311Error({field: [f"No {what} {pk}."]})
    return row


@action_schema(
    "workorders_assign",
    "Assign to a team of the department (supervisors); no team: the least loaded",
    AssignIn,
)
class WorkOrderAssignView(WorkOrderActionView):
    act = Act.ASSIGN
    input_class = AssignIn

    def perform(self, request: Request, work_order: WorkOrder, data: dict[str, Any]) -> None:
        team = _known(Team, data["team"], field="team", what="team")
        assignee = _known(get_user_model(), data["assignee"], field="assignee", what="user")
        work_order_assign(
            work_order=work_order,
            team=team,
            assignee=assignee,
            actor=request.user,
            note=data["note"],
            public_note=data["public_note"],
        )


@action_schema("workorders_start", "Start the work (the team's crew or a supervisor)", PublicNoteIn)
class WorkOrderStartView(WorkOrderActionView):
    input_class = PublicNoteIn
    service = staticmethod(work_order_start)
    fields = ("note", "public_note")


@action_schema("workorders_hold", "Put on hold (pauses the SLA clock)", HoldIn)
class WorkOrderHoldView(WorkOrderActionView):
    input_class = HoldIn
    service = staticmethod(work_order_hold)
    fields = ("reason", "note")


@action_schema("workorders_resume", "End the hold: the due time moves by the time paused", NoteIn)
class WorkOrderResumeView(WorkOrderActionView):
    input_class = NoteIn
    service = staticmethod(work_order_resume)
    fields = ("note",)


@extend_schema_view(
    post=extend_schema(
        operation_id="workorders_proof_photos_add",
        summary="Add proof photos before completing (the same photo again adds nothing)",
        request={"multipart/form-data": ProofPhotosIn},
        responses={201: ProofOut(many=True), 413: ERROR, **ACTION_ERRORS},
    )
)
class WorkOrderProofPhotosView(WorkOrderActionView):
    def perform(self, request: Request, work_order: WorkOrder, data: dict[str, Any]) -> Any:
        photos = request_photos(request)  # a photo too large: 413 (backend/api_errors.py)
        return work_order_proof_add(work_order=work_order, photos=photos, actor=request.user)

    def respond(self, request: Request, access: StaffAccess, pk: int, result: Any) -> Response:
        return Response(
            ProofOut(result, many=True, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


@action_schema(
    "workorders_complete",
    "Complete with proof photos (multipart `photos`); closes the request",
    {"multipart/form-data": CompleteIn, "application/json": CompleteIn},
    description="At least one proof photo is needed (sent now or before). A photo taken "
    "before the request, away from its location, or without EXIF position still "
    "completes the order but flags it for a supervisor's review. A retry with the same "
    "Idempotency-Key answers 200 with the completed order and `Idempotent-Replayed`.",
    parameters=[IDEMPOTENCY_KEY],
    responses={413: ERROR},
)
class WorkOrderCompleteView(WorkOrderActionView):
    def parse(self, request: Request) -> dict[str, Any]:
        photos = request_photos(request)
        note = request.data.get("note", "") if hasattr(request.data, "get") else ""
        data_in = CompleteIn(data={"note": note if isinstance(note, str) else ""})
        data_in.is_valid(raise_exception=True)
        return {"photos": photos, "note": data_in.validated_data["note"]}

    def perform(self, request: Request, work_order: WorkOrder, data: dict[str, Any]) -> Any:
        return work_order_complete(
            work_order=work_order,
            actor=request.user,
            proof_photos=data["photos"],
            note=data["note"],
            idempotency_key=request.headers.get("Idempotency-Key"),
        )

    def respond(self, request: Request, access: StaffAccess, pk: int, result: Any) -> Response:
        response = self.answer(request, access, pk)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


@action_schema("workorders_cancel", "Cancel and close the request (supervisors)", CancelIn)
class WorkOrderCancelView(WorkOrderActionView):
    act = Act.CANCEL
    input_class = CancelIn
    service = staticmethod(work_order_cancel)
    fields = ("note", "close_reason", "public_note")


@action_schema(
    "workorders_review",
    "Resolve a flagged proof: accept, or send back (reopens the request)",
    ReviewIn,
)
class WorkOrderReviewView(WorkOrderActionView):
    act = Act.REVIEW
    input_class = ReviewIn
    service = staticmethod(work_order_review_resolve)
    fields = ("decision", "note")


# --- Requests: re-routing and merging


class RequestActionView(StaffView):
    # One supervisor's decision about a request: the request found and the decision allowed
    # (service_request_access), the body parsed, `perform` done; the request's new state
    # answered.

    act = Act.CHANGE_TYPE

    def perform(
        self, request: Request, access: StaffAccess, sr: ServiceRequest, data: dict[str, Any]
    ) -> None:
        raise NotImplementedError

    def post(self, request: Request, public_id: str) -> Response:
        access = staff_access_get(user=request.user)
        sr = service_request_access(access=access, public_id=public_id, act=self.act)
        self.perform(request, access, sr, self.parse(request))
        return Response(request_changed(request, access, sr))


def request_changed(
    request: Request, access: StaffAccess, service_request: ServiceRequest
) -> dict[str, Any]:
    service_request.refresh_from_db()
    active = work_order_active(service_request_id=service_request.pk)
    work_order = work_order_get_for_user(access=access, pk=active.pk) if active else None
    duplicate = service_request.duplicate_of
    return dict(
        RequestChangedOut(
            {
                "service_request_id": service_request.public_id,
                "status": service_request.status,
                "service_code": service_request.service_type.service_code,
                "duplicate_of": duplicate.public_id if duplicate else None,
                "work_order": work_order,
            },
            context={"request": request},
        ).data
    )


@action_schema(
    "requests_change_type",
    "Change a request's service: re-routes it (new work order, events written)",
    ChangeTypeIn,
    answer=RequestChangedOut,
)
class RequestChangeTypeView(RequestActionView):
    act = Act.CHANGE_TYPE
    input_class = ChangeTypeIn

    def perform(
        self, request: Request, access: StaffAccess, sr: ServiceRequest, data: dict[str, Any]
    ) -> None:
        code = data["service_code"]
        service_type = ServiceType.objects.filter(service_code=code, active=True).first()
        if service_type is None:
            raise City311Error({"service_code": [f"There is no active service {code!r}."]})
        service_request_change_type(
            service_request=sr, service_type=service_type, actor=request.user, note=data["note"]
        )


@action_schema(
    "requests_merge",
    "Merge a duplicate into the original (its reporter follows the original)",
    MergeIn,
    answer=RequestChangedOut,
)
class RequestMergeView(RequestActionView):
    act = Act.MERGE
    input_class = MergeIn

    def perform(
        self, request: Request, access: StaffAccess, sr: ServiceRequest, data: dict[str, Any]
    ) -> None:
        into = service_request_access(access=access, public_id=data["into"].strip(), field="into")
        service_request_merge(service_request=sr, into=into, actor=request.user, note=data["note"])


# --- Feedback: public, by signed link (no login, no session: no CSRF either)


def feedback_form_data(request: Request, token: str) -> dict[str, Any]:
    form = feedback_form_get(token=token)
    return {
        "service_request_id": form.service_request.public_id,
        "service_name": form.service_name,
        "status": form.service_request.status,
        "closed_at": form.close_event.created_at,
        "closing_note": form.close_event.public_note,
        "photos": [request.build_absolute_uri(url) for url in form.photo_urls],
        "can_reopen": form.can_reopen,
        "answer": form.answer,
    }


class FeedbackView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="feedback_retrieve",
        summary="What the feedback link is about, and the answer if given",
        responses={200: FeedbackFormOut, 404: ERROR, 410: ERROR},
    )
    def get(self, request: Request, token: str) -> Response:
        return Response(FeedbackFormOut(feedback_form_data(request, token)).data)

    @extend_schema(
        operation_id="feedback_submit",
        summary='"Was it fixed?": not fixed within 14 days reopens the request',
        request=FeedbackIn,
        responses={201: FeedbackResultOut, 400: ERROR, 404: ERROR, 409: ERROR, 410: ERROR},
    )
    def post(self, request: Request, token: str) -> Response:
        event = feedback_close_event_get(token=token)
        data_in = FeedbackIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        result = feedback_submit(
            close_event=event,
            fixed=data["fixed"],
            rating=data["rating"],
            comment=data["comment"],
            channel="web",
        )
        service_request = event.service_request
        service_request.refresh_from_db()
        if result.reopened:
            message = "We have reopened your request: a crew will look again."
        elif result.not_reopened_because:
            message = result.not_reopened_because
        else:
            message = "Thank you for telling us."
        return Response(
            FeedbackResultOut(
                {
                    "service_request_id": service_request.public_id,
                    "status": service_request.status,
                    "reopened": result.reopened,
                    "message": message,
                    "answer": result.feedback,
                }
            ).data,
            status=status.HTTP_201_CREATED,
        )
