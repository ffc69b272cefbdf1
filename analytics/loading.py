"""Bulk loading of historical and synthetic requests with COPY (ADR 0014).

Historical records are not new reports: they keep their own timestamps, status, due times
and photo links, get channel ``import`` and are written straight to the tables, not through
the intake pipeline, so no resident is notified, no work order is made and no live push goes
out. Each loaded request gets the events its history implies (``created``; a first response
when the source tells one; ``closed``), so every metric reads imported and live requests the
same way.

Rows are COPYed (psycopg 3 ``cursor.copy``) into a temporary staging table, then moved in one
``INSERT ... SELECT`` per chunk that also writes the events; a public id already present is
skipped (importing a file twice adds nothing). ``method="copy"`` COPYs straight into the
request and event tables instead (ids from the sequence in bulk, events built in Python): as
fast on the server, slower overall, since the events are formatted in Python under the GIL
the parser needs (bench/README.md). ``bulk`` drops and rebuilds the secondary indexes around
a load, for an offline first load only. The caller rebuilds the rollups of the days it
loaded (``rollups_rebuild``)."""

from __future__ import annotations

import csv
import json
import re
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.db import IntegrityError, connection, transaction

from analytics.measures import day_of
from backend.catalog.models import Department, ServiceType
from backend.catalog.services import catalog_load

MAPPINGS = Path(__file__).resolve().parent / "mappings"
CHUNK_ROWS = 20_000
# Writer threads (connections) of a load: the two halves of the work, moving rows and
# checking them against their indexes, run on separate cores.
WRITERS = 2

STAGING_COLUMNS = (
    "public_id",
    "service_type_id",
    "lon",
    "lat",
    "address",
    "description",
    "status",
    "channel",
    "requested_at",
    "updated_at",
    "expected_at",
    "closed_at",
    "close_reason",
    "priority",
    "media_url",
    "attributes",
    "first_response_at",
    "close_note",
)


@dataclass
class LoadRow:
    """One request to load. ``status`` is submitted, acknowledged, in_progress or closed;
    ``first_response_at`` the time it left ``submitted`` (for closed rows without one, the
    close is the first response)."""

    public_id: str
    service_type_id: int
    requested_at: datetime
    lon: float | None = None
    lat: float | None = None
    address: str = ""
    description: str = ""
    status: str = "submitted"
    channel: str = "import"
    updated_at: datetime | None = None
    expected_at: datetime | None = None
    closed_at: datetime | None = None
    close_reason: str = ""
    priority: int = 2
    media_url: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)
    first_response_at: datetime | None = None
    close_note: str = ""

    def as_tuple(self) -> tuple[Any, ...]:
        updated = self.updated_at or self.closed_at or self.first_response_at or self.requested_at
        return (
            self.public_id,
            self.service_type_id,
            self.lon,
            self.lat,
            self.address,
            self.description,
            self.status,
            self.channel,
            self.requested_at,
            updated,
            self.expected_at,
            self.closed_at if self.status == "closed" else None,
            (self.close_reason or "resolved") if self.status == "closed" else "",
            self.priority,
            self.media_url[:1000],
            json.dumps(self.attributes) if self.attributes else "{}",
            self.first_response_at if self.status != "submitted" else None,
            self.close_note,
        )


@dataclass
class LoadReport:
    read: int = 0
    inserted: int = 0
    skipped: int = 0
    first_day: date | None = None
    last_day: date | None = None
    problems: list[str] = field(default_factory=list)

    def saw(self, day: date) -> None:
        self.first_day = day if self.first_day is None else min(self.first_day, day)
        self.last_day = day if self.last_day is None else max(self.last_day, day)


_STAGING_DDL = """
CREATE TEMP TABLE IF NOT EXISTS analytics_staging (
    public_id text, service_type_id bigint, lon double precision, lat double precision,
    address text, description text, status text, channel text, requested_at timestamptz,
    updated_at timestamptz, expected_at timestamptz, closed_at timestamptz, close_reason text,
    priority smallint, media_url text, attributes jsonb, first_response_at timestamptz,
    close_note text
) ON COMMIT DELETE ROWS"""

