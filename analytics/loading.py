"""Bulk loading of synthetic and historical requests with COPY (ADR 0014).

Loaded records are not new reports: they keep their own timestamps, status, due times and
photo links and are written straight to the tables, not through the intake pipeline, so no
resident is notified, no work order is made and no live push goes out. Each loaded request
gets the events its history implies (``created``; a first response when the source tells one;
``closed``), so every metric reads loaded and live requests the same way: ``move_sql`` writes
both, and is shared by the two ways rows arrive:

* ``requests_load``: rows made in Python (the synthetic generator, tests) are COPYed
  (psycopg 3 ``cursor.copy``) into a temporary staging table, then moved by ``move_sql`` in
  one statement per chunk.
* ``analytics.importing.csv_import``: a historical export is COPYed as it is and its rows are
  read, mapped and moved on the server, a chunk per statement.

A public id already present is skipped (loading a file twice adds nothing). ``bulk``
(``secondary_indexes_dropped``) drops and rebuilds the secondary indexes around a load, for
an offline first load only. The caller rebuilds the rollups of the days it loaded
(``rollups_rebuild``)."""

from __future__ import annotations

import csv
import json
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.db import connection, transaction

from analytics.measures import day_of
from analytics.tables import EVENTS, SR, literal
from backend.catalog.models import Department, ServiceType
from backend.catalog.services import catalog_load
from backend.service_requests.models import Channel, CloseReason, EventKind, Status

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
    status: str = Status.SUBMITTED
    channel: str = Channel.IMPORT
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
            self.closed_at if self.status == Status.CLOSED else None,
            (self.close_reason or CloseReason.RESOLVED) if self.status == Status.CLOSED else "",
            self.priority,
            self.media_url[:1000],
            json.dumps(self.attributes) if self.attributes else "{}",
            self.first_response_at if self.status != Status.SUBMITTED else None,
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


_CREATED = literal(EventKind.CREATED)
_STATUS_CHANGED = literal(EventKind.STATUS_CHANGED)
_SUBMITTED = literal(Status.SUBMITTED)
_ACKNOWLEDGED = literal(Status.ACKNOWLEDGED)
_IN_PROGRESS = literal(Status.IN_PROGRESS)
_CLOSED = literal(Status.CLOSED)


def move_sql(*, staged: str, before: str = "", extra: str = "NULL") -> str:
    """One statement that inserts the rows of the query ``staged`` (STAGING_COLUMNS) as
    requests, skipping public ids already present, and writes their events. ``before``: CTEs
    ``staged`` reads (each ending ", "). Its one row: requests inserted, events written, the
    first and last requested_at and closed_at among them, and ``extra``."""
    return f"""
WITH {before}staged AS ({staged}),
inserted AS (
    INSERT INTO {SR} (
        public_id, service_type_id, location, address, description, attributes, status, channel,
        language, contact_name, contact_email, contact_phone, requested_at, updated_at,
        expected_at, closed_at, close_reason, priority, idempotency_fingerprint, media_url)
    SELECT s.public_id, s.service_type_id,
           CASE WHEN s.lat IS NOT NULL AND s.lon IS NOT NULL
                THEN ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) END,
           s.address, s.description, s.attributes, s.status, s.channel, 'en', '', '', '',
           s.requested_at, s.updated_at, s.expected_at, s.closed_at, s.close_reason, s.priority,
           '', s.media_url
    FROM staged s
    ON CONFLICT (public_id) DO NOTHING
    RETURNING id, public_id
), rows AS (
    SELECT i.id, s.* FROM inserted i JOIN staged s ON s.public_id = i.public_id
), events AS (
    INSERT INTO {EVENTS} (
        service_request_id, kind, created_at, channel, from_status, to_status, close_reason,
        public_note, internal_note)
    SELECT id, {_CREATED}, requested_at, channel, '', {_SUBMITTED}, '', 'Request received.', ''
    FROM rows
    UNION ALL
    SELECT id, {_STATUS_CHANGED}, first_response_at, channel, {_SUBMITTED},
           CASE WHEN status = {_ACKNOWLEDGED} THEN {_ACKNOWLEDGED} ELSE {_IN_PROGRESS} END,
           '', '', ''
    FROM rows WHERE first_response_at IS NOT NULL
    UNION ALL
    SELECT id, {_STATUS_CHANGED}, closed_at, channel,
           CASE WHEN first_response_at IS NULL THEN {_SUBMITTED} ELSE {_IN_PROGRESS} END,
           {_CLOSED}, close_reason, close_note, ''
    FROM rows WHERE status = {_CLOSED}
    RETURNING 1
)
SELECT (SELECT count(*) FROM inserted), (SELECT count(*) FROM events),
       (SELECT min(requested_at) FROM rows), (SELECT max(requested_at) FROM rows),
       (SELECT min(closed_at) FROM rows), (SELECT max(closed_at) FROM rows), {extra}"""


