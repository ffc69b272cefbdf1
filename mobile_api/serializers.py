"""Input and output serializers of the mobile API. Shapes only: no business logic."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from backend.catalog.models import ServiceAttribute, ServiceType
from backend.catalog.selectors import Notice, emergency_state
from backend.parsers import json_loads
from backend.photos.models import Photo, ProcessingState
from backend.service_requests.models import ServiceRequest
from backend.service_requests.moderation import description_shown
from mobile_api.models import Device, Platform
from mobile_api.push import ENDPOINT_MAX, auth_problem, p256dh_problem
from workorders.api.serializers import FeedbackIn

# --- Catalog


class AttributeValueOut(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()


class AttributeOut(serializers.Serializer):
    code = serializers.CharField()
    datatype = serializers.CharField()
    required = serializers.BooleanField()  # type: ignore[assignment]
    order = serializers.IntegerField()
    description = serializers.SerializerMethodField()
    values = serializers.SerializerMethodField()

    def get_description(self, obj: ServiceAttribute) -> str:
        return obj.localized_description(self.context.get("language"))

    @extend_schema_field(AttributeValueOut(many=True))
    def get_values(self, obj: ServiceAttribute) -> list[dict[str, str]]:
        lang = self.context.get("language") or "en"
        return [
            {
                "key": v["key"],
                "name": (v.get("name_i18n") or {}).get(lang) or v.get("name", v["key"]),
            }
            for v in obj.values
        ]


class ServiceOut(serializers.Serializer):
    service_code = serializers.CharField()
    name = serializers.SerializerMethodField()
    description = serializers.SerializerMethodField()
    group = serializers.CharField()
    keywords = serializers.ListField(child=serializers.CharField())
    department = serializers.CharField(source="department.name")
    expected_turnaround_hours = serializers.IntegerField(source="turnaround_hours")
    turnaround_in_business_hours = serializers.BooleanField(source="turnaround_business_hours")
    icon = serializers.CharField()
    attributes = AttributeOut(many=True)
    # Emergency mode (additive): a service switched off for now is listed with the staff's
    # message; filing it answers 404 naming service_code with that message.
    available = serializers.SerializerMethodField()
    unavailable_message = serializers.SerializerMethodField()
    unavailable_until = serializers.SerializerMethodField()

    def get_name(self, obj: ServiceType) -> str:
        return obj.localized_name(self.context.get("language"))

    def get_description(self, obj: ServiceType) -> str:
        return obj.localized_description(self.context.get("language"))

    def _suspension(self, obj: ServiceType) -> Notice | None:
        state = self.context.get("emergency") or emergency_state()
        return state.suspension(obj.service_code)

    @extend_schema_field(serializers.BooleanField())
    def get_available(self, obj: ServiceType) -> bool:
        return self._suspension(obj) is None

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_unavailable_message(self, obj: ServiceType) -> str | None:
        notice = self._suspension(obj)
        return notice.message_in(self.context.get("language")) if notice else None

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_unavailable_until(self, obj: ServiceType) -> str | None:
        notice = self._suspension(obj)
        return timezone.localtime(notice.ends_at).isoformat() if notice and notice.ends_at else None


class SiteBannerOut(serializers.Serializer):
    message = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True, help_text="null: until cleared")


class SiteBannerAnswerOut(serializers.Serializer):
    banner = SiteBannerOut(allow_null=True, help_text="null: no banner now")


# --- Submitting a request


class ContactIn(serializers.Serializer):
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    email = serializers.EmailField(required=False, allow_blank=True)
    phone = serializers.CharField(required=False, allow_blank=True, max_length=40)


class RequestIn(serializers.Serializer):
    service_code = serializers.CharField(max_length=64)
    lat = serializers.FloatField(required=False, allow_null=True, min_value=-90, max_value=90)
    long = serializers.FloatField(required=False, allow_null=True, min_value=-180, max_value=180)
    address = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    description = serializers.CharField(
        required=False, allow_blank=True, max_length=4000, default="", trim_whitespace=False
    )
    attributes = serializers.JSONField(required=False, default=dict)
    contact = ContactIn(required=False)
    language = serializers.ChoiceField(
        choices=[code for code, _ in settings.LANGUAGES], required=False
    )

    def validate_attributes(self, value: Any) -> dict[str, Any]:
        if isinstance(value, str):  # multipart sends JSON as a string
            try:
                value = json_loads(value)
            except ValueError as exc:
                raise serializers.ValidationError("Must be a JSON object.") from exc
        if not isinstance(value, dict):
            raise serializers.ValidationError("Must be an object of attribute code: value.")
        return value

    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "getlist"):
            # Multipart/form: contact[name] / contact.name and attribute[code] style keys.
            flat: dict[str, Any] = {}
            attributes: dict[str, Any] = {}
            contact: dict[str, Any] = {}
            for key in data:
                values = data.getlist(key)
                if key == "photos":
                    continue
                if key.startswith("attribute[") and key.endswith("]"):
                    attributes[key[10:-1]] = values if len(values) > 1 else values[0]
                elif key.startswith(("contact[", "contact.")):
                    contact[key[8:].rstrip("]")] = values[0]
                else:
                    flat[key] = values[0]
            if attributes and "attributes" not in flat:
                flat["attributes"] = attributes
            if contact:
                flat["contact"] = contact
            data = flat
        elif not isinstance(data, dict):
            raise serializers.ValidationError({"body": ["Expected a JSON object."]})
        return super().to_internal_value(data)


class PhotoOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    state = serializers.CharField()
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    def _absolute(self, field: Any) -> str | None:
        if not field:
            return None
        request = self.context.get("request")
        url = field.url
        return request.build_absolute_uri(url) if request else url

    def get_url(self, obj: Photo) -> str | None:
        return self._absolute(obj.display) if obj.state == ProcessingState.READY else None

    def get_thumbnail_url(self, obj: Photo) -> str | None:
        return self._absolute(obj.thumbnail) if obj.state == ProcessingState.READY else None


class DuplicateOut(serializers.Serializer):
    service_request_id = serializers.CharField()
    status = serializers.CharField()
    requested_at = serializers.DateTimeField()
    distance_m = serializers.FloatField()


class RequestCreatedOut(serializers.Serializer):
    service_request_id = serializers.CharField()
    status = serializers.CharField()
    service_code = serializers.CharField()
    requested_at = serializers.DateTimeField()
    expected_at = serializers.DateTimeField(allow_null=True)
    expected_turnaround_hours = serializers.IntegerField()
    possible_duplicate = DuplicateOut(allow_null=True)
    photos = PhotoOut(many=True)
    edit_token = serializers.CharField(
        required=False,
        help_text="Filed without an account: send it back as the `Edit-Token` header to "
        "correct the description or add photos until `edit_until`. Keep it private.",
    )
    edit_until = serializers.DateTimeField(
        required=False, help_text="Until when the reporter may correct the request"
    )


class EventOut(serializers.Serializer):
    at = serializers.DateTimeField(source="created_at")
    kind = serializers.CharField()
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    close_reason = serializers.CharField()
    note = serializers.CharField(source="public_note")


class CommentOut(serializers.Serializer):
    """A resident's comment as published by staff: the words only, never who wrote them."""

    at = serializers.DateTimeField(source="moderated_at", help_text="When staff published it")
    text = serializers.CharField()


