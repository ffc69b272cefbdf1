"""The crew's app: their teams' work orders, and the actions taken on the phone (each with an
idempotency key and the phone's time, so a retry after being offline is answered once)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from django.contrib.gis.geos import Polygon
from django.db.models import F
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework.request import Request
from rest_framework.response import Response

from backend.api_errors import ERROR, city311_error_response
from backend.errors import City311Error
from backend.i18n import language_current
from backend.photos.uploads import request_photos
from mobile_api.crew_serializers import (
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
)
from mobile_api.services import ActionAnswer, action_run_once, client_time
from mobile_api.views.base import AUTH_ERRORS, SignedInView, parsed
from workorders.access import crew_work_order_access, crew_work_order_fresh, crew_work_orders
from workorders.api.rows import work_order_rows
from workorders.api.serializers import WorkOrderErrorOut
from workorders.models import WorkOrder
from workorders.selectors import staff_access_get
from workorders.services import (
    KEY_MAX,
    work_order_complete,
    work_order_hold,
    work_order_note_add,
    work_order_resume,
    work_order_start,
)

CREW_LIST_MAX = 200
CREW_ERRORS = {
    400: ERROR,
    401: ERROR,
    404: ERROR,
    409: OpenApiResponse(WorkOrderErrorOut),
    422: ERROR,
}
WORK_ORDER_ID = OpenApiParameter("id", int, OpenApiParameter.PATH, description="A work order id")
ACTION_KEY = OpenApiParameter(
    "Idempotency-Key",
    # Read stripped: something besides spaces, at most KEY_MAX characters.
    {"type": "string", "minLength": 1, "maxLength": KEY_MAX, "pattern": "\\S"},
    OpenApiParameter.HEADER,
    required=True,
    description="One key per action taken on the phone: a retry (even days later, after "
    "being offline) returns the first answer; the same key for another action or body: 422.",
)


def _crew_detail(request: Request, work_order: WorkOrder) -> dict[str, Any]:
    context = {"request": request, "language": language_current()}
    return dict(CrewWorkOrderDetailOut(work_order, context=context).data)


class CrewWorkOrderListView(SignedInView):
    @extend_schema(
        operation_id="mobile_crew_workorders_list",
        summary="My team's work orders by due time (or by supporters); filter by status and "
        "bounding box",
        parameters=[CrewListQueryIn],
        responses={200: CrewWorkOrderOut(many=True), 400: ERROR, 401: ERROR},
    )
    def get(self, request: Request) -> Response:
        data = parsed(CrewListQueryIn, request.query_params)
        queryset = crew_work_orders(access=staff_access_get(user=request.user))
        if data.get("status"):
            queryset = queryset.filter(status__in=sorted(data["status"]))
        if data.get("bbox"):
            queryset = queryset.filter(
                service_request__location__within=Polygon.from_bbox(data["bbox"])
            )
        if data.get("sort") == "supporters":
            queryset = queryset.order_by(
                F("service_request__supporters_count").desc(),
                F("due_at").asc(nulls_last=True),
                "id",
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
        access = staff_access_get(user=request.user)
        work_order = crew_work_order_access(access=access, work_order_id=pk)
        return Response(_crew_detail(request, work_order))


def crew_action_schema(operation_id: str, summary: str, request: Any, **more: Any) -> Any:
    """The documentation of a crew action's POST: the order's id and the action's key, the
    order's new state, and the errors every action may answer (``responses`` adds some)."""
    responses = {200: CrewWorkOrderDetailOut, **more.pop("responses", {}), **CREW_ERRORS}
    return extend_schema_view(
        post=extend_schema(
            operation_id=operation_id,
            summary=summary,
            request=request,
            parameters=[WORK_ORDER_ID, ACTION_KEY],
            responses=responses,
            **more,
        )
    )


def _at(data: dict[str, Any], work_order: WorkOrder) -> Any:
    """The phone's time of the action, never before the order's last change."""
    return client_time(data["client_at"], not_before=work_order.updated_at)


def _no_service(**kwargs: Any) -> Any:
    raise NotImplementedError


