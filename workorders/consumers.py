"""``/ws/crew/``: live changes to the signed-in user's team queues (``workorders.live``).

Needs a user: the web's session, or the app's DRF token (``backend.websocket_auth``).
Anonymous → accepted and closed with 4401; a user in no active team → 4403. Crew members
hear their teams' groups; supervisors also hear their departments' groups (a supervisor
works on the whole department's queue). Memberships are read at connect and again when the
admin changes a team the user is or was in (``workorders.live.memberships_changed``): the
socket then joins and leaves groups as needed and says ``subscribed`` again, or closes with
4403 when the user is left in no active team."""

from __future__ import annotations

from typing import Any

from channels.db import database_sync_to_async

from backend.websocket_consumers import PushConsumer
from workorders.live import department_group, team_group, user_group
from workorders.models import TeamMember, TeamRole

CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403


@database_sync_to_async
def _groups_of(user_id: int) -> list[str]:
    groups: list[str] = []
    memberships = TeamMember.objects.filter(user_id=user_id, team__active=True).values_list(
        "team_id", "team__department_id", "role"
    )
    for team_id, department_id, role in memberships:
        groups.append(team_group(team_id=team_id))
        if role == TeamRole.SUPERVISOR:
            groups.append(department_group(department_id=department_id))
    return list(dict.fromkeys(groups))


class CrewQueueConsumer(PushConsumer):
    database_free_types = frozenset({"workorder.change"})  # its handler only passes it on
    groups_joined: list[str]

    async def connect(self) -> None:
        self.groups_joined = []
        user = self.scope.get("user")
        await self.accept()
        if user is None or not user.is_authenticated:
            await self.close(code=CLOSE_UNAUTHENTICATED)
            return
        groups = await _groups_of(user.pk)
        if not groups:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(user_group(user_id=user.pk), self.channel_name)
        await self._join(groups)

    async def _join(self, groups: list[str]) -> None:
        for group in set(self.groups_joined) - set(groups):
            await self.channel_layer.group_discard(group, self.channel_name)
        for group in set(groups) - set(self.groups_joined):
            await self.channel_layer.group_add(group, self.channel_name)
        self.groups_joined = groups
        await self.send_json({"type": "subscribed", "groups": len(groups)})

    async def crew_memberships(self, message: dict[str, Any]) -> None:
        """The user's teams changed: join and leave groups to match."""
        user = self.scope["user"]
        groups = await _groups_of(user.pk)
        if not groups:
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self._join(groups)

    async def disconnect(self, code: int) -> None:
        user = self.scope.get("user")
        if user is not None and user.is_authenticated:
            await self.channel_layer.group_discard(user_group(user_id=user.pk), self.channel_name)
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        """Clients only listen."""

    async def workorder_change(self, message: dict[str, Any]) -> None:
        await self.send_json(
            {
                "type": "work_order",
                "event": message["event"],
                "id": message["id"],
                "status": message["status"],
                "due_at": message["due_at"],
                "team_id": message["team_id"],
                "service_request_id": message["service_request_id"],
            }
        )
