"""The console's dispatch view (/staff/workorders/): the team workload (one query), the
filters shared by the table, the map's data (/staff/workorders/map.json) and the workload,
the department scoping, and the map popup's assign path (the JSON API with the session and
its CSRF token)."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from backend.catalog.models import ServiceType
from tests.workorders.factories import (
    Staff,
    member_add,
    order_in,
    order_of,
    request_make,
    team_make,
    user_make,
)
from workorders.models import Team, TeamRole, WorkOrder, WorkOrderStatus
from workorders.selectors import DispatchFilters, team_workload
from workorders.services import work_order_assign, work_order_cancel

pytestmark = pytest.mark.django_db

QUEUE = "/staff/workorders/"
MAP = "/staff/workorders/map.json"
S = WorkOrderStatus
LATE: dict[str, Any] = {"requested_at": timezone.now() - timedelta(hours=80)}  # pothole: 72 h


@pytest.fixture
def console(staff: Staff) -> Client:
    client = Client()
    client.force_login(staff.supervisor)
    return client


class Orders:
    """Public Works' open orders: Crew A has one assigned, one in progress, one on hold,
    one assigned and overdue, and a damaged-sidewalk order; Crew B one; two have no team
    (one overdue), one has no map point. Closed ones and Sanitation's are never counted."""

    def __init__(self, staff: Staff) -> None:
        self.assigned = order_in(S.ASSIGNED, staff=staff)
        self.in_progress = order_in(S.IN_PROGRESS, staff=staff)
        self.on_hold = order_in(
            S.ON_HOLD, staff=staff, service_request=request_make(lat=42.3611, **LATE)
        )  # past due, but its clock is paused: not overdue
        self.late = order_in(
            S.ASSIGNED, staff=staff, service_request=request_make(lat=42.3621, **LATE)
        )
        self.sidewalk = order_in(
            S.ASSIGNED, staff=staff, service_request=request_make("sidewalk_damage", lat=42.35)
        )
        self.crew_b = work_order_assign(
            work_order=order_of(request_make(long=-71.07)),
            team=staff.other_team,
            actor=staff.supervisor,
        )
        self.new = order_of(request_make(lat=42.3631, contact_email="resident@example.org"))
        self.new_late = order_of(request_make(lat=42.3641, **LATE))
        self.no_point = order_of(request_make(lat=None, long=None, address="1 City Hall Sq"))
        self.completed = order_in(S.COMPLETED, staff=staff)
        self.cancelled = order_in(S.CANCELLED, staff=staff)
        self.sanitation = order_of(request_make("graffiti", lat=42.3651))

    @property
    def open_ids(self) -> set[int]:
        return {
            o.pk
            for o in (
                self.assigned,
                self.in_progress,
                self.on_hold,
                self.late,
                self.sidewalk,
                self.crew_b,
                self.new,
                self.new_late,
                self.no_point,
            )
        }


@pytest.fixture
def orders(staff: Staff) -> Orders:
    return Orders(staff)


def _loads(workload: Any) -> dict[str | None, tuple[int, int, int, int]]:
    rows = {row.name: row for row in workload.teams}
    rows[None] = workload.unassigned
    return {name: (r.open, r.in_progress, r.on_hold, r.overdue) for name, r in rows.items()}


def _map(client: Client, **params: str) -> dict[str, Any]:
    response = client.get(MAP, params)
    assert response.status_code == 200, response.content
    return dict(response.json())


def _table(response: Any) -> set[int]:
    return {order.pk for order in response.context["page"]}


def test_the_workload_counts_each_teams_open_in_progress_on_hold_and_overdue_in_one_query(
    staff: Staff, orders: Orders, django_assert_num_queries: Any
) -> None:
    idle = team_make(name="Crew C")  # no orders: shown with zeros
    Team.objects.create(department=staff.department, name="Old crew", active=False)

    with django_assert_num_queries(1):
        workload = team_workload(department_id=staff.department.pk)

    assert [row.name for row in workload.teams] == ["Crew A", "Crew B", "Crew C"]
    assert [row.team_id for row in workload.teams] == [staff.team.pk, staff.other_team.pk, idle.pk]
    assert _loads(workload) == {
        # open, in progress, on hold, overdue
        "Crew A": (5, 1, 1, 1),
        "Crew B": (1, 0, 0, 0),
        "Crew C": (0, 0, 0, 0),
        None: (3, 0, 0, 1),
    }


