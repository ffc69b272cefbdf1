"""/ws/crew/: a signed-in crew member hears the changes to their team's queue; the web signs
in with its session, the app with its DRF token."""

from __future__ import annotations

from typing import Any

import pytest
from channels.db import database_sync_to_async
from channels.layers import BaseChannelLayer
from django.conf import settings
from django.test import Client
from rest_framework.authtoken.models import Token

from tests.realtime.conftest import communicator
from tests.workorders.factories import Staff, order_of, request_make, user_make
from workorders.consumers import CLOSE_FORBIDDEN, CLOSE_UNAUTHENTICATED
from workorders.services import work_order_assign, work_order_start

pytestmark = [pytest.mark.anyio, pytest.mark.django_db(transaction=True)]

FIELDS = {"type", "event", "id", "status", "due_at", "team_id", "service_request_id"}


def closed_with(code: int) -> dict[str, Any]:
    """The message of a websocket the server closed with ``code``."""
    return {"type": "websocket.close", "code": code}


@database_sync_to_async
def _token(user: Any) -> bytes:
    return Token.objects.get_or_create(user=user)[0].key.encode()


@database_sync_to_async
def _session_cookie(user: Any) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    return (b"cookie", f"{settings.SESSION_COOKIE_NAME}={session}".encode())


@database_sync_to_async
def _order() -> Any:
    return order_of(request_make(contact_name="Rosa Diaz", contact_email="rosa@example.org"))


async def _subscribed(
    path: str, headers: list[tuple[bytes, bytes]] | None = None, *, origin: bool = True
) -> Any:
    client = communicator(path, headers, origin=origin)
    connected, _ = await client.connect()
    assert connected
    hello = await client.receive_json_from()
    assert hello["type"] == "subscribed"
    return client


async def test_the_app_signs_in_with_its_token_and_hears_its_team_queue(
    staff: Staff, layer: BaseChannelLayer
) -> None:
    crew = await _subscribed(  # like OkHttp and URLSession: no Origin
        "/ws/crew/", [(b"authorization", b"Token " + await _token(staff.crew))], origin=False
    )
    other = await _subscribed("/ws/crew/?token=" + (await _token(staff.other_crew)).decode())
    order = await _order()

    await database_sync_to_async(work_order_assign)(
        work_order=order, team=staff.team, actor=staff.supervisor
    )
    assigned = await crew.receive_json_from(timeout=5)
    await database_sync_to_async(work_order_start)(work_order=order, actor=staff.crew)
    started = await crew.receive_json_from(timeout=5)

    assert set(assigned) == FIELDS
    assert (assigned["type"], assigned["event"], assigned["id"]) == (
        "work_order",
        "assigned",
        order.pk,
    )
    assert (assigned["status"], assigned["team_id"]) == ("assigned", staff.team.pk)
    assert assigned["service_request_id"] == (
        await database_sync_to_async(lambda: order.service_request.public_id)()
    )
    assert assigned["due_at"] == order.due_at.isoformat()
    assert (started["event"], started["status"]) == ("started", "in_progress")
    assert "Rosa" not in repr([assigned, started])
    assert await other.receive_nothing(timeout=0.5)  # another team's queue
    await crew.disconnect()
    await other.disconnect()


async def test_the_web_signs_in_with_its_session_and_a_reassignment_tells_both_teams(
    staff: Staff, layer: BaseChannelLayer
) -> None:
    order = await _order()
    await database_sync_to_async(work_order_assign)(
        work_order=order, team=staff.team, actor=staff.supervisor
    )
    crew = await _subscribed("/ws/crew/", [await _session_cookie(staff.crew)])
    other = await _subscribed("/ws/crew/", [await _session_cookie(staff.other_crew)])

    await database_sync_to_async(work_order_assign)(
        work_order=order, team=staff.other_team, actor=staff.supervisor
    )
    left = await crew.receive_json_from(timeout=5)
    arrived = await other.receive_json_from(timeout=5)

    assert left == arrived
    assert (left["id"], left["team_id"]) == (order.pk, staff.other_team.pk)  # no longer ours
    await crew.disconnect()
    await other.disconnect()


async def test_a_supervisor_hears_the_whole_department_unassigned_orders_included(
    staff: Staff, layer: BaseChannelLayer
) -> None:
    supervisor = await _subscribed("/ws/crew/", [await _session_cookie(staff.supervisor)])
    sanitation = await _subscribed("/ws/crew/", [await _session_cookie(staff.outsider)])

    order = await _order()  # routed to Public Works, assigned to nobody yet
    created = await supervisor.receive_json_from(timeout=5)

    assert (created["event"], created["id"], created["team_id"]) == ("created", order.pk, None)
    assert await sanitation.receive_nothing(timeout=0.5)
    await supervisor.disconnect()
    await sanitation.disconnect()


