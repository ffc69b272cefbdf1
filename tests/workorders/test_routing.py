"""Routing rules pick the department and team, in order, by service and area, with the
service's own department as the fallback; areas come from GeoJSON."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from backend.catalog.models import Department, ServiceType
from backend.service_requests.models import Status
from tests.conftest import BOSTON
from tests.workorders.factories import (
    SAMPLE_WARDS,
    Staff,
    order_of,
    request_make,
    sample_wards_load,
    team_make,
)
from workorders.models import Area, RoutingRule, WorkOrderStatus
from workorders.routing import route_find
from workorders.services import work_order_assign

pytestmark = pytest.mark.django_db

SOUTH_BOSTON = (42.3359, -71.0502)  # in "Sample Ward 3 - South Boston"
BACK_BAY = (42.3486, -71.0878)  # in ward 2


def _ward(number: int) -> Area:
    return Area.objects.get(name__startswith=f"Sample Ward {number} ")


def _rule(**fields: Any) -> RoutingRule:
    fields.setdefault("name", "rule")
    return RoutingRule.objects.create(**fields)


def test_without_rules_the_services_department_gets_it_unassigned(catalog: None) -> None:
    order = order_of(request_make("graffiti"))
    assert order.department.code == "sanitation"
    assert (order.team, order.status, order.routing_rule) == (None, WorkOrderStatus.NEW, None)


def test_a_rule_with_a_team_assigns_at_once_and_the_request_is_acknowledged(
    staff: Staff,
) -> None:
    rule = _rule(
        service_type=ServiceType.objects.get(service_code="graffiti"),
        department=staff.department,
        team=staff.other_team,
    )

    sr = request_make("graffiti")
    order = order_of(sr)

    assert (order.department, order.team, order.routing_rule) == (
        staff.department,
        staff.other_team,
        rule,
    )
    assert order.status == WorkOrderStatus.ASSIGNED
    sr.refresh_from_db()
    assert sr.status == Status.ACKNOWLEDGED
    assert order.events.filter(kind="created").get().data["routing_rule"] == rule.pk


def test_areas_decide_where_the_point_falls(staff: Staff) -> None:
    sample_wards_load()
    south = team_make(name="South Boston crew")
    pothole = ServiceType.objects.get(service_code="pothole")
    _rule(order=10, service_type=pothole, area=_ward(3), department=staff.department, team=south)

    inside = order_of(request_make("pothole", lat=SOUTH_BOSTON[0], long=SOUTH_BOSTON[1]))
    outside = order_of(request_make("pothole", lat=BACK_BAY[0], long=BACK_BAY[1]))
    no_point = order_of(request_make("pothole", lat=None, long=None, address="12 L St"))

    assert inside.team == south
    assert outside.team is None and outside.department.code == "public-works"
    assert no_point.team is None  # an area rule never matches a request without a point


def test_rules_are_tried_in_order_and_inactive_ones_skipped(staff: Staff) -> None:
    sample_wards_load()
    parks = Department.objects.get(code="parks-forestry")
    _rule(order=1, department=parks, active=False)  # would catch everything
    _rule(order=5, area=_ward(1), department=parks)  # anything in ward 1 -> parks
    _rule(order=50, department=staff.department, team=staff.team)  # catch-all fallback rule

    in_ward_1 = route_find(
        service_type=ServiceType.objects.get(service_code="graffiti"),
        location=request_make(lat=BOSTON[0], long=BOSTON[1]).location,
    )
    elsewhere = order_of(request_make("graffiti", lat=BACK_BAY[0], long=BACK_BAY[1]))

    assert (in_ward_1.department, in_ward_1.team) == (parks, None)
    assert (elsewhere.department, elsewhere.team) == (staff.department, staff.team)


def test_automatic_assignment_picks_the_least_loaded_team(staff: Staff) -> None:
    for _ in range(2):
        work_order_assign(
            work_order=order_of(request_make()), team=staff.team, actor=staff.supervisor
        )
    _rule(
        service_type=ServiceType.objects.get(service_code="streetlight"),
        department=staff.department,
        assign_automatically=True,
    )

    order = order_of(request_make("streetlight"))

    assert order.team == staff.other_team and order.status == WorkOrderStatus.ASSIGNED


def test_assigning_without_a_team_uses_the_least_loaded_one(staff: Staff) -> None:
    busy = order_of(request_make())
    work_order_assign(work_order=busy, team=staff.other_team, actor=staff.supervisor)

    order = work_order_assign(work_order=order_of(request_make()), actor=staff.supervisor)

    assert order.team == staff.team


def _load(path: Path, *args: str) -> str:
    out = StringIO()
    call_command("areas_load", str(path), *args, stdout=out)
    return out.getvalue()


def test_areas_load_reads_the_sample_and_updates_on_a_second_run(catalog: None) -> None:
    output = _load(Path(SAMPLE_WARDS), "--name-property", "NAME")
    assert "4 created, 0 updated" in output
    ward = _ward(4)
    assert ward.kind == "ward" and len(ward.geometry) == 2  # a MultiPolygon of two parts
    assert ward.properties["CODE"] == "S4"

    again = _load(Path(SAMPLE_WARDS), "--name-property", "NAME")

    assert "0 created, 4 updated" in again
    assert Area.objects.count() == 4


def _feature(geometry: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": properties, "geometry": geometry}


SQUARE = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"type": "Feature"}, "FeatureCollection"),
        ({"type": "FeatureCollection", "features": []}, "no features"),
        ({"type": "FeatureCollection", "features": [_feature(SQUARE)]}, "feature 1: no 'NAME'"),
        (
            {
                "type": "FeatureCollection",
                "features": [_feature({"type": "Point", "coordinates": [0, 1]}, NAME="P")],
            },
            "Polygon or MultiPolygon, not Point",
        ),
        (
            {
                "type": "FeatureCollection",
                "features": [_feature(SQUARE, NAME="A"), _feature(SQUARE, NAME="A")],
            },
            "appears twice",
        ),
        (
            {
                "type": "FeatureCollection",
                "features": [
                    _feature(
                        {
                            "type": "Polygon",
                            "coordinates": [[[0, 0], [500000, 0], [500000, 9], [0, 9], [0, 0]]],
                        },
                        NAME="Projected",
                    )
                ],
            },
            "longitude/latitude",
        ),
    ],
)
def test_areas_load_refuses_bad_files_naming_the_problem(
    catalog: None, tmp_path: Path, data: dict[str, Any], message: str
) -> None:
    path = tmp_path / "bad.geojson"
    path.write_text(json.dumps(data))

    with pytest.raises(CommandError, match=message):
        _load(path, "--name-property", "NAME")

    assert Area.objects.count() == 0


def test_areas_load_repairs_a_self_crossing_polygon(catalog: None, tmp_path: Path) -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    path = tmp_path / "bowtie.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [_feature(bowtie, NAME="Bow")]})
    )

    output = _load(path, "--name-property", "NAME", "--kind", "district")

    assert "invalid polygon repaired" in output
    area = Area.objects.get(name="Bow", kind="district")
    assert area.geometry.valid and len(area.geometry) == 2


def test_areas_load_names_a_missing_or_broken_file(catalog: None, tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No file"):
        _load(tmp_path / "nope.geojson", "--name-property", "NAME")
    broken = tmp_path / "broken.geojson"
    broken.write_text("{not json")
    with pytest.raises(CommandError, match="not a JSON file"):
        _load(broken, "--name-property", "NAME")
