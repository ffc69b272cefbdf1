"""Input and output serializers of the crews' part of the mobile API (/mobile/v1/crew/):
the team queue, an order's detail and the actions' bodies. Shapes only: no business logic."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Any

from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from backend.api_errors import NOT_BLANK
from backend.photos.models import PhotoKind
from mobile_api.serializers import PhotoOut
from workorders.api.serializers import HOLD_NOTE_RULE, HoldOut, WorkOrderOut
from workorders.models import HoldReason, WorkOrder, WorkOrderHold, WorkOrderStatus
from workorders.response_templates import response_templates_for_work_order
from workorders.services import work_order_actions


class CrewListQueryIn(serializers.Serializer):
    status = serializers.MultipleChoiceField(
        choices=WorkOrderStatus.choices, required=False, help_text="Repeat for several."
    )
    bbox = serializers.CharField(
        required=False, help_text="min_long,min_lat,max_long,max_lat of the request's location"
    )
    sort = serializers.ChoiceField(
        choices=["due", "supporters"],
        required=False,
        default="due",
        help_text="due: soonest due first (the default); supporters: the requests most people "
        'reported too ("me too") first, then by due time',
    )

    def validate_bbox(self, value: str) -> tuple[float, float, float, float]:
        parts = value.split(",")
        try:
            numbers = [float(part) for part in parts]
        except ValueError as exc:
            raise serializers.ValidationError(
                "Four numbers: min_long,min_lat,max_long,max_lat."
            ) from exc
        if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
            raise serializers.ValidationError("Four numbers: min_long,min_lat,max_long,max_lat.")
        min_long, min_lat, max_long, max_lat = numbers
        if not (-180 <= min_long <= max_long <= 180 and -90 <= min_lat <= max_lat <= 90):
            raise serializers.ValidationError("Longitudes -180..180, latitudes -90..90, min ≤ max.")
        return min_long, min_lat, max_long, max_lat


class CrewWorkOrderOut(WorkOrderOut):
    """A work order as the crew's phone shows it: with the resident's photos of the problem."""

    request_photos = serializers.SerializerMethodField()

    @extend_schema_field(HoldOut(allow_null=True))
    def get_hold(self, obj: WorkOrder) -> dict[str, Any] | None:
        # The prefetched open holds, even when there are none (an empty list): no query per
        # order in the crew's list.
        holds: list[WorkOrderHold] | None = getattr(obj, "open_holds", None)
        if holds is None:
            return super().get_hold(obj)
        return dict(HoldOut(holds[0]).data) if holds else None

    @extend_schema_field(PhotoOut(many=True))
    def get_request_photos(self, obj: WorkOrder) -> list[dict[str, Any]]:
        photos = [
            photo for photo in obj.service_request.photos.all() if photo.kind == PhotoKind.REPORT
        ]
        return list(PhotoOut(photos, many=True, context=self.context).data)


class CrewAttributeOut(serializers.Serializer):
    code = serializers.CharField()
    question = serializers.CharField(help_text="The attribute's question, localized")
    answer = serializers.CharField(help_text="The resident's answer, localized (list: joined)")


class ResponseTemplateOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(help_text="What staff named it")
    status = serializers.ChoiceField(
        choices=[("", "Any"), *WorkOrderStatus.choices],
        help_text="The work order status the note goes with (the action's: on_hold for a "
        'hold, completed for a closing note); "" any',
    )
    language = serializers.CharField()
    text = serializers.CharField(help_text="The note, filled in for this order")


class CrewWorkOrderDetailOut(CrewWorkOrderOut):
    """One order as the phone's detail page shows it: plus the resident's answers to the
    service's questions, the actions its status allows now (the server's table, so the
    phone keeps no copy of the state machine) and the staff's response templates for its
    public notes, filled in."""

    attributes = serializers.SerializerMethodField()
    actions = serializers.SerializerMethodField()
    response_templates = serializers.SerializerMethodField(
        help_text="Ready-made public notes for this order, in the request's language"
    )

    @extend_schema_field(ResponseTemplateOut(many=True))
    def get_response_templates(self, obj: WorkOrder) -> list[dict[str, Any]]:
        offered = response_templates_for_work_order(work_order=obj)
        return list(ResponseTemplateOut([asdict(o) for o in offered], many=True).data)

    @extend_schema_field(CrewAttributeOut(many=True))
    def get_attributes(self, obj: WorkOrder) -> list[dict[str, str]]:
        language = self.context.get("language")
        answers = obj.service_request.attributes or {}
        rows = []
        for attribute in obj.service_request.service_type.attributes.all():
            if attribute.code not in answers:
                continue
            given = answers[attribute.code]
            names = {
                str(v["key"]): (v.get("name_i18n") or {}).get(language or "en")
                or v.get("name", v["key"])
                for v in attribute.values
            }
            keys = given if isinstance(given, list) else [given]
            rows.append(
                {
                    "code": attribute.code,
                    "question": attribute.localized_description(language),
                    "answer": ", ".join(str(names.get(str(key), key)) for key in keys),
                }
            )
        return list(CrewAttributeOut(rows, many=True).data)

    @extend_schema_field(
        serializers.ListField(
            child=serializers.ChoiceField(choices=["start", "hold", "resume", "complete", "note"])
        )
    )
    def get_actions(self, obj: WorkOrder) -> list[str]:
        return work_order_actions(status=obj.status)


class CrewActionIn(serializers.Serializer):
    client_at = serializers.DateTimeField(
        help_text="When the crew acted, by the phone's clock (offline actions are sent later); "
        "a time in the future counts as now."
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class CrewStartIn(CrewActionIn):
    public_note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, default=""
    )


class PublicNoteField(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "Optional: a message the resident sees on the track page")
        super().__init__(required=False, allow_blank=True, max_length=2000, default="", **kwargs)


@extend_schema_serializer(extensions=HOLD_NOTE_RULE)
class CrewHoldIn(CrewActionIn):
    reason = serializers.ChoiceField(choices=HoldReason.choices)
    public_note = PublicNoteField()


class CrewResumeIn(CrewActionIn):
    public_note = PublicNoteField()


# One of the two notes at least, with something besides spaces (workorders.services.notes).
ONE_NOTE_RULE = {
    "x-schema": {
        "anyOf": [
            {"properties": {name: {"pattern": NOT_BLANK}}, "required": [name]}
            for name in ("note", "public_note")
        ]
    }
}


@extend_schema_serializer(extensions=ONE_NOTE_RULE)
class CrewNoteIn(CrewActionIn):
    """A note on the order: ``public_note`` for the resident, ``note`` internal; one of
    them at least."""

    public_note = PublicNoteField(help_text="A message the resident sees on the track page")


class CrewCompleteFieldsIn(CrewActionIn):
    public_note = PublicNoteField(
        help_text="Optional: the resident's closing message (else `note`, else a default one)"
    )


class CrewCompleteIn(CrewCompleteFieldsIn):
    photos = serializers.ListField(
        child=serializers.ImageField(),
        required=False,
        help_text="Proof photos (multipart), up to 5; at least one sent now or before.",
    )