class DescriptionOut(serializers.CharField):
    """A request's description as residents read it: where a moderator removed a part, the
    marker in the reader's language."""

    def to_representation(self, value: Any) -> str:
        return description_shown(super().to_representation(value))


class RequestPublicOut(serializers.Serializer):
    """What anybody may see of a request: no reporter, no contact data, no internal notes."""

    service_request_id = serializers.CharField(source="public_id")
    service_code = serializers.CharField(source="service_type.service_code")
    service_name = serializers.SerializerMethodField()
    agency_responsible = serializers.CharField(source="service_type.department.name")
    status = serializers.CharField()
    open311_status = serializers.SerializerMethodField()
    close_reason = serializers.CharField()
    description = DescriptionOut()
    address = serializers.CharField()
    lat = serializers.SerializerMethodField()
    long = serializers.SerializerMethodField()
    requested_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    expected_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    duplicate_of = serializers.SerializerMethodField()
    photos = PhotoOut(many=True)
    events = EventOut(many=True, source="public_event_list")
    comments = CommentOut(
        many=True,
        source="public_comment_list",
        help_text="Residents' comments staff published, oldest first",
    )
    supporters = serializers.IntegerField(
        source="supporters_count", help_text="How many people reported this too"
    )

    def get_service_name(self, obj: ServiceRequest) -> str:
        return obj.service_type.localized_name(self.context.get("language"))

    def get_open311_status(self, obj: ServiceRequest) -> str:
        return "open" if obj.is_open else "closed"

    def _coord(self, obj: ServiceRequest, index: int) -> float | None:
        if obj.location is None:
            return None
        value = float(obj.location.coords[index])
        # Sensitive services (e.g. rodents at a home) show an area, not a house: ~100 m.
        return round(value, 3) if obj.service_type.sensitive_location else value

    def get_lat(self, obj: ServiceRequest) -> float | None:
        return self._coord(obj, 1)

    def get_long(self, obj: ServiceRequest) -> float | None:
        return self._coord(obj, 0)

    def get_duplicate_of(self, obj: ServiceRequest) -> str | None:
        original = obj.duplicate_of if obj.duplicate_of_id else None
        # An original hidden by moderation does not exist for the public.
        return original.public_id if original and original.hidden_at is None else None


