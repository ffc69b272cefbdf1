"""Access cases of the staff and crew API (/api/v1/), the supervisor console
(/staff/workorders/) and the feedback page and API (/feedback/<token>).

Staff reads and actions are department-scoped: a crew member of another department
(Sanitation) finds nothing (404); the console is for supervisors (crew: 403). The feedback
link is a signed capability sent to the reporter: whoever holds it may answer; a forged one
is refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from analytics.loading import LoadRow, requests_load
from backend.service_requests.models import ServiceRequest
from tests.security.access import Case, Endpoint, expect
from tests.security.access.fixtures import (
    feedback_token,
    flagged_order_pk,
    order,
    order_pk,
    second_public_id,
)
from tests.security.conftest import World
from tests.workorders.factories import good_proof
from workorders.models import WorkOrder, WorkOrderStatus

API = "api/v1/"
FORGED = "eyJlIjoxfQ:1tFake:forgedsignature"


def photos(world: World) -> dict[str, Any]:
    return {"photos": [SimpleUploadedFile("proof.jpg", good_proof(), "image/jpeg")]}


def staff(
    route: str,
    method: str = "POST",
    *,
    path: Any,
    data: Any = None,
    owner: str = "supervisor",
    ok: int = 200,
    fmt: str = "json",
) -> Endpoint:
    return Endpoint(
        Case("anonymous", method, path, expect(401), data=data, format=fmt),
        Case("other_crew", method, path, expect(404), data=data, format=fmt),
        Case(owner, method, path, expect(ok), data=data, format=fmt),
    )


def order_path(status: str, action: str = "") -> Any:
    suffix = f"/{action}" if action else ""
    return lambda w: f"/{API}workorders/{order_pk(status)(w)}{suffix}"


def none_of_theirs(world: World, response: Any) -> None:
    ids = {item["id"] for item in response.json()["results"]}
    assert order(world).pk not in ids


def console_hidden(world: World, response: Any) -> None:
    assert world.service_request.public_id not in response.content.decode()


def on_the_map(world: World, response: Any) -> None:
    assert order(world).pk in {item["id"] for item in response.json()["orders"]}


def cancelled(world: World, response: Any) -> None:
    assert order(world).status == WorkOrderStatus.CANCELLED


def not_cancelled(world: World, response: Any) -> None:
    assert order(world).status != WorkOrderStatus.CANCELLED


def console_post(who: str, status: int, action: str, data: dict[str, str], check: Any) -> Case:
    """``who`` posts a console form of the order's page; ``check`` looks at it after."""
    return Case(
        who,
        "POST",
        lambda w: f"/staff/workorders/{order(w).pk}/{action}",
        expect(status),
        data=data,
        browser=True,
        check=check,
    )


def console_cancel(who: str, status: int, *, check: Any) -> Case:
    """``who`` cancels the order from the console."""
    return console_post(who, status, "cancel", {"close_reason": "cancelled"}, check)


def hidden(world: World, response: Any) -> None:
    world.service_request.refresh_from_db()
    assert world.service_request.hidden_at is not None


def not_hidden(world: World, response: Any) -> None:
    world.service_request.refresh_from_db()
    assert world.service_request.hidden_at is None


def console_hide(who: str, status: int, *, check: Any) -> Case:
    """``who`` hides the order's request from the public (moderation)."""
    return console_post(who, status, "moderation/hide", {"reason": "Abusive"}, check)


IMPORTED_ID = "BOS-ACCESS-1"


def imported_adopt_path(world: World) -> str:
    """An imported request still open, of the world's request's service (made on first use),
    and the console's path that adopts it."""
    if not ServiceRequest.objects.filter(public_id=IMPORTED_ID).exists():
        requested = world.service_request.requested_at - timedelta(days=1799)
        requests_load(
            [
                LoadRow(
                    public_id=IMPORTED_ID,
                    service_type_id=world.service_request.service_type_id,
                    requested_at=requested,
                    address="1 City Hall Sq",
                    expected_at=requested + timedelta(days=3),
                    attributes={"import": {"source": "boston"}},
                )
            ]
        )
    return f"/staff/workorders/imported/{IMPORTED_ID}/adopt"


def adopted(world: World, response: Any) -> None:
    assert WorkOrder.objects.filter(service_request__public_id=IMPORTED_ID).exists()


def not_adopted(world: World, response: Any) -> None:
    assert not WorkOrder.objects.filter(service_request__public_id=IMPORTED_ID).exists()


def console_adopt(who: str, status: int, *, check: Any) -> Case:
    return Case(
        who, "POST", imported_adopt_path, expect(status), data={}, browser=True, check=check
    )


def console(path: Any, method: str = "GET", data: Any = None, ok: int = 200, **kw: Any) -> Endpoint:
    return Endpoint(
        Case("anonymous", method, path, expect(302), data=data, browser=True),
        Case("other_crew", method, path, expect(403), data=data, browser=True, **kw),
        Case("supervisor", method, path, expect(ok), data=data, browser=True),
    )