_MOVE = """
WITH inserted AS (
    INSERT INTO service_requests_servicerequest (
        public_id, service_type_id, location, address, description, attributes, status, channel,
        language, contact_name, contact_email, contact_phone, requested_at, updated_at,
        expected_at, closed_at, close_reason, priority, idempotency_fingerprint, media_url)
    SELECT s.public_id, s.service_type_id,
           CASE WHEN s.lat IS NOT NULL AND s.lon IS NOT NULL
                THEN ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) END,
           s.address, s.description, s.attributes, s.status, s.channel, 'en', '', '', '',
           s.requested_at, s.updated_at, s.expected_at, s.closed_at, s.close_reason, s.priority,
           '', s.media_url
    FROM analytics_staging s
    ON CONFLICT (public_id) DO NOTHING
    RETURNING id, public_id
), rows AS (
    SELECT i.id, s.* FROM inserted i JOIN analytics_staging s ON s.public_id = i.public_id
), events AS (
    INSERT INTO service_requests_servicerequestevent (
        service_request_id, kind, created_at, channel, from_status, to_status, close_reason,
        public_note, internal_note)
    SELECT id, 'created', requested_at, channel, '', 'submitted', '', 'Request received.', ''
    FROM rows
    UNION ALL
    SELECT id, 'status_changed', first_response_at, channel, 'submitted',
           CASE WHEN status = 'acknowledged' THEN 'acknowledged' ELSE 'in_progress' END,
           '', '', ''
    FROM rows WHERE first_response_at IS NOT NULL
    UNION ALL
    SELECT id, 'status_changed', closed_at, channel,
           CASE WHEN first_response_at IS NULL THEN 'submitted' ELSE 'in_progress' END,
           'closed', close_reason, close_note, ''
    FROM rows WHERE status = 'closed'
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM events)"""


_REQUEST_COLUMNS = (
    "id",
    "public_id",
    "service_type_id",
    "location",
    "address",
    "description",
    "attributes",
    "status",
    "channel",
    "language",
    "contact_name",
    "contact_email",
    "contact_phone",
    "requested_at",
    "updated_at",
    "expected_at",
    "closed_at",
    "close_reason",
    "priority",
    "idempotency_fingerprint",
    "media_url",
)
_EVENT_COLUMNS = (
    "service_request_id",
    "kind",
    "created_at",
    "channel",
    "from_status",
    "to_status",
    "close_reason",
    "public_note",
    "internal_note",
)
_COPY_REQUESTS = f"COPY service_requests_servicerequest ({', '.join(_REQUEST_COLUMNS)}) FROM STDIN"
_COPY_EVENTS = f"COPY service_requests_servicerequestevent ({', '.join(_EVENT_COLUMNS)}) FROM STDIN"
_NEW_IDS = (
    "SELECT nextval(pg_get_serial_sequence('service_requests_servicerequest', 'id'))"
    " FROM generate_series(1, %s)"
)
_PRESENT = "SELECT public_id FROM service_requests_servicerequest WHERE public_id = ANY(%s)"

# ``staging`` (the default): COPY into a temporary table, then INSERT ... SELECT; ``copy``:
# COPY straight into the request and event tables (measured no faster end to end, kept for
# comparison; a chunk that meets a concurrent insert of one of its public ids falls back to
# ``staging``).
METHODS = ("staging", "copy")


