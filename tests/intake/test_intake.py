"""The intake pipeline: validation, duplicates, idempotency, atomicity, side effects."""

from __future__ import annotations

import re
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import connection
from django.utils import timezone

from backend.catalog.models import ServiceType
from backend.intake.services import IdempotencyConflict, IntakeError, service_request_submit
from backend.service_requests.models import (
    CloseReason,
    EventKind,
    ServiceRequest,
    ServiceRequestEvent,
    Status,
)
from backend.service_requests.services import do_service_request_close
from tests.conftest import BOSTON
from tests.factories import DEFAULT_ANSWERS, submit, submit_result
from workorders.models import WorkOrder, WorkOrderStatus

pytestmark = pytest.mark.django_db


def _errors(**kwargs: Any) -> dict[str, list[str]]:
    kwargs.setdefault("service_code", "pothole")
    kwargs.setdefault("channel", "app")
    before = ServiceRequest.objects.count()
    with pytest.raises(IntakeError) as info:
        service_request_submit(**kwargs)
    assert ServiceRequest.objects.count() == before
    return info.value.errors


@pytest.mark.parametrize("code", sorted(DEFAULT_ANSWERS))
def test_every_catalog_service_can_be_filed(catalog: None, code: str) -> None:
    sr = submit(code)
    service = ServiceType.objects.get(service_code=code)
    assert sr.status == Status.SUBMITTED
    assert sr.expected_at == sr.requested_at + timedelta(hours=service.turnaround_hours)
    work_order = WorkOrder.objects.get(service_request=sr)
    assert work_order.department_id == service.department_id
    assert work_order.status == WorkOrderStatus.NEW
    assert work_order.due_at == sr.expected_at
    event = ServiceRequestEvent.objects.get(service_request=sr)
    assert (event.kind, event.to_status, event.channel) == (EventKind.CREATED, "submitted", "app")


def test_public_id_is_human_friendly_and_unique(catalog: None) -> None:
    ids = [submit(lat=BOSTON[0] + i * 0.01).public_id for i in range(3)]
    year = timezone.localtime().year
    assert all(re.fullmatch(rf"SR-{year}-\d{{6,}}", i) for i in ids)
    assert len(set(ids)) == 3


def test_unknown_and_inactive_services_are_not_found(catalog: None) -> None:
    with pytest.raises(IntakeError) as info:
        service_request_submit(service_code="unicorns", channel="app", lat=1, long=1)
    assert info.value.status == 404 and "service_code" in info.value.errors
    ServiceType.objects.filter(service_code="graffiti").update(active=False)
    with pytest.raises(IntakeError) as info:
        submit("graffiti")
    assert info.value.status == 404


def test_missing_location_names_the_field(catalog: None) -> None:
    errors = _errors(attributes={"size": "small"})
    assert list(errors) == ["lat"]


def test_address_alone_is_a_location(catalog: None) -> None:
    sr = service_request_submit(
        service_code="pothole", channel="phone", address="12 Elm St", attributes={"size": "small"}
    ).service_request
    assert sr.location is None and sr.address == "12 Elm St"


@pytest.mark.parametrize(
    ("lat", "long", "field"),
    [(91, 0, "lat"), (0, 181, "long"), ("north", 3, "lat"), (None, 3, "lat"), (3, None, "long")],
)
def test_bad_coordinates(catalog: None, lat: Any, long: Any, field: str) -> None:
    assert field in _errors(lat=lat, long=long, attributes={"size": "small"})


def test_several_wrong_fields_are_reported_at_once(catalog: None) -> None:
    errors = _errors(
        service_code="abandoned_vehicle",
        lat=BOSTON[0],
        long=BOSTON[1],
        description="x" * 4001,
        attributes={"days_parked": "many", "wheels": 3},
        contact_email="not-an-email",
    )
    assert set(errors) == {
        "description",
        "attribute[colour]",
        "attribute[days_parked]",
        "attribute[wheels]",
        "email",
    }
    assert "required" in errors["attribute[colour]"][0]
    assert "4001" in errors["description"][0]