ENTRIES: dict[str, Endpoint] = {
    API + "workorders": Endpoint(
        Case("anonymous", "GET", f"/{API}workorders", expect(401)),
        Case("other_crew", "GET", f"/{API}workorders", expect(200), check=none_of_theirs),
        Case("crew", "GET", f"/{API}workorders", expect(200)),
    ),
    API + "workorders/<int:pk>": staff(
        "detail", "GET", path=order_path(WorkOrderStatus.NEW), owner="crew"
    ),
    API + "workorders/<int:pk>/assign": staff(
        "assign", path=order_path(WorkOrderStatus.NEW, "assign"), data={"team": None}
    ),
    API + "workorders/<int:pk>/start": staff(
        "start", path=order_path(WorkOrderStatus.ASSIGNED, "start"), owner="crew"
    ),
    API + "workorders/<int:pk>/hold": staff(
        "hold",
        path=order_path(WorkOrderStatus.IN_PROGRESS, "hold"),
        data={"reason": "parts"},
        owner="crew",
    ),
    API + "workorders/<int:pk>/resume": staff(
        "resume", path=order_path(WorkOrderStatus.ON_HOLD, "resume"), owner="crew"
    ),
    API + "workorders/<int:pk>/proof-photos": staff(
        "proof-photos",
        path=order_path(WorkOrderStatus.IN_PROGRESS, "proof-photos"),
        data=photos,
        owner="crew",
        ok=201,
        fmt="multipart",
    ),
    API + "workorders/<int:pk>/complete": staff(
        "complete",
        path=order_path(WorkOrderStatus.IN_PROGRESS, "complete"),
        data=photos,
        owner="crew",
        fmt="multipart",
    ),
    API + "workorders/<int:pk>/cancel": staff(
        "cancel", path=order_path(WorkOrderStatus.NEW, "cancel")
    ),
    API + "workorders/<int:pk>/review": staff(
        "review",
        path=lambda w: f"/{API}workorders/{flagged_order_pk(w)}/review",
        data={"decision": "accepted"},
    ),
    API + "requests/<str:public_id>/change-type": staff(
        "change-type",
        path=lambda w: f"/{API}requests/{w.service_request.public_id}/change-type",
        data={"service_code": "sidewalk_damage"},
    ),
    API + "requests/<str:public_id>/merge": staff(
        "merge",
        path=lambda w: f"/{API}requests/{second_public_id(w)}/merge",
        data=lambda w: {"into": w.service_request.public_id},
    ),
    API + "feedback/<str:token>": Endpoint(
        Case("anonymous", "GET", f"/{API}feedback/{FORGED}", expect(404)),
        Case("other_resident", "GET", f"/{API}feedback/{FORGED}x", expect(404)),
        Case("resident", "GET", lambda w: f"/{API}feedback/{feedback_token(w)}", expect(200)),
    ),
    # --- The console
    "staff/workorders/": console("/staff/workorders/", check=console_hidden),
    "staff/workorders/review": console("/staff/workorders/review"),
    "staff/workorders/map.json": Endpoint(
        Case("anonymous", "GET", "/staff/workorders/map.json", expect(401), browser=True),
        Case("other_crew", "GET", "/staff/workorders/map.json", expect(403), browser=True),
        Case(
            "supervisor",
            "GET",
            "/staff/workorders/map.json",
            expect(200),
            browser=True,
            check=on_the_map,
        ),
    ),
    "staff/workorders/<int:pk>": console(lambda w: f"/staff/workorders/{order(w).pk}"),
    "staff/workorders/imported": console("/staff/workorders/imported"),
    "staff/workorders/imported/<str:public_id>/adopt": Endpoint(
        console_adopt("anonymous", 302, check=not_adopted),
        console_adopt("other_crew", 403, check=not_adopted),
        console_adopt("supervisor", 302, check=adopted),
    ),
    "staff/workorders/<int:pk>/<slug:action>": Endpoint(
        console_cancel("anonymous", 302, check=not_cancelled),
        console_cancel("other_crew", 403, check=not_cancelled),
        console_cancel("supervisor", 302, check=cancelled),
    ),
    # Another department's staff find nothing (404); the department's crew may not (403).
    "staff/workorders/<int:pk>/moderation/<slug:action>": Endpoint(
        console_hide("anonymous", 302, check=not_hidden),
        console_hide("other_crew", 404, check=not_hidden),
        console_hide("supervisor", 302, check=hidden),
    ),
    "feedback/<str:token>": Endpoint(
        Case("anonymous", "GET", f"/feedback/{FORGED}", expect(404), browser=True),
        Case("other_resident", "GET", f"/feedback/{FORGED}x", expect(404), browser=True),
        Case(
            "resident", "GET", lambda w: f"/feedback/{feedback_token(w)}", expect(200), browser=True
        ),
    ),
}