def _events_of(request_id: int, values: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
    """The events a loaded row's history implies: what ``_MOVE`` writes, row by row."""
    status, channel, first_response = values[6], values[7], values[16]
    yield (request_id, "created", values[8], channel, "", "submitted", "", "Request received.", "")
    if first_response is not None:
        to_status = "acknowledged" if status == "acknowledged" else "in_progress"
        yield (
            request_id,
            "status_changed",
            first_response,
            channel,
            "submitted",
            to_status,
            "",
            "",
            "",
        )
    if status == "closed":
        from_status = "submitted" if first_response is None else "in_progress"
        yield (
            request_id,
            "status_changed",
            values[11],
            channel,
            from_status,
            "closed",
            values[12],
            values[17],
            "",
        )


def _point(lon: float | None, lat: float | None) -> str | None:
    if lon is None or lat is None:
        return None
    return f"SRID=4326;POINT({lon!r} {lat!r})"


def _copy_direct(cursor: Any, chunk: list[tuple[Any, ...]]) -> int:
    """COPYs one chunk straight into the request and event tables: the public ids already
    present (and repeats within the chunk) are dropped first, request ids are taken from
    their sequence in one statement, the events are built here. Returns the rows inserted."""
    chunk = _first_of_each(chunk)
    cursor.execute(_PRESENT, [[values[0] for values in chunk]])
    present = {public_id for (public_id,) in cursor.fetchall()}
    fresh = [values for values in chunk if values[0] not in present]
    if not fresh:
        return 0
    cursor.execute(_NEW_IDS, [len(fresh)])
    ids = [request_id for (request_id,) in cursor.fetchall()]
    with cursor.copy(_COPY_REQUESTS) as copy:
        for request_id, v in zip(ids, fresh, strict=True):
            copy.write_row(
                (
                    request_id,
                    v[0],
                    v[1],
                    _point(v[2], v[3]),
                    v[4],
                    v[5],
                    v[15],
                    v[6],
                    v[7],
                    "en",
                    "",
                    "",
                    "",
                    v[8],
                    v[9],
                    v[10],
                    v[11],
                    v[12],
                    v[13],
                    "",
                    v[14],
                )
            )
    with cursor.copy(_COPY_EVENTS) as copy:
        for request_id, v in zip(ids, fresh, strict=True):
            for event in _events_of(request_id, v):
                copy.write_row(event)
    return len(fresh)


def _first_of_each(chunk: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The chunk without repeats of a public id (the first wins, as ON CONFLICT keeps it)."""
    seen: set[str] = set()
    unique = []
    for values in chunk:
        if values[0] not in seen:
            seen.add(values[0])
            unique.append(values)
    return unique


def _copy_staged(cursor: Any, chunk: list[tuple[Any, ...]]) -> int:
    # A public id repeated in the chunk would join both staging rows to the one request
    # inserted and write its events twice.
    chunk = _first_of_each(chunk)
    cursor.execute(_STAGING_DDL)
    # Emptied at commit; inside a caller's transaction an earlier chunk may be there.
    cursor.execute("TRUNCATE analytics_staging")
    sql = f"COPY analytics_staging ({', '.join(STAGING_COLUMNS)}) FROM STDIN"
    with cursor.copy(sql) as copy:
        for values in chunk:
            copy.write_row(values)
    cursor.execute(_MOVE)
    inserted, _events = cursor.fetchone()
    return int(inserted)


def _flush(chunk: list[tuple[Any, ...]], method: str = "staging") -> int:
    """Moves one chunk into the tables in its own transaction; returns the rows inserted."""
    own_transaction = not connection.in_atomic_block
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # Losing the last chunks of an import to a crash is harmless: it is run again and
            # skips what is present. The rest of the database keeps its durable commits.
            if own_transaction:
                cursor.execute("SET LOCAL synchronous_commit = off")
            # The planner's estimates for the staging join reach millions of rows and turn
            # on JIT compilation, 0.2-0.8 s per chunk for a plan that runs once (inside a
            # caller's transaction the setting lasts until that transaction ends).
            cursor.execute("SET LOCAL jit = off")
            if method == "staging":
                return _copy_staged(cursor, chunk)
            try:
                with transaction.atomic():
                    return _copy_direct(cursor, chunk)
            except IntegrityError:
                # A public id inserted by someone else since the check: this chunk goes
                # the staging way, whose ON CONFLICT skips what is present.
                return _copy_staged(cursor, chunk)
    finally:
        if threading.current_thread() is not threading.main_thread():
            connection.close()


def requests_load(
    rows: Iterable[LoadRow | tuple[Any, ...]],
    *,
    progress: Callable[[int], object] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    writers: int = WRITERS,
    method: str = "staging",
    bulk: bool = False,
) -> LoadReport:
    """COPYs the rows in chunks, each chunk its own transaction (with ``bulk``, see
    ``requests_load_bulk``, all in one). Chunks are written by
    ``writers`` threads (their own connections) while the next chunk is read and formatted:
    parsing a file and writing the tables overlap. Inside the caller's transaction (a test,
    a larger unit of work) every chunk is written on the caller's connection instead, since
    only it sees the caller's uncommitted rows. Rows are LoadRow objects or their
    ``as_tuple()``; ``method`` is one of ``METHODS``."""
    if method not in METHODS:
        raise ValueError(f"unknown load method {method!r}")
    if bulk:
        return requests_load_bulk(rows, progress=progress, chunk_rows=chunk_rows, method=method)
    report = LoadReport()
    chunk: list[tuple[Any, ...]] = []
    pending: deque[tuple[Future[int], int]] = deque()

    def counted(inserted: int, size: int) -> None:
        report.inserted += inserted
        report.skipped += size - inserted
        if progress is not None:
            progress(size)

    with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="analytics-load") as pool:

        def submit() -> None:
            nonlocal chunk
            if connection.in_atomic_block:
                counted(_flush(chunk, method), len(chunk))
            else:
                while len(pending) >= writers:
                    future, size = pending.popleft()
                    counted(future.result(), size)
                pending.append((pool.submit(_flush, chunk, method), len(chunk)))
            chunk = []

        for row in rows:
            values = row.as_tuple() if isinstance(row, LoadRow) else row
            report.read += 1
            report.saw(day_of(values[8]))
            if values[11] is not None:
                report.saw(day_of(values[11]))
            chunk.append(values)
            if len(chunk) >= chunk_rows:
                submit()
        if chunk:
            submit()
        while pending:
            future, size = pending.popleft()
            counted(future.result(), size)
    return report


BULK_TABLES = ("service_requests_servicerequest", "service_requests_servicerequestevent")
_SECONDARY_INDEXES = """
SELECT c.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT i.indisunique
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY c.relname"""


def requests_load_bulk(
    rows: Iterable[LoadRow | tuple[Any, ...]],
    *,
    progress: Callable[[int], object] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    method: str = "staging",
) -> LoadReport:
    """An offline initial load: in ONE transaction, drops the secondary indexes of the request
    and event tables that back no constraint (unique ones and primary keys stay, so public
    ids are still checked), loads every chunk, and rebuilds the dropped indexes before the
    commit. ``DROP INDEX`` holds an ACCESS EXCLUSIVE lock on both tables until then: every
    reader and writer of requests waits for the whole load. Only for a database nobody else
    uses (a first load of years of history); a failure rolls everything back, indexes
    included. It pays when the rows loaded are many next to those present: the rebuild
    re-reads the whole table."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        dropped: list[tuple[str, str]] = []
        for table in BULK_TABLES:
            cursor.execute(_SECONDARY_INDEXES, [table])
            dropped.extend(cursor.fetchall())
        for name, _definition in dropped:
            cursor.execute(f'DROP INDEX "{name}"')
        report = requests_load(rows, progress=progress, chunk_rows=chunk_rows, method=method)
        # CREATE INDEX refuses a table with deferred foreign-key checks pending: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for _name, definition in dropped:
            cursor.execute(definition)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    return report


# --- Mapping files


@dataclass
class Mapping:
    """Source type → catalog service type id. A code the catalog lacks is created, inactive
    (residents cannot file it), from the row's name, department and turnaround."""

    by_source: dict[str, int]
    fallback: int | None

    def resolve(self, source_type: str) -> int | None:
        return self.by_source.get(source_type.strip(), self.fallback)


def mapping_load(path: Path) -> Mapping:
    with path.open(encoding="utf-8", newline="") as handle:
        entries = list(csv.DictReader(handle))
    missing = []
    for entry in entries:
        code = entry["service_code"].strip()
        if not ServiceType.objects.filter(service_code=code).exists():
            missing.append(entry)
    if missing:
        departments = {
            d.code: d
            for d in Department.objects.filter(code__in=[m["department"] for m in missing])
        }
        services = []
        for entry in missing:
            department = entry["department"].strip()
            if department not in departments:
                raise ValueError(
                    f"{path.name}: {entry['service_code']} is not in the catalog and its "
                    f"department {department!r} does not exist"
                )
            services.append(
                {
                    "service_code": entry["service_code"].strip(),
                    "name": entry["service_name"].strip() or entry["service_code"].strip(),
                    "department": department,
                    "turnaround_hours": int(entry["turnaround_hours"] or 168),
                    "active": False,
                    "group": "Imported",
                }
            )
        catalog_load(
            data={
                "departments": [{"code": d.code, "name": d.name} for d in departments.values()],
                "services": services,
            }
        )
    codes = dict(ServiceType.objects.values_list("service_code", "id"))
    by_source: dict[str, int] = {}
    fallback = None
    for entry in entries:
        type_id = codes[entry["service_code"].strip()]
        if entry["source_type"].strip() == "*":
            fallback = type_id
        else:
            by_source[entry["source_type"].strip()] = type_id
    return Mapping(by_source, fallback)


# --- Source formats

_BLANK = re.compile(r"^\s*$")


def _cell(row: dict[str, str], name: str) -> str:
    value = row.get(name) or ""
    return "" if _BLANK.match(value) else value.strip()


def _float(value: str) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


def boston_rows(
    records: Iterable[dict[str, str]],
    *,
    mapping: Mapping,
    zone: Any,
    report_skip: Callable[[str], None],
) -> Iterator[LoadRow]:
    """Boston "311 Service Requests" (Analyze Boston): local times, ``target_dt`` the due
    time, ``closedphoto`` the crew's proof photo."""

    def when(value: str) -> datetime | None:
        return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=zone) if value else None

    for record in records:
        opened = when(_cell(record, "open_dt"))
        type_id = mapping.resolve(_cell(record, "type"))
        case_id = _cell(record, "case_enquiry_id")
        if opened is None or type_id is None or not case_id:
            report_skip(f"boston {case_id or '?'}: no open date or unmapped type")
            continue
        closed = when(_cell(record, "closed_dt"))
        is_closed = _cell(record, "case_status").lower() == "closed" and closed is not None
        lat, lon = _float(_cell(record, "latitude")), _float(_cell(record, "longitude"))
        address = _cell(record, "location")
        if (lat is None or lon is None) and not address:
            address = "Boston"
        yield LoadRow(
            public_id=f"BOS-{case_id}",
            service_type_id=type_id,
            requested_at=opened,
            lat=lat,
            lon=lon,
            address=address[:500],
            description=_cell(record, "case_title")[:4000],
            status="closed" if is_closed else "submitted",
            expected_at=when(_cell(record, "target_dt")),
            closed_at=closed if is_closed else None,
            close_note=_cell(record, "closure_reason")[:2000],
            media_url=_cell(record, "submittedphoto"),
            attributes={
                "import": {
                    "source": "boston",
                    "source_type": _cell(record, "type"),
                    "source_channel": _cell(record, "source"),
                    "department": _cell(record, "department"),
                    "closed_photo_url": _cell(record, "closedphoto"),
                    "ontime": _cell(record, "ontime"),
                }
            },
        )


