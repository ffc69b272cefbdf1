"""The two load paths (COPY straight into the tables, the default; COPY into a staging table
then INSERT ... SELECT) write the same requests and the same events, and both skip public ids
already present or repeated."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from analytics.loading import BULK_TABLES, LoadRow, requests_load
from backend.service_requests.models import ServiceRequest, ServiceRequestEvent
from tests.analytics.conftest import local, row

pytestmark = pytest.mark.django_db

REQUEST_FIELDS = (
    "service_type_id",
    "location",
    "address",
    "description",
    "attributes",
    "status",
    "channel",
    "language",
    "requested_at",
    "updated_at",
    "expected_at",
    "closed_at",
    "close_reason",
    "priority",
    "media_url",
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


def test_copy_and_staging_write_the_same_rows_and_events(catalog: None) -> None:
    histories = _histories()
    for method in ("copy", "staging"):
        rows = [replace(r, public_id=f"{method}-{r.public_id}") for r in histories]
        report = requests_load(rows, method=method)
        assert (report.inserted, report.skipped) == (len(rows), 0)
    copied, staged = _written("copy-"), _written("staging-")
    assert len(copied) == len(histories)
    assert copied == staged
    events = [len(events) for _, _, events in copied]
    assert sum(events) == 1 + 2 + 2 + 2 + 3 + 1


@pytest.mark.parametrize("method", ["copy", "staging"])
def test_present_and_repeated_public_ids_are_skipped(catalog: None, method: str) -> None:
    first = row(requested=local(4, 1))
    assert requests_load([first], method=method).inserted == 1
    again = replace(first, description="changed")
    new = row(requested=local(4, 2))
    report = requests_load([again, new, replace(new, description="repeat")], method=method)
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
