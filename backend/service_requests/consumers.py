"""``/ws/requests/<public_id>/``: a request's status, live, for anyone who has its id.

Public like the request's page: no authentication, and only public fields ever go out
(public id, status, Open311 status, public note, update and expected times). On connect the
client gets the current state (``"type": "snapshot"``), then one ``"type": "status"`` per
status change, pushed by ``messaging.status_notify`` to the request's group. An unknown id
is accepted and closed at once with code 4404 (a refused handshake carries no code); so is
a hidden one (moderation), whose status messages are not pushed either."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from backend.service_requests.models import ServiceRequest, ServiceRequestEvent, Status
from backend.service_requests.notifications import websocket_group
from backend.websocket_consumers import PushConsumer

CLOSE_NOT_FOUND = 4404


def open311_status(status: str) -> str:
    return "closed" if status == Status.CLOSED else "open"


@database_sync_to_async
def _snapshot(public_id: str) -> dict[str, Any] | None:
    found = (
        ServiceRequest.objects.visible()
        .filter(public_id=public_id)
        .values("pk", "status", "updated_at", "expected_at")
        .first()
    )
    if found is None:
        return None
    note = (
        ServiceRequestEvent.objects.filter(service_request_id=found["pk"])
        .exclude(public_note="")
        .order_by("-created_at", "-id")
        .values_list("public_note", flat=True)
        .first()
    )
    expected = found["expected_at"]
    return {
        "type": "snapshot",
        "public_id": public_id,
        "status": found["status"],
        "open311_status": open311_status(found["status"]),
        "public_note": note or "",
        "updated_at": found["updated_at"].isoformat(),
        "expected_at": expected.isoformat() if expected else None,
    }


class RequestStatusConsumer(PushConsumer):
    # Their handlers only pass them on, or close.
    database_free_types = frozenset({"request.status", "request.hidden"})
    group: str | None = None

    async def connect(self) -> None:
        public_id = self.scope["url_route"]["kwargs"]["public_id"]
        snapshot = await _snapshot(public_id)
        await self.accept()
        if snapshot is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        self.group = websocket_group(public_id=public_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json(snapshot)

    async def disconnect(self, code: int) -> None:
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Clients only listen."""

    async def request_hidden(self, message: dict[str, Any]) -> None:
        """A ``request.hidden`` group message (moderation): the request is gone for the public."""
        await self.close(code=CLOSE_NOT_FOUND)

    async def request_status(self, message: dict[str, Any]) -> None:
        """A ``request.status`` group message: passes on its public fields only."""
        await self.send_json(
            {
                "type": "status",
                "public_id": message["service_request_id"],
                "status": message["status"],
                "open311_status": open311_status(message["status"]),
                "public_note": message.get("public_note", ""),
                "updated_at": message["at"],
                "expected_at": message.get("expected_at"),
            }
        )