def test_the_workload_follows_the_filters(staff: Staff, orders: Orders) -> None:
    pothole = ServiceType.objects.get(service_code="pothole").pk
    sidewalk = ServiceType.objects.get(service_code="sidewalk_damage").pk
    department = staff.department.pk

    by_team = team_workload(
        department_id=department, filters=DispatchFilters(team_id=staff.team.pk)
    )
    unassigned = team_workload(department_id=department, filters=DispatchFilters(unassigned=True))
    on_hold = team_workload(department_id=department, filters=DispatchFilters(status=S.ON_HOLD))
    sidewalks = team_workload(
        department_id=department, filters=DispatchFilters(service_type_id=sidewalk)
    )
    potholes = team_workload(
        department_id=department, filters=DispatchFilters(service_type_id=pothole)
    )

    assert _loads(by_team) == {"Crew A": (5, 1, 1, 1), None: (0, 0, 0, 0)}
    assert _loads(unassigned) == {None: (3, 0, 0, 1)}
    assert _loads(on_hold) == {"Crew A": (1, 0, 1, 0), "Crew B": (0, 0, 0, 0), None: (0, 0, 0, 0)}
    assert _loads(sidewalks) == {"Crew A": (1, 0, 0, 0), "Crew B": (0, 0, 0, 0), None: (0, 0, 0, 0)}
    assert _loads(potholes) == {"Crew A": (4, 1, 1, 1), "Crew B": (1, 0, 0, 0), None: (3, 0, 0, 1)}


def test_the_page_shows_the_workload_the_map_data_and_the_plain_forms(
    staff: Staff, orders: Orders, console: Client
) -> None:
    plain = console.get(QUEUE)
    response = console.get(QUEUE, {"workload": "1"})
    html = response.content.decode()
    data = _map(console)

    assert response.status_code == 200
    assert _table(response) == orders.open_ids
    # The page itself does not count the workload (the map's data brings it); without the
    # script, a link asks for it, server-rendered.
    assert plain.context["workload_html"] == ""
    assert "workload=1#workload" in plain.content.decode()
    assert response.context["workload_html"] == data["workload_html"]
    assert _row(html, staff.team.pk) == {"open": 5, "in_progress": 1, "on_hold": 1, "overdue": 1}
    assert _row(html, "none") == {"open": 3, "in_progress": 0, "on_hold": 0, "overdue": 1}
    # The map: one marker per open order with a map point, soonest due first.
    assert {o["id"] for o in data["orders"]} == orders.open_ids - {orders.no_point.pk}
    assert data["capped"] is False
    by_id = {o["id"]: o for o in data["orders"]}
    late = by_id[orders.late.pk]
    assert late["overdue"] is True and late["status"] == "assigned"
    assert late["team"] == "Crew A" and late["team_id"] == staff.team.pk
    assert late["label"] == f"WO-{orders.late.pk}, Pothole, Assigned, overdue"
    assert late["url"] == f"{QUEUE}{orders.late.pk}"
    assert late["assign_url"] == f"/api/v1/workorders/{orders.late.pk}/assign"
    assert (late["lat"], late["long"]) == pytest.approx((42.3621, -71.0589))
    assert by_id[orders.on_hold.pk]["overdue"] is False  # its clock is paused
    assert by_id[orders.new.pk]["assignable"] is True
    assert by_id[orders.in_progress.pk]["assignable"] is False
    assert data["workload_html"].count('data-count="open"') == 3  # Crew A, Crew B, no team
    # The map needs the script; the plain forms stay for everything without it.
    section = html.split('<section id="dispatch-map-section"')[1].split(">")[0]
    assert section.endswith(" hidden")
    assert f'action="{QUEUE}{orders.new.pk}/assign"' in html
    assert '<form method="get" class="filters"' in html
    strings = json.loads(_json_script(html, "dispatch-strings"))
    assert strings["assign_to_team"] == "Assign to team"
    teams = json.loads(_json_script(html, "dispatch-teams"))
    assert teams == [
        {"id": staff.team.pk, "name": "Crew A"},
        {"id": staff.other_team.pk, "name": "Crew B"},
    ]