@pytest.mark.parametrize(
    ("code", "answers", "field"),
    [
        ("pothole", {"size": "enormous"}, "attribute[size]"),
        ("pothole", {"size": ["small", "large"]}, "attribute[size]"),
        ("illegal_dumping", {"items": ["furniture", "piano"]}, "attribute[items]"),
        ("abandoned_vehicle", {"colour": "red", "days_parked": True}, "attribute[days_parked]"),
        ("abandoned_vehicle", {"colour": {"r": 1}}, "attribute[colour]"),
        (
            "missed_collection",
            {"stream": "trash", "collection_date": "tuesday"},
            "attribute[collection_date]",
        ),
        (
            "missed_collection",
            {"stream": "trash", "collection_date": "2026-11-02T07:00:00"},
            "attribute[collection_date]",
        ),
    ],
)
def test_attribute_types_and_values(
    catalog: None, code: str, answers: dict[str, Any], field: str
) -> None:
    assert field in _errors(service_code=code, lat=1, long=1, attributes=answers)


def test_attribute_answers_are_normalised(catalog: None) -> None:
    sr = submit(
        "illegal_dumping", attributes={"items": ["tyres", "furniture", "tyres"], "volume": "van"}
    )
    assert sr.attributes == {"items": ["furniture", "tyres"], "volume": "van"}
    car = submit("abandoned_vehicle", attributes={"colour": "red", "days_parked": "12"})
    assert car.attributes == {"colour": "red", "days_parked": 12}


def test_service_area_is_enforced_when_configured(catalog: None) -> None:
    lat, long = BOSTON
    box = Polygon.from_bbox((long - 0.05, lat - 0.05, long + 0.05, lat + 0.05))
    ServiceType.objects.filter(service_code="pothole").update(
        service_area=MultiPolygon(box, srid=4326)
    )
    assert submit(lat=lat, long=long).pk
    errors = _errors(lat=40.7, long=-74.0, attributes={"size": "small"})
    assert "outside" in errors["lat"][0]


def test_nearby_open_request_of_the_same_type_is_a_likely_duplicate(catalog: None) -> None:
    first = submit()
    # About 30 m north: a duplicate. About 80 m north: not. Another service: not.
    near = submit_result(channel="web", lat=BOSTON[0] + 0.00027, attributes={"size": "small"})
    assert near.possible_duplicate == first
    assert near.duplicate_distance_m is not None and 25 < near.duplicate_distance_m < 35
    far = submit_result(channel="web", lat=BOSTON[0] + 0.00072, attributes={"size": "small"})
    assert far.possible_duplicate is None
    other = submit_result("graffiti", channel="web")
    assert other.possible_duplicate is None


def test_closed_or_old_requests_are_not_duplicates(catalog: None) -> None:
    closed = submit()
    do_service_request_close(service_request=closed, reason=CloseReason.RESOLVED)
    old = submit(lat=BOSTON[0] + 0.0001, requested_at=timezone.now() - timedelta(days=31))
    result = submit_result(attributes={"size": "small"})
    assert old.pk and result.possible_duplicate is None


@pytest.mark.parametrize("query", ["_DUPLICATE_SQL", "_NUMBER_AND_DUPLICATE_SQL"])
def test_the_duplicate_check_reads_only_open_requests_near_the_point(
    catalog: None, query: str
) -> None:
    """Its plan: the partial GiST index of open requests, never the (type, status, time)
    index, which reads every open request of the type (a growing backlog); sequential
    scans are turned off, as on a table of millions of rows the planner would not use one.
    The same holds for it joined to the next request number (a filing's one round trip)."""
    from backend.intake import services

    sql = getattr(services, query)
    submit()
    pothole = ServiceType.objects.get(service_code="pothole")
    lat, long = BOSTON
    params: tuple[Any, ...] = (
        long,
        lat,
        long,
        lat,
        0.0006,
        pothole.pk,
        timezone.now(),
        0,
        long,
        lat,
        50,
    )
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "sr_open_location" in plan, plan
    assert "sr_type_status" not in plan, plan


