"""The chat API: a message in, the assistant's replies out (for messaging gateways, SMS and
tests; the web widget uses the websocket ``/ws/chat/``), and the widget's photo upload.
Thin: the work is in ``chatbot.services``."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api_errors import error_response
from backend.parsers import JSONParser
from backend.photos.uploads import photo_size_check
from backend.ratelimit import chat_throttle
from chatbot.selectors import conversation_get_for_user
from chatbot.serializers import (
    CHAT_UNAVAILABLE_SCHEMA,
    ChatIn,
    ChatOut,
    ChatPhotoIn,
    ChatPhotoOut,
)
from chatbot.services import (
    ChatPhotoRejected,
    ChatUnavailable,
    chat_message_send,
    chat_photo_store,
    conversation_start,
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


class ChatAPIView(APIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [AllowAny]


def _unknown_conversation(public_id: str) -> Response:
    return error_response(
        {"conversation_id": [f"There is no conversation {public_id!r} for you."]},
        status_code=status.HTTP_404_NOT_FOUND,
        detail="Unknown conversation.",
    )


class ChatView(ChatAPIView):
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="chat_message",
        summary="Send the assistant a message; get its replies (text and buttons)",
        request=ChatIn,
        responses={
            200: ChatOut,
            400: OpenApiResponse(ERROR_SCHEMA),
            404: OpenApiResponse(ERROR_SCHEMA),
            429: OpenApiResponse(ERROR_SCHEMA),
            503: OpenApiResponse(
                CHAT_UNAVAILABLE_SCHEMA, description="The assistant is down: try again soon"
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data_in = ChatIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        data: dict[str, Any] = data_in.validated_data
        public_id = data.get("conversation_id") or ""
        # The one place chat is rate limited (backend/ratelimit.py): per address, and per
        # conversation or account.
        user_key = f"user:{request.user.pk}" if request.user.is_authenticated else ""
        chat_throttle(request, client_key=user_key or (f"chat:{public_id}" if public_id else ""))
        if public_id:
            conversation = conversation_get_for_user(public_id=public_id, user=request.user)
            if conversation is None:
                return _unknown_conversation(public_id)
        else:
            conversation = conversation_start(
                language=data.get("language") or "", user=request.user, source="api"
            )
        try:
            replies = chat_message_send(
                conversation=conversation,
                text=data["message"],
                language=data.get("language") or conversation.language,
                metadata=data.get("metadata") or {},
                user=request.user,
            )
        except ChatUnavailable as exc:
            return Response(
                {
                    "conversation_id": conversation.public_id,
                    "detail": exc.message,
                    "web_form_url": settings.CHATBOT_WEB_FORM_URL,
                    "errors": {"assistant": ["The assistant is not available right now."]},
                },
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        out = {
            "conversation_id": conversation.public_id,
            "replies": [{"text": r.text, "buttons": r.buttons} for r in replies],
        }
        return Response(ChatOut(out).data)


class ChatPhotoView(ChatAPIView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="chat_photo_upload",
        summary="Upload a photo for the report being made in a conversation",
        request={"multipart/form-data": ChatPhotoIn},
        responses={
            201: ChatPhotoOut,
            400: OpenApiResponse(ERROR_SCHEMA),
            404: OpenApiResponse(ERROR_SCHEMA),
            413: OpenApiResponse(ERROR_SCHEMA),
            429: OpenApiResponse(ERROR_SCHEMA),
        },
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("photo") if request.FILES else None
        if isinstance(upload, UploadedFile):
            photo_size_check(upload, field="photo")  # too large: 413 (backend/api_errors.py)
        data_in = ChatPhotoIn(data=request.data)
        data_in.is_valid(raise_exception=True)
        public_id = data_in.validated_data["conversation_id"]
        user_key = f"user:{request.user.pk}" if request.user.is_authenticated else ""
        chat_throttle(request, client_key=user_key or f"chat:{public_id}")
        conversation = conversation_get_for_user(public_id=public_id, user=request.user)
        if conversation is None:
            return _unknown_conversation(public_id)
        photo = data_in.validated_data["photo"]
        try:
            stored = chat_photo_store(conversation=conversation, data=photo.read())
        except ChatPhotoRejected as exc:
            return error_response({"photo": [exc.message]}, status_code=exc.status)
        return Response(ChatPhotoOut({"photo": stored.reference}).data, status=201)