def test_map_data_holds_nothing_of_the_resident_but_what_the_table_shows(
    staff: Staff, console: Client
) -> None:
    request_make(
        contact_email="resident@example.org",
        contact_name="Rita Resident",
        contact_phone="+16175550100",
        description="My neighbour at number 12 parks on it",
        address="12 Elm St",
    )

    response = console.get(MAP)
    body = response.content.decode()

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    for secret in ("resident@example.org", "Rita", "6175550100", "neighbour"):
        assert secret not in body
    (order,) = response.json()["orders"]
    assert order["address"] == "12 Elm St"
    assert set(order) == {
        "id", "lat", "long", "service", "address", "status", "status_label", "overdue", "due",
        "due_iso", "team_id", "team", "label", "url", "assign_url", "assignable",
    }  # fmt: skip


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"team": "crew_a"}, {"assigned", "in_progress", "on_hold", "late", "sidewalk"}),
        ({"team": "crew_b"}, {"crew_b"}),
        ({"team": "none"}, {"new", "new_late", "no_point"}),
        ({"service": "sidewalk_damage"}, {"sidewalk"}),
        ({"status": "on_hold"}, {"on_hold"}),
        ({"status": "assigned", "team": "crew_a"}, {"assigned", "late", "sidewalk"}),
        ({"status": "new", "service": "pothole"}, {"new", "new_late", "no_point"}),
    ],
)
def test_filters_narrow_the_table_the_map_and_the_workload_alike(
    staff: Staff, orders: Orders, console: Client, params: dict[str, str], expected: set[str]
) -> None:
    teams = {"crew_a": str(staff.team.pk), "crew_b": str(staff.other_team.pk), "none": "none"}
    query = {k: teams.get(v, v) if k == "team" else v for k, v in params.items()}
    wanted = {getattr(orders, name).pk for name in expected}

    page = console.get(QUEUE, {**query, "workload": "1"})
    data = _map(console, **query)

    assert page.status_code == 200
    assert _table(page) == wanted
    assert {o["id"] for o in data["orders"]} == wanted - {orders.no_point.pk}
    workload = page.context["workload_html"]
    assert workload == data["workload_html"]  # the same panel in the page and the map data
    shown_open = sum(_row(workload, key)["open"] for key in _rows(workload))
    assert shown_open == len(wanted)
    # The filters stay on the page: in the form, the map's data URL and the page links.
    html = page.content.decode()
    map_url = html.split('data-url="')[1].split('"')[0].replace("&amp;", "&")
    for name, value in query.items():
        assert f"{name}={value}" in map_url
    assert "Clear the filters" in html


def test_a_filter_that_is_not_valid_is_refused_naming_it(
    staff: Staff, orders: Orders, console: Client
) -> None:
    foreign_team = team_make(department="sanitation", name="Night crew")

    page = console.get(QUEUE, {"team": str(foreign_team.pk), "status": "completed"})
    data = console.get(MAP, {"team": "x", "service": "graffiti-nope"})

    assert page.status_code == 400
    html = page.content.decode()
    assert 'id="id_team-error"' in html and 'id="id_status-error"' in html
    assert _table(page) == orders.open_ids  # the page still lists everything
    assert data.status_code == 400
    assert set(data.json()["errors"]) == {"team", "service"}


def test_another_departments_orders_never_appear(
    staff: Staff, orders: Orders, console: Client
) -> None:
    page = console.get(QUEUE)
    data = _map(console)
    html = page.content.decode()
    sanitation_team = team_make(department="sanitation", name="Sanitation night crew")

    assert orders.sanitation.pk not in _table(page)
    assert orders.sanitation.pk not in {o["id"] for o in data["orders"]}
    assert "Sanitation" not in html and "Sanitation" not in data["workload_html"]
    assert console.get(QUEUE, {"department": "sanitation"}).status_code == 404
    assert console.get(MAP, {"department": "sanitation"}).status_code == 404
    # Another department's team is no filter here
    assert console.get(MAP, {"team": str(sanitation_team.pk)}).status_code == 400


