"""Input and output serializers of the work-order API. Shapes only: no business logic.

Outputs never carry the reporter's contact data nor a photo's EXIF position: crews see the
request's place and description, supervisors the reasons a proof photo was flagged."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from backend.api_errors import NOT_BLANK
from backend.photos.models import Photo, ProcessingState
from workorders.api.rows import work_order_open_holds, work_order_overdue
from workorders.models import (
    HoldReason,
    ProofPhoto,
    ReviewDecision,
    WorkOrder,
)
from workorders.services import CANCEL_CLOSE_REASONS, NOTE_MAX

# --- Errors


class WorkOrderErrorOut(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField())
    )
    current_status = serializers.CharField(
        required=False, help_text="On 409: the status the work order (or request) is in now"
    )


# --- Work orders


class DepartmentOut(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class TeamOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class UserOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()


class RequestSummaryOut(serializers.Serializer):
    service_request_id = serializers.CharField(source="public_id")
    service_code = serializers.CharField(source="service_type.service_code")
    service_name = serializers.CharField(source="service_type.name")
    status = serializers.CharField()
    address = serializers.CharField()
    lat = serializers.SerializerMethodField()
    long = serializers.SerializerMethodField()
    description = serializers.CharField()
    requested_at = serializers.DateTimeField()
    expected_at = serializers.DateTimeField(allow_null=True)
    supporters = serializers.IntegerField(
        source="supporters_count", help_text='How many people reported this too ("me too")'
    )

    def get_lat(self, obj: Any) -> float | None:
        return obj.location.y if obj.location is not None else None

    def get_long(self, obj: Any) -> float | None:
        return obj.location.x if obj.location is not None else None


class HoldOut(serializers.Serializer):
    reason = serializers.ChoiceField(choices=HoldReason.choices)
    note = serializers.CharField()
    since = serializers.DateTimeField(source="started_at")


class ProofOut(serializers.Serializer):
    photo_id = serializers.IntegerField()
    state = serializers.CharField(source="photo.state")
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()
    verified = serializers.BooleanField()
    reasons = serializers.ListField(child=serializers.CharField())
    created_at = serializers.DateTimeField()

    def _absolute(self, photo: Photo, field: Any) -> str | None:
        if photo.state != ProcessingState.READY or not field:
            return None
        request = self.context.get("request")
        return request.build_absolute_uri(field.url) if request else str(field.url)

    def get_url(self, obj: ProofPhoto) -> str | None:
        return self._absolute(obj.photo, obj.photo.display)

    def get_thumbnail_url(self, obj: ProofPhoto) -> str | None:
        return self._absolute(obj.photo, obj.photo.thumbnail)


class ReviewOut(serializers.Serializer):
    required = serializers.BooleanField(source="review_required")  # type: ignore[assignment]
    reasons = serializers.ListField(child=serializers.CharField(), source="review_reasons")
    decision = serializers.CharField(source="review_decision")
    reviewed_at = serializers.DateTimeField(allow_null=True)


class WorkOrderOut(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    department = DepartmentOut()
    team = TeamOut(allow_null=True)
    assignee = UserOut(allow_null=True)
    service_request = RequestSummaryOut()
    turnaround_hours = serializers.IntegerField()
    turnaround_business_hours = serializers.BooleanField()
    due_at = serializers.DateTimeField(allow_null=True)
    overdue = serializers.SerializerMethodField()
    overdue_at = serializers.DateTimeField(allow_null=True)
    escalated_again_at = serializers.DateTimeField(allow_null=True)
    on_time = serializers.BooleanField(allow_null=True)
    hold = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()
    assigned_at = serializers.DateTimeField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    completed_at = serializers.DateTimeField(allow_null=True)
    cancelled_at = serializers.DateTimeField(allow_null=True)
    completion_note = serializers.CharField()
    proof_photos = ProofOut(many=True, source="proofs.all")
    review = ReviewOut(source="*")

    def get_overdue(self, obj: WorkOrder) -> bool:
        """Past due with the clock running (marked by the escalation scan or not yet)."""
        return work_order_overdue(obj, now=timezone.now())

    @extend_schema_field(HoldOut(allow_null=True))
    def get_hold(self, obj: WorkOrder) -> dict[str, Any] | None:
        holds = work_order_open_holds(obj)
        return dict(HoldOut(holds[0]).data) if holds else None


class WorkOrderListQueryIn(serializers.Serializer):
    status = serializers.MultipleChoiceField(
        choices=[
            "new",
            "assigned",
            "in_progress",
            "on_hold",
            "completed",
            "cancelled",
        ],
        required=False,
    )
    department = serializers.CharField(required=False, help_text="A department code")


# --- Actions


def note_field(help_text: str) -> serializers.CharField:
    """An optional note: blank allowed, at most ``NOTE_MAX`` characters (the services'
    limit, ``note_clean``)."""
    return serializers.CharField(
        required=False, allow_blank=True, max_length=NOTE_MAX, default="", help_text=help_text
    )


class NoteIn(serializers.Serializer):
    note = note_field("Internal note")


class PublicNoteIn(NoteIn):
    public_note = note_field("A message the resident sees (a default one when empty)")


class AssignIn(PublicNoteIn):
    team = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="A team of the work order's department; empty: the least-loaded team",
    )
    assignee = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="A user id, member of the team"
    )


# A hold for "other" reason needs a note saying which (note_clean(required=...)).
HOLD_NOTE_RULE = {
    "x-schema": {
        "if": {"properties": {"reason": {"const": "other"}}, "required": ["reason"]},
        "then": {"properties": {"note": {"pattern": NOT_BLANK}}, "required": ["note"]},
    }
}


@extend_schema_serializer(extensions=HOLD_NOTE_RULE)
class HoldIn(NoteIn):
    reason = serializers.ChoiceField(choices=HoldReason.choices)


class CompleteIn(serializers.Serializer):
    note = note_field("The closing note: the resident reads it")
    photos = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text="Proof photos (multipart, repeat the field); at least one is needed in "
        "total, sent now or earlier",
    )


class ProofPhotosIn(serializers.Serializer):
    photos = serializers.ListField(child=serializers.FileField(), help_text="Repeat the field")


class CancelIn(PublicNoteIn):
    close_reason = serializers.ChoiceField(
        choices=[(reason.value, reason.label) for reason in CANCEL_CLOSE_REASONS],
        required=False,
        default="cancelled",
        help_text="What the request is closed as",
    )


class ReviewIn(NoteIn):
    decision = serializers.ChoiceField(choices=ReviewDecision.choices)


class ChangeTypeIn(NoteIn):
    service_code = serializers.CharField(max_length=64)


class MergeIn(NoteIn):
    into = serializers.CharField(max_length=32, help_text="The original request's id (SR-...)")


class RequestChangedOut(serializers.Serializer):
    service_request_id = serializers.CharField()
    status = serializers.CharField()
    service_code = serializers.CharField()
    duplicate_of = serializers.CharField(allow_null=True)
    work_order = WorkOrderOut(allow_null=True)


# --- Feedback (public, by signed link)


class FeedbackIn(serializers.Serializer):
    fixed = serializers.BooleanField(help_text="Was it fixed?")
    rating = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=5
    )
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class FeedbackAnswerOut(serializers.Serializer):
    fixed = serializers.BooleanField()
    rating = serializers.IntegerField(allow_null=True)
    comment = serializers.CharField()
    reopened = serializers.BooleanField()
    created_at = serializers.DateTimeField()


class FeedbackFormOut(serializers.Serializer):
    service_request_id = serializers.CharField()
    service_name = serializers.CharField()
    status = serializers.CharField()
    closed_at = serializers.DateTimeField()
    closing_note = serializers.CharField()
    photos = serializers.ListField(child=serializers.URLField())
    can_reopen = serializers.BooleanField(
        help_text='Whether "not fixed" would reopen the request now'
    )
    answer = FeedbackAnswerOut(allow_null=True)


class FeedbackResultOut(serializers.Serializer):
    service_request_id = serializers.CharField()
    status = serializers.CharField()
    reopened = serializers.BooleanField()
    message = serializers.CharField()
    answer = FeedbackAnswerOut()