class CrewActionView(SignedInView):
    """Start, hold, resume, complete, note: each with an idempotency key and the phone's
    time."""

    action = ""
    input_class: type[CrewActionIn] = CrewActionIn
    # Fields added after the action was first released: left out of the replay fingerprint
    # while empty, so a retry of an action sent before they existed still finds its answer.
    added_fields: tuple[str, ...] = ()
    # The service the action calls with the order, the acting user, the phone's time and
    # these fields of the input; an action with more to pass overrides `act`.
    service: Callable[..., Any] = staticmethod(_no_service)
    fields: tuple[str, ...] = ("note", "public_note")

    def act(self, request: Request, work_order: WorkOrder, data: dict[str, Any]) -> None:
        arguments = {name: data[name] for name in self.fields}
        self.service(
            work_order=work_order, actor=request.user, at=_at(data, work_order), **arguments
        )

    def input(self, request: Request) -> dict[str, Any]:
        raw = request.data
        fields = (
            {key: raw.get(key) for key in raw if key != "photos"} if hasattr(raw, "get") else raw
        )
        return parsed(self.input_class, fields)

    def fingerprint(self, request: Request, data: dict[str, Any]) -> dict[str, Any]:
        return {
            key: str(value)
            for key, value in data.items()
            if not (key in self.added_fields and value == "")
        }

    def post(self, request: Request, pk: str) -> Response:
        access = staff_access_get(user=request.user)
        work_order = crew_work_order_access(access=access, work_order_id=pk)
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if not key or len(key) > KEY_MAX:
            raise City311Error({"Idempotency-Key": [f"Required, at most {KEY_MAX} characters."]})
        data = self.input(request)

        def run() -> ActionAnswer:
            # A refusal is an answer too: kept, and given again to a retry with the key.
            try:
                self.act(request, work_order, data)
            except City311Error as exc:
                failed = city311_error_response(exc)
                return ActionAnswer(status_code=failed.status_code, body=dict(failed.data or {}))
            fresh = crew_work_order_fresh(access=access, work_order=work_order)
            return ActionAnswer(status_code=200, body=_crew_detail(request, fresh))

        answer = action_run_once(
            user=request.user,
            key=key,
            action=f"{self.action}:{work_order.pk}",
            payload=self.fingerprint(request, data),
            run=run,
        )
        response = Response(answer.body, status=answer.status_code)
        if answer.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


@crew_action_schema("mobile_crew_workorders_start", "Start the work", CrewStartIn)
class CrewStartView(CrewActionView):
    action = "start"
    input_class = CrewStartIn
    service = staticmethod(work_order_start)


@crew_action_schema("mobile_crew_workorders_hold", "Put on hold (pauses the SLA clock)", CrewHoldIn)
class CrewHoldView(CrewActionView):
    action = "hold"
    input_class = CrewHoldIn
    added_fields = ("public_note",)
    service = staticmethod(work_order_hold)
    fields = ("reason", "note", "public_note")


@crew_action_schema(
    "mobile_crew_workorders_resume",
    "End the hold (the SLA clock runs again from the phone's time)",
    CrewResumeIn,
    description="Back to the status before the hold; the due time moves by the time "
    "paused, counted up to `client_at`.",
)
class CrewResumeView(CrewActionView):
    action = "resume"
    input_class = CrewResumeIn
    service = staticmethod(work_order_resume)


@crew_action_schema(
    "mobile_crew_workorders_note",
    "Add a note: `public_note` for the resident (track page), `note` internal",
    CrewNoteIn,
    description="At least one of the two; an order that is completed or cancelled "
    "takes no more notes (409).",
)
class CrewNoteView(CrewActionView):
    action = "note"
    input_class = CrewNoteIn
    service = staticmethod(work_order_note_add)


@crew_action_schema(
    "mobile_crew_workorders_complete",
    "Complete with proof photos (multipart `photos`); closes the request",
    {"multipart/form-data": CrewCompleteIn, "application/json": CrewCompleteFieldsIn},
    description="At least one proof photo is needed (sent now or before). A photo taken "
    "before the request, away from its location, or without EXIF position still "
    "completes the order but flags it for a supervisor's review.",
    responses={413: ERROR},
)
class CrewCompleteView(CrewActionView):
    action = "complete"
    input_class = CrewCompleteFieldsIn

    def input(self, request: Request) -> dict[str, Any]:
        data = super().input(request)
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
            at=_at(data, work_order),
        )