def test_idempotency_key_replays_the_first_request(catalog: None) -> None:
    first = submit_result(attributes={"size": "small"}, idempotency_key="phone-123")
    again = submit_result(attributes={"size": "small"}, idempotency_key="phone-123")
    assert again.replayed and again.service_request.pk == first.service_request.pk
    assert ServiceRequest.objects.count() == 1
    assert WorkOrder.objects.count() == 1
    with pytest.raises(IdempotencyConflict):
        submit_result(idempotency_key="phone-123")
    # Keys belong to a channel: the same key from another channel is another request.
    other = submit_result(channel="web", attributes={"size": "small"}, idempotency_key="phone-123")
    assert not other.replayed and ServiceRequest.objects.count() == 2


def test_request_event_and_work_order_commit_together(
    catalog: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(**kwargs: Any) -> None:
        raise RuntimeError("work order store is down")

    monkeypatch.setattr("backend.intake.services.work_order_create", broken)
    with pytest.raises(RuntimeError):
        submit()
    assert ServiceRequest.objects.count() == 0
    assert ServiceRequestEvent.objects.count() == 0
    assert WorkOrder.objects.count() == 0


def test_receipt_is_queued_after_commit_and_sent_once(
    catalog: None, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    from backend.outbox.services import outbox_dispatch
    from backend.service_requests.messaging import receipt_send
    from tests.outbox import outbox_written

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        sr = submit(contact_email="resident@example.org")
    assert mailoutbox == []  # nothing is sent inside the transaction
    # Besides the receipt: the new work order's live push to its department (workorders/live.py).
    (receipt,) = outbox_written(
        callbacks, "backend.service_requests.tasks.service_request_send_receipt"
    )
    assert receipt.args == [sr.pk] and receipt.dispatched_at is None
    assert outbox_dispatch(ids=[receipt.pk]) == 1  # Celery runs eagerly in unit tests
    assert len(mailoutbox) == 1
    assert sr.public_id in mailoutbox[0].body and mailoutbox[0].to == ["resident@example.org"]
    assert receipt_send(service_request_id=sr.pk) is False  # a retried task sends nothing
    assert len(mailoutbox) == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_with_one_key_make_one_request(catalog: None) -> None:
    barrier = threading.Barrier(4)
    results: list[str] = []
    failures: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            result = submit_result(attributes={"size": "small"}, idempotency_key="retry-storm")
            results.append(result.service_request.public_id)
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failures == []
    assert len(results) == 4 and len(set(results)) == 1
    assert ServiceRequest.objects.filter(idempotency_key="retry-storm").count() == 1
    assert WorkOrder.objects.count() == 1


def test_a_filing_makes_few_round_trips(catalog: None) -> None:
    """Issue 18: the request's number rides with the duplicate check, and the outbox rows
    its side effects need are one insert. The whole filing, once the catalog and routing
    caches are warm, is six statements: the number and duplicate check, the request, its
    event, the work order, its event, the outbox rows."""
    from django.test.utils import CaptureQueriesContext

    from backend.outbox.models import OutboxMessage

    first = submit_result(attributes={"size": "small"})
    with CaptureQueriesContext(connection) as ctx:
        result = submit_result(attributes={"size": "small"})
    statements = [q["sql"] for q in ctx.captured_queries]
    assert result.possible_duplicate is not None
    assert result.possible_duplicate.pk == first.service_request.pk
    assert result.possible_duplicate.public_id == first.service_request.public_id
    numbered = [sql for sql in statements if "nextval" in sql]
    assert len(numbered) == 1 and "ST_DWithin" in numbered[0], statements
    outbox = f'INSERT INTO "{OutboxMessage._meta.db_table}"'
    assert sum(sql.startswith(outbox) for sql in statements) == 1, statements
    # Configuration reads (catalog, routing, opening hours) are cached outside tests.
    config = (
        *('SELECT "catalog_', 'SELECT "workorders_routingrule"', "SAVEPOINT", "RELEASE"),
        *('SELECT "workorders_openinghours"', 'SELECT "workorders_publicholiday"'),
    )
    filing = [sql for sql in statements if not sql.startswith(config)]
    assert len(filing) == 6, filing
    number = int(result.service_request.public_id.rsplit("-", 1)[1])
    assert number == int(first.service_request.public_id.rsplit("-", 1)[1]) + 1