# --- Accounts and devices


class SignupIn(serializers.Serializer):
    email = serializers.EmailField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    name = serializers.CharField(required=False, allow_blank=True, max_length=150, default="")


class LoginIn(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class AccountOut(serializers.Serializer):
    user_id = serializers.IntegerField()
    email = serializers.CharField()
    name = serializers.CharField()
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")


class TextField(serializers.CharField):
    """A JSON string only: a number is refused, not read as its digits."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class DeviceIn(serializers.Serializer):
    platform = serializers.ChoiceField(choices=Platform.choices)
    push_token = TextField(max_length=512)


class DeviceOut(serializers.Serializer):
    id = serializers.IntegerField()
    platform = serializers.CharField()
    push_token = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()


# --- Web Push subscriptions (a browser's PushSubscription.toJSON())


class VapidPublicKeyOut(serializers.Serializer):
    public_key = serializers.CharField(
        help_text="The site's VAPID public key, base64url: pushManager.subscribe's "
        "applicationServerKey"
    )


class WebPushKeysIn(serializers.Serializer):
    p256dh = serializers.CharField(max_length=100, help_text="P-256 public key, base64url")
    auth = serializers.CharField(max_length=50, help_text="Authentication secret, base64url")

    def validate_p256dh(self, value: str) -> str:
        problem = p256dh_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value.rstrip("=")

    def validate_auth(self, value: str) -> str:
        problem = auth_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value.rstrip("=")


class WebPushSubscriptionIn(serializers.Serializer):
    endpoint = serializers.CharField(
        max_length=ENDPOINT_MAX, help_text="The push service's URL for this browser (https)"
    )
    keys = WebPushKeysIn()
    service_request_id = serializers.CharField(
        max_length=40,
        required=False,
        allow_blank=True,
        default="",
        help_text="A request's public id: this browser gets that request's status messages. "
        "Required without an account (the subscription is bound to it alone).",
    )


class WebPushUnsubscribeIn(serializers.Serializer):
    endpoint = TextField(max_length=ENDPOINT_MAX)


class WebPushSubscriptionOut(serializers.Serializer):
    endpoint = serializers.CharField(source="push_token")
    service_request_id = serializers.CharField(
        source="service_request.public_id", allow_null=True, default=None
    )
    account = serializers.SerializerMethodField(
        help_text="True if the signed-in account's requests and follows reach this browser"
    )
    created_at = serializers.DateTimeField()

    def get_account(self, obj: Device) -> bool:
        return obj.user_id is not None


class WebPushUnsubscribedOut(serializers.Serializer):
    deleted = serializers.BooleanField()


# --- Residents: nearby requests, my requests, timeline, follow, feedback


class NearbyQueryIn(serializers.Serializer):
    service_code = serializers.CharField(max_length=64)
    lat = serializers.FloatField(min_value=-90, max_value=90)
    long = serializers.FloatField(min_value=-180, max_value=180)


class NearbyOut(serializers.Serializer):
    service_request_id = serializers.CharField(source="public_id")
    service_code = serializers.CharField(source="service_type.service_code")
    status = serializers.CharField()
    description = DescriptionOut()
    address = serializers.CharField()
    requested_at = serializers.DateTimeField()
    distance_m = serializers.SerializerMethodField()
    supporters = serializers.IntegerField(
        source="supporters_count", help_text="How many people reported this too"
    )

    def get_distance_m(self, obj: Any) -> float:
        return round(float(obj.distance.m), 1)


class ContactOut(serializers.Serializer):
    name = serializers.CharField(source="contact_name")
    email = serializers.CharField(source="contact_email")
    phone = serializers.CharField(source="contact_phone")


class MyRequestOut(serializers.Serializer):
    """One of the resident's own requests: with the contact data they gave."""

    service_request_id = serializers.CharField(source="public_id")
    service_code = serializers.CharField(source="service_type.service_code")
    service_name = serializers.SerializerMethodField()
    status = serializers.CharField()
    description = serializers.CharField()
    address = serializers.CharField()
    requested_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    expected_at = serializers.DateTimeField(allow_null=True)
    closed_at = serializers.DateTimeField(allow_null=True)
    contact = ContactOut(source="*")
    supporters = serializers.IntegerField(
        source="supporters_count", help_text="How many people reported this too"
    )

    def get_service_name(self, obj: ServiceRequest) -> str:
        return obj.service_type.localized_name(self.context.get("language"))


class TimelineOut(serializers.Serializer):
    service_request_id = serializers.CharField(source="public_id")
    status = serializers.CharField()
    events = EventOut(many=True, source="public_event_list")
    comments = CommentOut(
        many=True,
        source="public_comment_list",
        help_text="Residents' comments staff published, oldest first",
    )
    photos = PhotoOut(many=True, help_text="`kind`: report (the resident's) or proof (the crew's)")


class FollowOut(serializers.Serializer):
    service_request_id = serializers.CharField()
    following = serializers.BooleanField()


class SupportIn(serializers.Serializer):
    follow = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also follow the request: its status messages reach me (signed in only)",
    )

    def to_internal_value(self, data: Any) -> Any:
        if data is None or data == "":
            data = {}
        if not hasattr(data, "get"):
            raise serializers.ValidationError({"body": ["Expected a JSON object."]})
        return super().to_internal_value(data)


