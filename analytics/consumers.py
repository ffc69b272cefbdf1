"""``/ws/analytics/``: the live counters' pushes (``analytics.live``) for staff.

Anonymous → accepted and closed with 4401; a signed-in user without analytics access (a
resident) → 4403. Leadership hears every push; a team member only their departments'."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from analytics.access import AnalyticsAccess, analytics_access_get
from analytics.live import GROUP
from backend.catalog.models import ServiceType
from backend.websocket_consumers import PushConsumer

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


@database_sync_to_async
def _type_departments() -> dict[int, int]:
    return dict(ServiceType.objects.values_list("id", "department_id"))


class AnalyticsLiveConsumer(PushConsumer):
    database_free_types = frozenset({"analytics.event"})
    access: AnalyticsAccess | None = None
    departments: dict[int, int]

    async def connect(self) -> None:
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        access = await database_sync_to_async(analytics_access_get)(user=user)
        if not access.allowed:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.access = access
        # Service type -> department, read once (a type made later counts for no department
        # until the page reconnects).
        self.departments = await _type_departments()
        await self.channel_layer.group_add(GROUP, self.channel_name)
        await self.send_json({"type": "subscribed", "citywide": access.citywide})

    async def disconnect(self, code: int) -> None:
        if self.access is not None:
            await self.channel_layer.group_discard(GROUP, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Clients only listen."""

    async def analytics_event(self, message: dict[str, Any]) -> None:
        access = self.access
        department_id = self.departments.get(message["service_type_id"])
        if access is None or (not access.citywide and department_id not in access.departments):
            return
        await self.send_json(
            {
                "type": "event",
                "event": message["event"],
                "service_type_id": message["service_type_id"],
                "department_id": department_id,
                "channel": message["channel"],
            }
        )