NYC_IN_PROGRESS = {"in progress", "started", "assigned", "email sent", "pending"}


def nyc_rows(
    records: Iterable[dict[str, str]],
    *,
    mapping: Mapping,
    zone: Any,
    report_skip: Callable[[str], None],
) -> Iterator[LoadRow]:
    """NYC "311 Service Requests from 2010 to Present": ``MM/DD/YYYY hh:mm:ss AM`` local."""

    def when(value: str) -> datetime | None:
        if not value:
            return None
        return datetime.strptime(value, "%m/%d/%Y %I:%M:%S %p").replace(tzinfo=zone)

    for record in records:
        created = when(_cell(record, "Created Date"))
        kind = _cell(record, "Complaint Type")
        type_id = mapping.resolve(kind)
        key = _cell(record, "Unique Key")
        if created is None or type_id is None or not key:
            report_skip(f"nyc {key or '?'}: no created date or unmapped type")
            continue
        closed = when(_cell(record, "Closed Date"))
        status_text = _cell(record, "Status").lower()
        status = "submitted"
        first_response = None
        if status_text == "closed" and closed is not None:
            status = "closed"
        elif status_text in NYC_IN_PROGRESS:
            status = "in_progress"
            first_response = when(_cell(record, "Resolution Action Updated Date")) or created
        lat, lon = _float(_cell(record, "Latitude")), _float(_cell(record, "Longitude"))
        address = _cell(record, "Incident Address") or _cell(record, "City") or "New York"
        yield LoadRow(
            public_id=f"NYC-{key}",
            service_type_id=type_id,
            requested_at=created,
            lat=lat,
            lon=lon,
            address=address[:500],
            description=_cell(record, "Descriptor")[:4000],
            status=status,
            expected_at=when(_cell(record, "Due Date")),
            closed_at=closed if status == "closed" else None,
            first_response_at=first_response,
            close_note=_cell(record, "Resolution Description")[:2000],
            attributes={
                "import": {
                    "source": "nyc",
                    "source_type": kind,
                    "descriptor": _cell(record, "Descriptor"),
                    "agency": _cell(record, "Agency"),
                    "source_channel": _cell(record, "Open Data Channel Type"),
                }
            },
        )


