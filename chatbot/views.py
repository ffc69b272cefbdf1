"""The chat API: a message in, the assistant's replies out (for messaging gateways, SMS and
tests; the web widget uses the websocket ``/ws/chat/``), and the widget's photo upload.
Thin: the work is in ``chatbot.services``."""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import UploadedFile
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from backend.api_errors import ERROR
from backend.errors import City311Error, ErrorCode
from backend.parsers import JSONParser
from backend.photos.uploads import photo_size_check
from backend.ratelimit import chat_throttle
from chatbot.handoffs import agent_hours
from chatbot.models import Conversation
from chatbot.selectors import conversation_get_for_user
from chatbot.serializers import (
    CHAT_UNAVAILABLE_SCHEMA,
    ChatHoursOut,
    ChatIn,
    ChatOut,
    ChatPhotoIn,
    ChatPhotoOut,
)
from chatbot.services import chat_message_send, chat_photo_store, conversation_start


class ChatAPIView(APIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [AllowAny]


def _conversation(public_id: str, user: Any) -> Conversation:
    """The user's conversation (an anonymous one by its id alone); any other: 404."""
    conversation = conversation_get_for_user(public_id=public_id, user=user)
    if conversation is None:
        raise City311Error(
            {"conversation_id": [f"There is no conversation {public_id!r} for you."]},
            code=ErrorCode.NOT_FOUND,
            detail="Unknown conversation.",
        )
    return conversation


class ChatView(ChatAPIView):
    parser_classes = [JSONParser]

    @extend_schema(
        operation_id="chat_message",
        summary="Send the assistant a message; get its replies (text and buttons)",
        request=ChatIn,
        responses={
            200: ChatOut,
            400: ERROR,
            404: ERROR,
            429: ERROR,
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
            conversation = _conversation(public_id, request.user)
        else:
            conversation = conversation_start(
                language=data.get("language") or "", user=request.user, source="api"
            )
        # The assistant down: ChatUnavailable, answered 503 with the web form's address.
        replies = chat_message_send(
            conversation=conversation,
            text=data["message"],
            language=data.get("language") or conversation.language,
            metadata=data.get("metadata") or {},
            user=request.user,
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
            400: ERROR,
            404: ERROR,
            413: ERROR,
            429: ERROR,
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
        conversation = _conversation(public_id, request.user)
        photo = data_in.validated_data["photo"]
        stored = chat_photo_store(conversation=conversation, data=photo.read())
        return Response(ChatPhotoOut({"photo": stored.reference}).data, status=201)


class ChatHoursView(APIView):
    """The call centre's hours, public (the assistant answers "when are you open?" and
    "talk to a person" from them): chatbot/handoffs.py says where they come from."""

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="chat_hours",
        summary="The call centre's opening hours: open now, until when, or when it opens next",
        responses={200: ChatHoursOut},
    )
    def get(self, request: Request) -> Response:
        return Response(ChatHoursOut(agent_hours().data()).data)
