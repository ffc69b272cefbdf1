"""The work-order API for staff and crews (/api/v1/): thin views, one per operation.

Each view finds the work order through the department-scoped selectors (another
department's order is a 404, as if it did not exist), checks the user's role (403), parses
its input with its own serializer and calls one service. Service errors carry their HTTP
status and field: an illegal transition is a 409 with the current status, a completion
without a proof photo a 400 naming ``photos``.

Authentication: a DRF token (``Authorization: Token ...``, for the crews' phones) or the
session (the staff console)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.generics import ListAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api_errors import error_response
from backend.catalog.models import Department, ServiceType
from backend.photos.uploads import request_photos
from backend.service_requests.models import ServiceRequest
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
from workorders.feedback import feedback_close_event_get, feedback_form_get, feedback_submit
from workorders.models import Team, WorkOrder
from workorders.selectors import (
    StaffAccess,
    service_request_get_for_staff,
    staff_access_get,
    work_order_active,
    work_order_get_for_user,
    work_order_latest,
    work_order_list_for_user,
)
from workorders.services import (
    IllegalTransition,
    WorkOrderError,
    service_request_change_type,
    service_request_merge,
    work_order_assign,
    work_order_cancel,
    work_order_complete,
    work_order_hold,
    work_order_proof_add,
    work_order_resume,
    work_order_review_resolve,
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


def service_error(exc: WorkOrderError) -> Response:
    body: dict[str, Any] = {"detail": exc.message, "errors": exc.errors}
    if isinstance(exc, IllegalTransition):
        body["current_status"] = exc.current_status
    return Response(body, status=exc.status_code)


def not_found(pk: object, *, field: str = "id", what: str = "work order") -> Response:
    return error_response(
        {field: [f"No {what} {pk}."]}, status_code=status.HTTP_404_NOT_FOUND, detail="Not found."
    )


def forbidden(message: str) -> Response:
    return error_response(
        {"role": [message]}, status_code=status.HTTP_403_FORBIDDEN, detail=message
    )


class StaffView(APIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated]

    def work_order(self, request: Request, pk: int) -> tuple[StaffAccess, WorkOrder | None]:
        access = staff_access_get(user=request.user)
        return access, work_order_get_for_user(access=access, pk=pk)

    def answer(self, request: Request, access: StaffAccess, pk: int, code: int = 200) -> Response:
        fresh = work_order_get_for_user(access=access, pk=pk)
        return Response(WorkOrderOut(fresh, context={"request": request}).data, status=code)


class WorkOrderPagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200

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
        _, work_order = self.work_order(request, pk)
        if work_order is None:
            return not_found(pk)
        return Response(WorkOrderOut(work_order, context={"request": request}).data)


class WorkOrderAssignView(StaffView):
    @extend_schema(
        operation_id="workorders_assign",
        summary="Assign to a team of the department (supervisors); no team: the least loaded",
        request=AssignIn,
        responses={200: WorkOrderOut, **ACTION_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        access, work_order = self.work_order(request, pk)
        if work_order is None:
            return not_found(pk)
        if not access.supervises(work_order.department_id):
            return forbidden("Only the department's supervisors assign work orders.")
        data_in = AssignIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        team = None
        if data["team"] is not None:
            team = Team.objects.filter(pk=data["team"]).first()
            if team is None:
                return error_response({"team": [f"No team {data['team']}."]}, status_code=400)
        assignee = None
        if data["assignee"] is not None:
            assignee = get_user_model().objects.filter(pk=data["assignee"]).first()
            if assignee is None:
                return error_response(
                    {"assignee": [f"No user {data['assignee']}."]}, status_code=400
                )
        try:
            work_order_assign(
                work_order=work_order,
                team=team,
                assignee=assignee,
                actor=request.user,
                note=data["note"],
                public_note=data["public_note"],
            )
        except WorkOrderError as exc:
            return service_error(exc)
        return self.answer(request, access, pk)


class WorkOrderStartView(StaffView):
    @extend_schema(
        operation_id="workorders_start",
        summary="Start the work (the team's crew or a supervisor)",
        request=PublicNoteIn,
        responses={200: WorkOrderOut, **ACTION_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        access, work_order = self.work_order(request, pk)
        if work_order is None:
            return not_found(pk)
        if not access.works_on(work_order):
            return forbidden("Only the assigned team's crew or a supervisor may do this.")
        data_in = PublicNoteIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        try:
            work_order_start(
                work_order=work_order,
                actor=request.user,
                note=data_in.validated_data["note"],
                public_note=data_in.validated_data["public_note"],
            )
        except WorkOrderError as exc:
            return service_error(exc)
        return self.answer(request, access, pk)


class WorkOrderHoldView(StaffView):
    @extend_schema(
        operation_id="workorders_hold",
        summary="Put on hold (pauses the SLA clock)",
        request=HoldIn,
        responses={200: WorkOrderOut, **ACTION_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        access, work_order = self.work_order(request, pk)
        if work_order is None:
            return not_found(pk)
        if not access.works_on(work_order):
            return forbidden("Only the assigned team's crew or a supervisor may do this.")
        data_in = HoldIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        try:
            work_order_hold(
                work_order=work_order,
                reason=data_in.validated_data["reason"],
                note=data_in.validated_data["note"],
                actor=request.user,
            )
        except WorkOrderError as exc:
            return service_error(exc)
        return self.answer(request, access, pk)


class WorkOrderResumeView(StaffView):
    @extend_schema(
        operation_id="workorders_resume",
        summary="End the hold: the due time moves by the time paused",
        request=NoteIn,
        responses={200: WorkOrderOut, **ACTION_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        access, work_order = self.work_order(request, pk)
        if work_order is None:
            return not_found(pk)
        if not access.works_on(work_order):
            return forbidden("Only the assigned team's crew or a supervisor may do this.")
        data_in = NoteIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        try:
            work_order_resume(
                work_order=work_order, actor=request.user, note=data_in.validated_data["note"]
            )
        except WorkOrderError as exc:
            return service_error(exc)
        return self.answer(request, access, pk)


class WorkOrderProofPhotosView(StaffView):
    @extend_schema(
        operation_id="workorders_proof_photos_add",
        summary="Add proof photos before completing (the same photo again adds nothing)",
        request={"multipart/form-data": ProofPhotosIn},
        responses={201: ProofOut(many=True), 413: ERROR, **ACTION_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        access, work_order = self.work_order(request, pk)
        if work_order is None:
            return not_found(pk)
        if not access.works_on(work_order):
            return forbidden("Only the assigned team's crew or a supervisor may do this.")
        photos = request_photos(request)  # a photo too large: 413 (backend/api_errors.py)
        try:
            proofs = work_order_proof_add(work_order=work_order, photos=photos, actor=request.user)
        except WorkOrderError as exc:
            return service_error(exc)
        return Response(
            ProofOut(proofs, many=True, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


class WorkOrderCompleteView(StaffView):
    @extend_schema(
        operation_id="workorders_complete",
        summary="Complete with proof photos (multipart `photos`); closes the request",
        description="At least one proof photo is needed (sent now or before). A photo taken "
        "before the request, away from its location, or without EXIF position still "
        "completes the order but flags it for a supervisor's review. A retry with the same "
        "Idempotency-Key answers 200 with the completed order and `Idempotent-Replayed`.",
        request={"multipart/form-data": CompleteIn, "application/json": CompleteIn},
        parameters=[IDEMPOTENCY_KEY],
        responses={200: WorkOrderOut, 413: ERROR, **ACTION_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        access, work_order = self.work_order(request, pk)
        if work_order is None:
            return not_found(pk)
        if not access.works_on(work_order):
            return forbidden("Only the assigned team's crew or a supervisor may do this.")
        photos = request_photos(request)
        note = request.data.get("note", "") if hasattr(request.data, "get") else ""
        data_in = CompleteIn(data={"note": note if isinstance(note, str) else ""})
        data_in.is_valid(raise_exception=True)
        try:
            result = work_order_complete(
                work_order=work_order,
                actor=request.user,
                proof_photos=photos,
                note=data_in.validated_data["note"],
                idempotency_key=request.headers.get("Idempotency-Key"),
            )
        except WorkOrderError as exc:
            return service_error(exc)
        response = self.answer(request, access, pk)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class WorkOrderCancelView(StaffView):
    @extend_schema(
        operation_id="workorders_cancel",
        summary="Cancel and close the request (supervisors)",
        request=CancelIn,
        responses={200: WorkOrderOut, **ACTION_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        access, work_order = self.work_order(request, pk)
        if work_order is None:
            return not_found(pk)
        if not access.supervises(work_order.department_id):
            return forbidden("Only the department's supervisors cancel work orders.")
        data_in = CancelIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        try:
            work_order_cancel(
                work_order=work_order,
                actor=request.user,
                note=data["note"],
                close_reason=data["close_reason"],
                public_note=data["public_note"],
            )
        except WorkOrderError as exc:
            return service_error(exc)
        return self.answer(request, access, pk)


class WorkOrderReviewView(StaffView):
    @extend_schema(
        operation_id="workorders_review",
        summary="Resolve a flagged proof: accept, or send back (reopens the request)",
        request=ReviewIn,
        responses={200: WorkOrderOut, **ACTION_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        access, work_order = self.work_order(request, pk)
        if work_order is None:
            return not_found(pk)
        if not access.supervises(work_order.department_id):
            return forbidden("Only the department's supervisors review proof photos.")
        data_in = ReviewIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        try:
            work_order_review_resolve(
                work_order=work_order,
                decision=data_in.validated_data["decision"],
                actor=request.user,
                note=data_in.validated_data["note"],
            )
        except WorkOrderError as exc:
            return service_error(exc)
        return self.answer(request, access, pk)


# --- Requests: re-routing and merging


def request_changed(request: Request, service_request: ServiceRequest) -> dict[str, Any]:
    service_request.refresh_from_db()
    active = work_order_active(service_request_id=service_request.pk)
    access = staff_access_get(user=request.user)
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


def in_charge(service_request: ServiceRequest) -> int:
    """The department whose supervisors decide about the request: its open work order's,
    else its last one's, else its service's."""
    order = work_order_active(service_request_id=service_request.pk) or work_order_latest(
        service_request_id=service_request.pk
    )
    return order.department_id if order else service_request.service_type.department_id


class RequestChangeTypeView(StaffView):
    @extend_schema(
        operation_id="requests_change_type",
        summary="Change a request's service: re-routes it (new work order, events written)",
        request=ChangeTypeIn,
        responses={200: RequestChangedOut, **ACTION_ERRORS},
    )
    def post(self, request: Request, public_id: str) -> Response:
        access = staff_access_get(user=request.user)
        service_request = service_request_get_for_staff(access=access, public_id=public_id)
        if service_request is None:
            return not_found(public_id, field="public_id", what="request")
        if not access.supervises(in_charge(service_request)):
            return forbidden("Only the department's supervisors change a request's service.")
        data_in = ChangeTypeIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        code = data_in.validated_data["service_code"]
        service_type = ServiceType.objects.filter(service_code=code, active=True).first()
        if service_type is None:
            return error_response(
                {"service_code": [f"There is no active service {code!r}."]}, status_code=400
            )
        try:
            service_request_change_type(
                service_request=service_request,
                service_type=service_type,
                actor=request.user,
                note=data_in.validated_data["note"],
            )
        except WorkOrderError as exc:
            return service_error(exc)
        return Response(request_changed(request, service_request))


class RequestMergeView(StaffView):
    @extend_schema(
        operation_id="requests_merge",
        summary="Merge a duplicate into the original (its reporter follows the original)",
        request=MergeIn,
        responses={200: RequestChangedOut, **ACTION_ERRORS},
    )
    def post(self, request: Request, public_id: str) -> Response:
        access = staff_access_get(user=request.user)
        service_request = service_request_get_for_staff(access=access, public_id=public_id)
        if service_request is None:
            return not_found(public_id, field="public_id", what="request")
        if not access.supervises(in_charge(service_request)):
            return forbidden("Only the department's supervisors merge requests.")
        data_in = MergeIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        into_id = data_in.validated_data["into"].strip()
        into = service_request_get_for_staff(access=access, public_id=into_id)
        if into is None:
            return not_found(into_id, field="into", what="request")
        try:
            service_request_merge(
                service_request=service_request,
                into=into,
                actor=request.user,
                note=data_in.validated_data["note"],
            )
        except WorkOrderError as exc:
            return service_error(exc)
        return Response(request_changed(request, service_request))


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
        try:
            data = feedback_form_data(request, token)
        except WorkOrderError as exc:
            return service_error(exc)
        return Response(FeedbackFormOut(data).data)

    @extend_schema(
        operation_id="feedback_submit",
        summary='"Was it fixed?": not fixed within 14 days reopens the request',
        request=FeedbackIn,
        responses={201: FeedbackResultOut, 400: ERROR, 404: ERROR, 409: ERROR, 410: ERROR},
    )
    def post(self, request: Request, token: str) -> Response:
        try:
            event = feedback_close_event_get(token=token)
        except WorkOrderError as exc:
            return service_error(exc)
        data_in = FeedbackIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        data = data_in.validated_data
        try:
            result = feedback_submit(
                close_event=event,
                fixed=data["fixed"],
                rating=data["rating"],
                comment=data["comment"],
                channel="web",
            )
        except WorkOrderError as exc:
            return service_error(exc)
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