class SupportOut(serializers.Serializer):
    service_request_id = serializers.CharField()
    supporters = serializers.IntegerField(help_text="How many people reported this too")
    supporting = serializers.BooleanField(help_text="Whether my support is counted")
    following = serializers.BooleanField(help_text="Whether I follow the request (signed in only)")


# The same answer as the feedback page's (by signed link): one set of limits for both.
class ResidentFeedbackIn(FeedbackIn):
    pass


class ResidentFeedbackOut(serializers.Serializer):
    service_request_id = serializers.CharField()
    status = serializers.CharField()
    fixed = serializers.BooleanField()
    rating = serializers.IntegerField(allow_null=True)
    comment = serializers.CharField()
    reopened = serializers.BooleanField()
    message = serializers.CharField()


# --- The reporter's corrections within the edit window


class RequestEditIn(serializers.Serializer):
    description = serializers.CharField(
        allow_blank=True, trim_whitespace=False, help_text="The corrected description"
    )

    def to_internal_value(self, data: Any) -> Any:
        if not hasattr(data, "get"):
            raise serializers.ValidationError({"body": ["Expected a JSON object."]})
        return super().to_internal_value(data)


class RequestPhotosIn(serializers.Serializer):
    photos = serializers.ListField(
        child=serializers.ImageField(), help_text="Photos to add (multipart)"
    )


class RequestEditOut(serializers.Serializer):
    service_request_id = serializers.CharField(source="service_request.public_id")
    description = serializers.CharField(source="service_request.description")
    changed = serializers.ListField(
        child=serializers.ChoiceField(choices=["description", "photos"]),
        help_text="What this call changed (empty: nothing new)",
    )
    photos = PhotoOut(many=True, help_text="The request's photos, oldest first")
    edit_until = serializers.DateTimeField()
