"""``/ws/chat/``: the web widget's conversation with the assistant.

The client sends ``{"type": "message", "conversation_id"?, "message", "language"?,
"metadata"?}`` (the same fields as ``POST /api/v1/chat/``; no ``conversation_id`` starts a
conversation) and gets ``{"type": "replies", "conversation_id", "replies": [{"text",
"buttons"}]}``, or ``{"type": "error", "status", "detail", "errors", "conversation_id"?}``:
400/404 for bad input naming the field, 429 when throttled, 503 (with the web form's
address in ``detail``) while the assistant is down. The socket stays open either way. Once it
has a conversation, the socket also gets an agent's answers in it (``{"type": "replies",
"agent": true, ...}``; chatbot/handoffs.py).
The signed-in resident is the session's (the widget runs on the site's own pages)."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from rest_framework.exceptions import Throttled, ValidationError

from backend.api_errors import _flatten
from backend.ratelimit import chat_message_throttle
from chatbot.handoffs import chat_group
from chatbot.selectors import conversation_get_for_user
from chatbot.serializers import ChatIn
from chatbot.services import ChatUnavailable, chat_message_send, conversation_start


def _error(status: int, detail: str, errors: dict[str, list[str]], **more: Any) -> dict[str, Any]:
    return {"type": "error", "status": status, "detail": detail, "errors": errors, **more}


class ChatConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self) -> None:
        await self.accept()

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict) or content.get("type") != "message":
            await self.send_json(
                _error(400, 'Send {"type": "message", ...}.', {"type": ["Must be message."]})
            )
            return
        fields = {k: v for k, v in content.items() if k != "type"}
        answer = await self._handle(fields)
        await self.send_json(answer)
        await self._join(answer.get("conversation_id") or "")

    async def _join(self, public_id: str) -> None:
        """Listens to the conversation's group: an agent's answer comes that way."""
        joined: set[str] = getattr(self, "joined", set())
        if not public_id or public_id in joined or self.channel_layer is None:
            return
        await self.channel_layer.group_add(chat_group(public_id), self.channel_name)
        joined.add(public_id)
        self.joined = joined

    async def disconnect(self, code: int) -> None:
        for public_id in getattr(self, "joined", set()):
            await self.channel_layer.group_discard(chat_group(public_id), self.channel_name)

    async def chat_agent(self, event: dict[str, Any]) -> None:
        """An agent's answer (``chatbot.handoffs.web_deliver``), shown like a reply."""
        await self.send_json(
            {
                "type": "replies",
                "agent": True,
                "replies": [{"text": str(event.get("text", "")), "buttons": []}],
            }
        )

    @database_sync_to_async
    def _handle(self, fields: dict[str, Any]) -> dict[str, Any]:
        data_in = ChatIn(data=fields)
        try:
            data_in.is_valid(raise_exception=True)
        except ValidationError as exc:
            errors = _flatten(exc.detail)
            return _error(400, "Invalid input: " + ", ".join(errors), errors)
        data = data_in.validated_data
        user = self.scope.get("user")
        public_id = data.get("conversation_id") or ""
        try:
            # As the HTTP view (chatbot.views.ChatView): per address, per conversation.
            client = self.scope.get("client") or ("unknown", 0)
            chat_message_throttle(
                address=str(client[0]), client_key=f"chat:{public_id}" if public_id else ""
            )
        except Throttled as exc:
            return _error(
                429,
                str(exc.detail),
                {"message": ["Too many messages; wait a little."]},
                retry_after=int(getattr(exc, "wait", None) or 1),
            )
        if public_id:
            conversation = conversation_get_for_user(public_id=public_id, user=user)
            if conversation is None:
                return _error(
                    404,
                    "Unknown conversation.",
                    {"conversation_id": [f"There is no conversation {public_id!r} for you."]},
                )
        else:
            conversation = conversation_start(
                language=data.get("language") or "", user=user, source="websocket"
            )
        try:
            replies = chat_message_send(
                conversation=conversation,
                text=data["message"],
                language=data.get("language") or conversation.language,
                metadata=data.get("metadata") or {},
                user=user,
            )
        except ChatUnavailable as exc:
            return _error(
                503,
                exc.message,
                {"assistant": ["The assistant is not available right now."]},
                conversation_id=conversation.public_id,
                web_form_url=settings.CHATBOT_WEB_FORM_URL,
            )
        return {
            "type": "replies",
            "conversation_id": conversation.public_id,
            "replies": [{"text": r.text, "buttons": r.buttons} for r in replies],
        }