_MOVE_STAGED = move_sql(staged="SELECT * FROM analytics_staging")


def plan_settings(cursor: Any) -> None:
    """For ``move_sql`` over one chunk (inside a caller's transaction they last until it
    ends): the planner knows nothing of a chunk's CTEs and guesses one row each, so it joins
    the inserted rows back to the staged ones in a nested loop, 20,000 x 20,000 comparisons
    (200 s a chunk, measured) where a hash join takes milliseconds; it may also guess
    millions of rows and turn on JIT compilation, 0.2-0.8 s per chunk for a plan run once.
    The sort that keeps the first row of a public id wants more than the default 4 MB."""
    cursor.execute("SET LOCAL enable_nestloop = off")
    cursor.execute("SET LOCAL jit = off")
    cursor.execute("SET LOCAL work_mem = '64MB'")


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
    cursor.execute(_MOVE_STAGED)
    return int(cursor.fetchone()[0])


@contextmanager
def chunk_cursor() -> Iterator[Any]:
    """A cursor in a chunk's own transaction (or a savepoint of the caller's), set for
    ``move_sql``; a writer thread's connection is closed after it."""
    own_transaction = not connection.in_atomic_block
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # Losing the last chunks of a load to a crash is harmless: it is run again and
            # skips what is present. The rest of the database keeps its durable commits.
            if own_transaction:
                cursor.execute("SET LOCAL synchronous_commit = off")
            plan_settings(cursor)
            yield cursor
    finally:
        if threading.current_thread() is not threading.main_thread():
            connection.close()


def _flush(chunk: list[tuple[Any, ...]]) -> int:
    """Moves one chunk into the tables in its own transaction; returns the rows inserted."""
    with chunk_cursor() as cursor:
        return _copy_staged(cursor, chunk)


def requests_load(
    rows: Iterable[LoadRow | tuple[Any, ...]],
    *,
    progress: Callable[[int], object] | None = None,
    chunk_rows: int = CHUNK_ROWS,
    writers: int = WRITERS,
    bulk: bool = False,
) -> LoadReport:
    """COPYs the rows in chunks, each chunk its own transaction (with ``bulk``, all in one,
    see ``secondary_indexes_dropped``). Chunks are written by ``writers`` threads (their own
    connections) while the next chunk is made: making rows and writing the tables overlap.
    Inside the caller's transaction (a test, a larger unit of work) every chunk is written on
    the caller's connection instead, since only it sees the caller's uncommitted rows. Rows
    are LoadRow objects or their ``as_tuple()``."""
    if bulk:
        with secondary_indexes_dropped():
            return requests_load(rows, progress=progress, chunk_rows=chunk_rows)
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
                counted(_flush(chunk), len(chunk))
            else:
                while len(pending) >= writers:
                    future, size = pending.popleft()
                    counted(future.result(), size)
                pending.append((pool.submit(_flush, chunk), len(chunk)))
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


BULK_TABLES = (SR, EVENTS)
_SECONDARY_INDEXES = """
SELECT c.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT i.indisunique
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY c.relname"""


@contextmanager
def secondary_indexes_dropped() -> Iterator[None]:
    """An offline initial load: in ONE transaction, drops the secondary indexes of the request
    and event tables that back no constraint (unique ones and primary keys stay, so public
    ids are still checked), runs the block (whose loads then write every chunk on this
    connection), and rebuilds the dropped indexes before the commit. ``DROP INDEX`` holds an
    ACCESS EXCLUSIVE lock on both tables until then: every reader and writer of requests waits
    for the whole load. Only for a database nobody else uses (a first load of years of
    history); a failure rolls everything back, indexes included. It pays when the rows loaded
    are many next to those present: the rebuild re-reads the whole table."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        dropped: list[tuple[str, str]] = []
        for table in BULK_TABLES:
            cursor.execute(_SECONDARY_INDEXES, [table])
            dropped.extend(cursor.fetchall())
        for name, _definition in dropped:
            cursor.execute(f'DROP INDEX "{name}"')
        yield
        # CREATE INDEX refuses a table with deferred foreign-key checks pending: run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for _name, definition in dropped:
            cursor.execute(definition)
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


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
