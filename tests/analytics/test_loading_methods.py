"""Loading rows made in Python (COPY into a staging table, then one INSERT ... SELECT): each
history becomes its events, public ids already present or repeated are skipped, and a bulk
load rebuilds the indexes it drops."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from analytics.loading import BULK_TABLES, LoadRow, requests_load
from backend.service_requests.models import ServiceRequest, ServiceRequestEvent
from tests.analytics.conftest import local, row

pytestmark = pytest.mark.django_db

# Every column a load writes, compared between the two ways of loading: all of the request's
# but its key and its public id (the runs are told apart by a prefix).
REQUEST_FIELDS = tuple(
    field.attname
    for field in ServiceRequest._meta.concrete_fields
    if field.name not in ("id", "public_id")
)
EVENT_FIELDS = (
    "kind",
    "created_at",
    "channel",
    "from_status",
    "to_status",
    "close_reason",
    "public_note",
    "internal_note",
)


def _histories() -> list[LoadRow]:
    return [
        row(requested=local(9, 8)),
        row(
            "graffiti", requested=local(9, 9), status="acknowledged", first_response_at=local(9, 10)
        ),
        row(requested=local(8, 1), status="in_progress", first_response_at=local(8, 2)),
        row(
            requested=local(7, 3),
            status="closed",
            closed_at=local(5, 3),
            close_note="Filled.",
            expected_at=local(6, 0),
            attributes={"import": {"source": "test"}},
            media_url="https://example.org/p.jpg",
        ),
        row(
            requested=local(7, 4),
            status="closed",
            first_response_at=local(7, 5),
            closed_at=local(7, 6),
            close_reason="duplicate",
        ),
        LoadRow(
            public_id="T-no-point",
            service_type_id=row(requested=local(1)).service_type_id,
            requested_at=local(3, 12),
            address="1 City Hall Sq",
            description="no coordinates",
        ),
    ]


def _written(prefix: str) -> list[tuple[Any, ...]]:
    written = []
    for request in ServiceRequest.objects.filter(public_id__startswith=prefix).order_by(
        "public_id"
    ):
        events = ServiceRequestEvent.objects.filter(service_request=request).order_by(
            "created_at", "id"
        )
        written.append(
            (
                request.public_id.removeprefix(prefix),
                tuple(getattr(request, name) for name in REQUEST_FIELDS),
                [tuple(getattr(e, name) for name in EVENT_FIELDS) for e in events],
            )
        )
    return written


def test_loads_write_each_history_as_its_events(catalog: None) -> None:
    histories = _histories()
    report = requests_load(histories)
    assert (report.inserted, report.skipped) == (len(histories), 0)
    written = _written("")
    assert len(written) == len(histories)
    events = [[(e[0], e[3], e[4]) for e in history] for _, _, history in written]
    by_id = dict(zip([w[0] for w in written], events, strict=True))
    closed_after_response = next(r for r in histories if r.close_reason == "duplicate")
    assert by_id[closed_after_response.public_id] == [
        ("created", "", "submitted"),
        ("status_changed", "submitted", "in_progress"),
        ("status_changed", "in_progress", "closed"),
    ]
    assert sum(len(e) for e in events) == 1 + 2 + 2 + 2 + 3 + 1


def test_present_and_repeated_public_ids_are_skipped(catalog: None) -> None:
    first = row(requested=local(4, 1))
    assert requests_load([first]).inserted == 1
    again = replace(first, description="changed")
    new = row(requested=local(4, 2))
    report = requests_load([again, new, replace(new, description="repeat")])
    assert (report.inserted, report.skipped) == (1, 2)
    assert ServiceRequest.objects.get(public_id=first.public_id).description == ""
    assert ServiceRequestEvent.objects.filter(service_request__public_id=new.public_id).count() == 1


def _indexes() -> list[tuple[str, str]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s) ORDER BY 1",
            [list(BULK_TABLES)],
        )
        return cursor.fetchall()


def test_bulk_load_rebuilds_the_indexes_it_drops(catalog: None) -> None:
    before = _indexes()
    histories = _histories()
    for prefix, bulk in (("plain-", False), ("bulk-", True)):
        rows = [replace(r, public_id=f"{prefix}{r.public_id}") for r in histories]
        assert requests_load(rows, bulk=bulk).inserted == len(rows)
    assert _indexes() == before
    assert _written("bulk-") == _written("plain-")
    # The unique public id stays checked during a bulk load.
    assert requests_load(histories[:1], bulk=True).inserted == 1
    assert requests_load(histories[:1], bulk=True).skipped == 1
