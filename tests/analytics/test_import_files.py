"""The importer on files that are not clean: bad cells skip or blank their row and are named,
a malformed file or a missing column is refused whole with nothing stored, and the parallel
path (chunks on their own connections) writes what the one-connection path writes."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from analytics.importing import csv_import
from analytics.loading import MAPPINGS, mapping_load
from backend.service_requests.models import ServiceRequest, ServiceRequestEvent

BOSTON_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "boston311-100.csv"


def _sample() -> tuple[list[str], list[dict[str, str]]]:
    with BOSTON_CSV.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


def _write(path: Path, header: list[str], records: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=header)
        writer.writeheader()
        writer.writerows(records)
    return path


def _import(path: Path, *options: str) -> list[str]:
    from io import StringIO

    out = StringIO()
    call_command("analytics_import", "boston", str(path), "--no-progress", *options, stdout=out)
    return out.getvalue().splitlines()


@pytest.mark.django_db
def test_bad_cells_skip_or_blank_their_row_and_are_named(catalog: None, tmp_path: Path) -> None:
    header, records = _sample()
    closed = next(r for r in records if r["case_status"] == "Closed" and r["closed_dt"])
    rows = [dict(r) for r in records[:6]]
    rows[0]["open_dt"] = ""  # skipped: no open date
    rows[1]["open_dt"] = "yesterday"  # skipped: not a time
    rows[2]["open_dt"] = "2022-02-30 10:00:00"  # skipped: the shape of a time, but no day
    rows[3]["latitude"] = "north"  # kept, without a point: its address is enough
    rows[3]["location"] = "1 City Hall Sq"
    rows[4]["case_enquiry_id"] = "  "  # skipped: no id
    rows[5] = dict(closed, closed_dt="2022-13-01 10:00:00")  # kept, open: no readable close
    repeat = dict(records[6])
    rows += [dict(records[6]), dict(repeat, case_title="the same case again")]
    lines = _import(_write(tmp_path / "bad.csv", header, rows))

    assert lines[0].startswith("read 8 rows: 3 imported, 1 already present, 4 skipped")
    skipped = "\n".join(lines[1:])
    assert "row 1 (" in skipped and "no or unreadable open_dt" in skipped
    assert "row 3 (" in skipped  # February 30th
    assert "row 5 (no id): no case_enquiry_id" in skipped
    imported = {r.public_id: r for r in ServiceRequest.objects.filter(public_id__startswith="BOS-")}
    assert len(imported) == 3
    pointless = imported[f"BOS-{rows[3]['case_enquiry_id']}"]
    assert pointless.location is None and pointless.address == "1 City Hall Sq"
    reopened = imported[f"BOS-{closed['case_enquiry_id']}"]
    assert (reopened.status, reopened.closed_at) == ("submitted", None)
    assert imported[f"BOS-{repeat['case_enquiry_id']}"].description == repeat["case_title"]


@pytest.mark.django_db
def test_a_malformed_file_is_refused_whole(catalog: None, tmp_path: Path) -> None:
    header, records = _sample()
    path = _write(tmp_path / "ragged.csv", header, records[:10])
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[7] += ",one,too,many"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"not a well-formed CSV file.*line 8"):
        _import(path)
    assert not ServiceRequest.objects.exists()

    without = _write(
        tmp_path / "without.csv",
        [h for h in header if h != "open_dt"],
        [{k: v for k, v in r.items() if k != "open_dt"} for r in records[:3]],
    )
    with pytest.raises(CommandError, match=r"without column.*open_dt"):
        _import(without)
    with pytest.raises(CommandError, match="time zone"):
        _import(BOSTON_CSV, "--time-zone", "Mars/Olympus")
    assert not ServiceRequest.objects.exists()


def _written() -> list[tuple[Any, ...]]:
    requests = ServiceRequest.objects.order_by("public_id").values_list(
        "public_id", "status", "requested_at", "closed_at", "expected_at", "address", "location"
    )
    events = ServiceRequestEvent.objects.order_by(
        "service_request__public_id", "created_at", "id"
    ).values_list("service_request__public_id", "kind", "to_status", "created_at")
    return [*[tuple(r) for r in requests], *[tuple(e) for e in events]]


@pytest.mark.django_db(transaction=True)
def test_parallel_chunks_write_what_one_connection_writes(catalog: None) -> None:
    from django.conf import settings
    from django.db import transaction

    mapping = mapping_load(MAPPINGS / "boston.csv")
    with transaction.atomic():  # one connection, chunk after chunk
        serial = csv_import(
            BOSTON_CSV, "boston", mapping=mapping, zone=settings.TIME_ZONE, chunk_rows=7
        )
        one_connection = _written()
        transaction.set_rollback(True)
    assert not ServiceRequest.objects.exists()
    parallel = csv_import(
        BOSTON_CSV, "boston", mapping=mapping, zone=settings.TIME_ZONE, chunk_rows=7, writers=2
    )
    assert (parallel.read, parallel.inserted) == (serial.read, serial.inserted) == (100, 100)
    assert (parallel.first_day, parallel.last_day) == (serial.first_day, serial.last_day)
    assert _written() == one_connection