def test_a_supervisor_of_two_departments_sees_each_apart(
    staff: Staff, orders: Orders, console: Client
) -> None:
    member_add(team_make(department="sanitation", name="S1"), staff.supervisor, TeamRole.SUPERVISOR)

    works = _map(console, department="public-works")
    sanitation = _map(console, department="sanitation")

    assert orders.sanitation.pk not in {o["id"] for o in works["orders"]}
    assert [o["id"] for o in sanitation["orders"]] == [orders.sanitation.pk]
    assert "Crew A" not in sanitation["workload_html"]


def test_non_staff_are_refused(staff: Staff, orders: Orders) -> None:
    anonymous, crew, resident = Client(), Client(), Client()
    crew.force_login(staff.crew)
    resident.force_login(user_make("rita"))

    assert anonymous.get(QUEUE).status_code == 302
    answer = anonymous.get(MAP)
    assert answer.status_code == 401 and answer.json()["errors"] == {"session": ["Sign in first."]}
    for client in (crew, resident):
        assert client.get(QUEUE).status_code == 403
        refused = client.get(MAP)
        assert refused.status_code == 403
        assert "orders" not in refused.json() and set(refused.json()["errors"]) == {"role"}
    assert anonymous.post(MAP).status_code in (401, 405)


def test_the_popups_assign_goes_through_the_api_with_the_session_and_its_csrf_token(
    staff: Staff, orders: Orders
) -> None:
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff.supervisor)
    page = browser.get(QUEUE)
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else None
    token = token or _csrf_input(page.content.decode())
    url = f"/api/v1/workorders/{orders.new.pk}/assign"

    forged = browser.post(url, {"team": staff.other_team.pk}, content_type="application/json")
    done = browser.post(
        url, {"team": staff.other_team.pk}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    refused = browser.post(
        f"/api/v1/workorders/{orders.in_progress.pk}/assign",
        {"team": staff.other_team.pk},
        content_type="application/json",
        HTTP_X_CSRFTOKEN=token,
    )

    assert forged.status_code == 403
    assert done.status_code == 200, done.content
    assert done.json()["team"] == {"id": staff.other_team.pk, "name": "Crew B"}
    assert refused.status_code == 409
    assert "in progress" in refused.json()["detail"]  # what the popup shows
    data = _map(browser)
    assert {o["id"]: o["team"] for o in data["orders"]}[orders.new.pk] == "Crew B"
    assert _row(data["workload_html"], staff.other_team.pk)["open"] == 2
    assert _row(data["workload_html"], "none")["open"] == 2


def test_an_empty_filter_result_still_gives_the_map_somewhere_to_look(
    staff: Staff, orders: Orders, console: Client
) -> None:
    for order in (orders.new, orders.new_late, orders.no_point):
        work_order_cancel(work_order=WorkOrder.objects.get(pk=order.pk), actor=staff.supervisor)

    data = _map(console, team="none")

    assert data["orders"] == []
    west, south, east, north = data["extent"]
    assert west <= -71.07 < -71.0589 <= east and south <= 42.35 < 42.3621 <= north


def test_a_filtered_page_takes_a_bounded_number_of_queries(
    staff: Staff, orders: Orders, console: Client, django_assert_max_num_queries: Any
) -> None:
    with django_assert_max_num_queries(10):
        page = console.get(QUEUE, {"team": str(staff.team.pk), "service": "pothole"})
    with django_assert_max_num_queries(8):
        data = console.get(MAP, {"team": str(staff.team.pk), "service": "pothole"})
    assert page.status_code == 200 and data.status_code == 200


# --- Reading the HTML


def _json_script(html: str, element_id: str) -> str:
    opening = f'<script id="{element_id}" type="application/json">'
    return html.split(opening)[1].split("</script>")[0]


def _csrf_input(html: str) -> str:
    return html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]


def _rows(html: str) -> list[str]:
    return [part.split('"')[0] for part in html.split('<tr data-team="')[1:]]


def _row(html: str, team: object) -> dict[str, int]:
    part = html.split(f'<tr data-team="{team}"')[1].split("</tr>")[0]
    cells = {}
    for chunk in part.split('data-count="')[1:]:
        name, rest = chunk.split('"', 1)
        cells[name] = int(rest.split(">", 1)[1].split("<", 1)[0])
    return cells
