"""The chat API's shapes: what a client sends and what it gets back."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from chatbot.services import LANGUAGES, MESSAGE_MAX_CHARS


class LocationIn(serializers.Serializer):
    lat = serializers.FloatField(min_value=-90, max_value=90)
    long = serializers.FloatField(min_value=-180, max_value=180)


class MetadataIn(serializers.Serializer):
    photo = serializers.RegexField(
        r"^[A-Za-z0-9_-]{8,64}$",
        required=False,
        help_text="The reference of a photo uploaded with POST /api/v1/chat/photos",
    )
    location = LocationIn(required=False, help_text="Coordinates the resident chose to share")


@extend_schema_serializer(extensions={"x-schema": {"additionalProperties": False}})
class ChatIn(serializers.Serializer):
    conversation_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=64,
        help_text="Leave out to start a conversation; then send back the one answered",
    )
    message = serializers.CharField(max_length=MESSAGE_MAX_CHARS, trim_whitespace=True)
    language = serializers.ChoiceField(choices=LANGUAGES, required=False)
    metadata = MetadataIn(required=False)

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["Unknown field."] for name in unknown})
        return super().to_internal_value(data)


class ButtonOut(serializers.Serializer):
    title = serializers.CharField()
    payload = serializers.CharField(help_text="Send this as the next message when chosen")


class ReplyOut(serializers.Serializer):
    text = serializers.CharField()
    buttons = ButtonOut(many=True)


class ChatOut(serializers.Serializer):
    conversation_id = serializers.CharField()
    replies = ReplyOut(many=True)


CHAT_UNAVAILABLE_SCHEMA = {
    "type": "object",
    "properties": {
        "conversation_id": {"type": "string"},
        "detail": {"type": "string", "description": "A polite message with the web form"},
        "web_form_url": {"type": "string"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["conversation_id", "detail", "web_form_url", "errors"],
}


class ChatPhotoIn(serializers.Serializer):
    conversation_id = serializers.CharField(max_length=64)
    photo = serializers.FileField(help_text="JPEG, PNG or WebP")


class ChatPhotoOut(serializers.Serializer):
    photo = serializers.CharField(help_text="Pass as metadata.photo with the next message")


class ChatHoursIntervalOut(serializers.Serializer):
    weekday = serializers.IntegerField(help_text="0 = Monday")
    opens = serializers.CharField(help_text="HH:MM, local time")
    closes = serializers.CharField(help_text="HH:MM, local time (24:00: midnight)")


class ChatHoursOut(serializers.Serializer):
    time_zone = serializers.CharField()
    open_now = serializers.BooleanField()
    closes_at = serializers.DateTimeField(allow_null=True)
    next_open = serializers.DateTimeField(allow_null=True)
    hours = ChatHoursIntervalOut(many=True)