def georeport_rows(
    records: Iterable[dict[str, str]],
    *,
    mapping: Mapping,
    zone: Any,
    report_skip: Callable[[str], None],
) -> Iterator[LoadRow]:
    """GeoReport bulk CSV (the shape of our own open-data export): ISO 8601 times."""
    by_name = {name.lower(): pk for pk, name in ServiceType.objects.values_list("id", "name")}

    def when(value: str) -> datetime | None:
        if not value:
            return None
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)

    for record in records:
        requested = when(_cell(record, "requested_datetime"))
        name = _cell(record, "service_name")
        type_id = mapping.by_source.get(name) or by_name.get(name.lower()) or mapping.fallback
        key = _cell(record, "service_request_id")
        if requested is None or type_id is None or not key:
            report_skip(f"georeport {key or '?'}: no requested time or unmapped service")
            continue
        closed = when(_cell(record, "closed_date"))
        is_closed = _cell(record, "status_description").lower() == "closed" and closed is not None
        address = _cell(record, "address")
        lat, lon = _float(_cell(record, "lat")), _float(_cell(record, "long"))
        if (lat is None or lon is None) and not address:
            address = "unknown"
        yield LoadRow(
            public_id=key if key.startswith("GR-") else f"GR-{key}",
            service_type_id=type_id,
            requested_at=requested,
            lat=lat,
            lon=lon,
            address=address[:500],
            description=_cell(record, "description")[:4000],
            status="closed" if is_closed else "submitted",
            updated_at=when(_cell(record, "updated_datetime")),
            closed_at=closed if is_closed else None,
            close_note=_cell(record, "status_notes")[:2000],
            attributes={
                "import": {
                    "source": "georeport",
                    "source_type": name,
                    "service_subtype": _cell(record, "service_subtype"),
                    "agency": _cell(record, "agency_responsible"),
                    "source_channel": _cell(record, "source"),
                }
            },
        )


FORMATS = {"boston": boston_rows, "nyc": nyc_rows, "georeport": georeport_rows}


def csv_records(path: Path) -> Iterator[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        yield from csv.DictReader(handle)