@pytest.mark.parametrize(
    "headers",
    [
        [],
        [(b"authorization", b"Token not-a-token")],
        [(b"authorization", b"Token ")],
        [(b"authorization", b"Bearer something")],
    ],
    ids=["anonymous", "wrong-token", "empty-token", "other-scheme"],
)
async def test_without_a_user_the_socket_is_closed_with_4401(
    headers: list[tuple[bytes, bytes]], layer: BaseChannelLayer, db: None
) -> None:
    client = communicator("/ws/crew/", headers)
    connected, _ = await client.connect()
    assert connected

    assert await client.receive_output(timeout=2) == closed_with(CLOSE_UNAUTHENTICATED)


async def test_a_user_in_no_team_is_closed_with_4403(layer: BaseChannelLayer, db: None) -> None:
    resident = await database_sync_to_async(user_make)("resident")
    client = communicator("/ws/crew/", [(b"authorization", b"Token " + await _token(resident))])
    await client.connect()

    assert await client.receive_output(timeout=2) == closed_with(CLOSE_FORBIDDEN)


async def test_a_browser_page_of_another_site_is_refused(
    staff: Staff, layer: BaseChannelLayer
) -> None:
    client = communicator(
        "/ws/crew/",
        [(b"origin", b"https://evil.example"), await _session_cookie(staff.crew)],
        origin=False,
    )

    connected, _ = await client.connect()

    assert not connected


async def test_a_wrong_token_is_nobody_even_with_a_session(
    staff: Staff, layer: BaseChannelLayer
) -> None:
    client = communicator(
        "/ws/crew/", [await _session_cookie(staff.crew), (b"authorization", b"Token nope")]
    )
    await client.connect()

    assert await client.receive_output(timeout=2) == closed_with(CLOSE_UNAUTHENTICATED)


async def test_a_session_behind_basic_auth_still_counts(
    staff: Staff, layer: BaseChannelLayer
) -> None:
    client = await _subscribed(
        "/ws/crew/", [await _session_cookie(staff.crew), (b"authorization", b"Basic c3RhZ2U6eA==")]
    )
    await client.disconnect()


@database_sync_to_async
def _admin_adds_to_team(staff: Staff, user: Any) -> None:
    """The admin's team page: ``user`` added to Crew B as a crew member (a real POST)."""
    from django.contrib.auth import get_user_model

    from workorders.models import TeamMember

    admin = get_user_model().objects.create_superuser("root", "root@example.org", "pw")
    client = Client()
    client.force_login(admin)
    team = staff.other_team
    members = list(TeamMember.objects.filter(team=team))
    data: dict[str, Any] = {
        "name": team.name,
        "department": team.department_id,
        "active": "on",
        "members-TOTAL_FORMS": str(len(members) + 1),
        "members-INITIAL_FORMS": str(len(members)),
        "members-MIN_NUM_FORMS": "0",
        "members-MAX_NUM_FORMS": "1000",
    }
    for i, member in enumerate([*members, None]):
        data[f"members-{i}-id"] = member.pk if member else ""
        data[f"members-{i}-team"] = team.pk
        data[f"members-{i}-user"] = member.user_id if member else user.pk
        data[f"members-{i}-role"] = member.role if member else "crew"
    response = client.post(f"/admin/workorders/team/{team.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    assert TeamMember.objects.filter(team=team, user=user).exists()


async def test_a_new_team_is_heard_without_reconnecting(
    staff: Staff, layer: BaseChannelLayer
) -> None:
    crew = await _subscribed("/ws/crew/", [await _session_cookie(staff.crew)])
    order = await _order()
    await database_sync_to_async(work_order_assign)(
        work_order=order, team=staff.other_team, actor=staff.supervisor
    )
    assert await crew.receive_nothing(timeout=0.5)  # Crew B's order: not ours yet

    await _admin_adds_to_team(staff, staff.crew)
    again = await crew.receive_json_from(timeout=5)
    assert again == {"type": "subscribed", "groups": 2}

    await database_sync_to_async(work_order_start)(work_order=order, actor=staff.other_crew)
    started = await crew.receive_json_from(timeout=5)
    assert (started["event"], started["id"], started["team_id"]) == (
        "started",
        order.pk,
        staff.other_team.pk,
    )
    await crew.disconnect()
