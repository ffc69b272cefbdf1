"""Importing historical exports (Boston 311, NYC 311, GeoReport bulk CSV) on the database
server (ADR 0014, "Importing").

The file goes to PostgreSQL as it is: one ``COPY ... (FORMAT csv)`` into an unlogged table of
text columns (the server parses CSV in C, about 200,000 rows/s), then chunks of it are moved
into the request and event tables by one ``INSERT ... SELECT`` each, written per format below:
cells trimmed, times read in the file's time zone, types mapped through the mapping file,
rows without an id, a readable date or a mapped type skipped (and named in the report), public
ids already present skipped. Python never touches a row, so both cores go to the database's
own work: moving rows and keeping the indexes, which is what the time goes on
(bench/README.md). Chunks are their own transactions, ``WRITERS`` at a time on their own
connections; a crash loses at most the chunks in flight, and running the import again skips
what is present.

Historical records are not new reports: channel ``import``, their own timestamps, status, due
times and photo links, and the events their history implies (``analytics.loading.move_sql``,
the same statement the synthetic generator's loads use), so every metric reads imported and
live requests alike — except the requests still open in the export: with no work order, they
are history, not live work, out of the backlog, overdue lists and scorecard until a
supervisor adopts one (docs/metrics.md, "Live work"; ``backend.cases.adopt``). No resident is
notified, no work order is made, no push goes out."""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg
from django.db import DatabaseError, DataError, connection, transaction

from analytics.loading import WRITERS, Mapping, chunk_cursor, move_sql
from analytics.measures import day_of
from analytics.tables import literal
from backend.catalog.models import ServiceType
from backend.service_requests.models import Channel, CloseReason, Status

# Smaller than the generator's chunks: ten of them split evenly over two connections, where
# five left one idle for the last (measured 21,000-22,000 rows/s against 18,000-19,000).
IMPORT_CHUNK_ROWS = 10_000


class ImportProblem(ValueError):
    """The file cannot be imported as a whole (a missing column, malformed CSV)."""


@dataclass
class ImportReport:
    read: int = 0
    inserted: int = 0
    present: int = 0  # valid rows whose public id was there already (or repeated in the file)
    invalid: int = 0  # rows skipped: no id, no readable date or an unmapped type
    problems: list[str] = field(default_factory=list)  # the first few of those, named
    first_day: date | None = None
    last_day: date | None = None

    def saw(self, *moments: datetime | None) -> None:
        for moment in moments:
            if moment is None:
                continue
            day = day_of(moment)
            self.first_day = day if self.first_day is None else min(self.first_day, day)
            self.last_day = day if self.last_day is None else max(self.last_day, day)


# --- Cells

# Cheap guards before a cast (a regular expression costs about 1 µs a cell, a third of a
# chunk's reading time): a time must start with a digit (PostgreSQL would also read
# 'yesterday', 'now' or 'epoch'), a number be made of digits, signs, a point and an exponent
# only ('NaN' and 'Infinity' are refused). Text that passes a guard and is still no time or
# number ('2022-02-30', '1.2.3') fails the chunk's fast statement; the chunk is then moved
# again with analytics_try_timestamptz / analytics_try_float8 (migrations 0003, 0004), which
# answer NULL for such a cell, at about 4 µs a cell — too slow for every cell.
_NUMBER_CHARS = "0123456789.-+eE"
_US_FORMAT = "MM/DD/YYYY HH12:MI:SS AM"


class _Cells:
    """SQL for the cells of one file: its columns are c1..cN in header order."""

    def __init__(self, header: list[str], *, safe: bool) -> None:
        # The last of a repeated name wins, as with csv.DictReader.
        self.position = {name.strip(): i + 1 for i, name in enumerate(header)}
        self.safe = safe
        self.used: set[int] = set()

    def text(self, name: str) -> str:
        """The cell trimmed, '' when blank or when the file has no such column."""
        position = self.position.get(name)
        if position is None:
            return "''"
        self.used.add(position)
        return f"r.c{position}"

    def trimmed(self, table: str) -> str:
        """The chunk's rows with the cells used, trimmed once each: ``OFFSET 0`` keeps
        the planner from folding this into the query above, which would trim a cell again
        wherever it is named (a number's cell three times)."""
        cells = "".join(f", btrim(c{i}, E' \\t\\r\\n') AS c{i}" for i in sorted(self.used))
        chunk = "WHERE n BETWEEN %(first)s AND %(last)s OFFSET 0"
        return f"(SELECT n{cells} FROM {table} {chunk})"  # noqa: S608 - c1..cN, a name made here

    def number(self, expr: str, low: float, high: float) -> str:
        value = (
            f"analytics_try_float8({expr})"
            if self.safe
            else f"CASE WHEN translate({expr}, '{_NUMBER_CHARS}', '') = '' AND {expr} <> ''"
            f" THEN ({expr})::float8 END"
        )
        return f"CASE WHEN {value} BETWEEN {low} AND {high} THEN {value} END"

    def when(self, expr: str, style: str) -> str:
        """A time: ISO 8601 and PostgreSQL's other input forms (``iso``) or NYC's
        ``MM/DD/YYYY hh:mm:ss AM`` (``us``); local times are the file's time zone (the
        transaction's TimeZone)."""
        fmt = _US_FORMAT if style == "us" else ""
        if self.safe:
            cast = f"analytics_try_timestamptz({expr}, '{fmt}')"
        elif style == "us":
            cast = f"to_timestamp({expr}, '{fmt}')"
        else:
            cast = f"({expr})::timestamptz"
        return f"CASE WHEN left({expr}, 1) BETWEEN '0' AND '9' THEN {cast} END"


# --- Formats: each a SELECT of analytics.loading.STAGING_COLUMNS plus ``n`` (the file's row)
# and ``source_key`` (its id), over ``{table} r`` and the mapping ``m(source_type, type_id)``;
# ``_checked`` adds ``problem``. What the requests become is written from the request's enums;
# the words compared with a file's own cells ('closed', NYC's statuses) are the file's.

# Each format's columns: the id, the submission time and the type (named by ``problem``).
REQUIRED = {
    "boston": ("case_enquiry_id", "open_dt", "type"),
    "nyc": ("Unique Key", "Created Date", "Complaint Type"),
    "georeport": ("service_request_id", "requested_datetime", "service_name"),
}
_SUBMITTED = literal(Status.SUBMITTED)
_IN_PROGRESS = literal(Status.IN_PROGRESS)
_CLOSED = literal(Status.CLOSED)
_RESOLVED = literal(CloseReason.RESOLVED)
_IMPORT = literal(Channel.IMPORT)


def _checked(fmt: str, rows: str) -> str:
    """The format's rows with ``problem``: why a row is skipped, NULL when it is not."""
    key, when, kind = REQUIRED[fmt]
    return f"""
SELECT x.*,
  CASE WHEN x.source_key = '' THEN {literal("no " + key)}
       WHEN x.requested_at IS NULL THEN {literal("no or unreadable " + when)}
       WHEN x.service_type_id IS NULL THEN {literal("unmapped " + kind + " ")}
            || quote_literal(x.source_type)
  END AS problem
FROM ({rows}) x"""  # noqa: S608 - the format's SQL, made here


def _boston(c: _Cells) -> str:
    return f"""
  SELECT v.n, v.source_key, v.source_type, 'BOS-' || v.source_key AS public_id,
    coalesce(m.type_id, %(fallback)s::bigint) AS service_type_id, v.lon, v.lat,
    CASE WHEN (v.lat IS NULL OR v.lon IS NULL) AND v.address = '' THEN 'Boston'
         ELSE left(v.address, 500) END AS address,
    left(v.title, 4000) AS description,
    CASE WHEN v.closed_at IS NOT NULL THEN {_CLOSED} ELSE {_SUBMITTED} END AS status,
    {_IMPORT} AS channel, v.requested_at, coalesce(v.closed_at, v.requested_at) AS updated_at,
    v.expected_at, v.closed_at,
    CASE WHEN v.closed_at IS NOT NULL THEN {_RESOLVED} ELSE '' END AS close_reason,
    2 AS priority, left(v.photo, 1000) AS media_url,
    jsonb_build_object('import', jsonb_build_object(
      'source', 'boston', 'source_type', v.source_type, 'source_channel', v.channel_name,
      'department', v.department, 'closed_photo_url', v.closed_photo, 'ontime', v.ontime
    )) AS attributes,
    NULL::timestamptz AS first_response_at,
    left(v.closure, 2000) AS close_note
  FROM (
    SELECT r.n, {c.text("case_enquiry_id")} AS source_key, {c.text("type")} AS source_type,
      {c.number(c.text("longitude"), -180, 180)} AS lon,
      {c.number(c.text("latitude"), -90, 90)} AS lat,
      {c.text("location")} AS address, {c.text("case_title")} AS title,
      {c.when(c.text("open_dt"), "iso")} AS requested_at,
      {c.when(c.text("target_dt"), "iso")} AS expected_at,
      CASE WHEN lower({c.text("case_status")}) = 'closed'
           THEN {c.when(c.text("closed_dt"), "iso")} END AS closed_at,
      {c.text("closure_reason")} AS closure, {c.text("submittedphoto")} AS photo,
      {c.text("closedphoto")} AS closed_photo, {c.text("source")} AS channel_name,
      {c.text("department")} AS department, {c.text("ontime")} AS ontime
    FROM {{table}} r OFFSET 0
  ) v LEFT JOIN m ON m.source_type = v.source_type"""  # noqa: S608 - c1..cN made here


NYC_IN_PROGRESS = ("in progress", "started", "assigned", "email sent", "pending")


def _nyc(c: _Cells) -> str:
    in_progress = ", ".join(f"'{status}'" for status in NYC_IN_PROGRESS)
    return f"""
  SELECT w.*, coalesce(w.closed_at, w.first_response_at, w.requested_at) AS updated_at,
    CASE WHEN w.status = {_CLOSED} THEN {_RESOLVED} ELSE '' END AS close_reason
  FROM (
    SELECT v.n, v.source_key, v.source_type, 'NYC-' || v.source_key AS public_id,
      coalesce(m.type_id, %(fallback)s::bigint) AS service_type_id, v.lon, v.lat,
      left(coalesce(nullif(v.address, ''), nullif(v.city, ''), 'New York'), 500) AS address,
      left(v.descriptor, 4000) AS description,
      CASE WHEN v.status_text = 'closed' AND v.closed IS NOT NULL THEN {_CLOSED}
           WHEN v.status_text IN ({in_progress}) THEN {_IN_PROGRESS}
           ELSE {_SUBMITTED} END AS status,
      {_IMPORT} AS channel, v.requested_at, v.expected_at,
      CASE WHEN v.status_text = 'closed' THEN v.closed END AS closed_at,
      2 AS priority, '' AS media_url,
      jsonb_build_object('import', jsonb_build_object(
        'source', 'nyc', 'source_type', v.source_type, 'descriptor', v.descriptor,
        'agency', v.agency, 'source_channel', v.channel_name
      )) AS attributes,
      CASE WHEN v.status_text IN ({in_progress})
           THEN coalesce(v.action_at, v.requested_at) END AS first_response_at,
      left(v.resolution, 2000) AS close_note
    FROM (
      SELECT r.n, {c.text("Unique Key")} AS source_key,
        {c.text("Complaint Type")} AS source_type,
        {c.number(c.text("Longitude"), -180, 180)} AS lon,
        {c.number(c.text("Latitude"), -90, 90)} AS lat,
        {c.text("Incident Address")} AS address, {c.text("City")} AS city,
        {c.text("Descriptor")} AS descriptor, lower({c.text("Status")}) AS status_text,
        {c.when(c.text("Created Date"), "us")} AS requested_at,
        {c.when(c.text("Closed Date"), "us")} AS closed,
        {c.when(c.text("Due Date"), "us")} AS expected_at,
        {c.when(c.text("Resolution Action Updated Date"), "us")} AS action_at,
        {c.text("Resolution Description")} AS resolution, {c.text("Agency")} AS agency,
        {c.text("Open Data Channel Type")} AS channel_name
      FROM {{table}} r OFFSET 0
    ) v LEFT JOIN m ON m.source_type = v.source_type
  ) w"""  # noqa: S608 - identifiers are c1..cN made here; values are parameters


def _georeport(c: _Cells) -> str:
    return f"""
  SELECT v.n, v.source_key, v.source_type,
    CASE WHEN v.source_key LIKE 'GR-%%' THEN v.source_key ELSE 'GR-' || v.source_key
    END AS public_id,
    coalesce(m.type_id, named.type_id, %(fallback)s::bigint) AS service_type_id, v.lon, v.lat,
    CASE WHEN (v.lat IS NULL OR v.lon IS NULL) AND v.address = '' THEN 'unknown'
         ELSE left(v.address, 500) END AS address,
    left(v.description, 4000) AS description,
    CASE WHEN v.closed_at IS NOT NULL THEN {_CLOSED} ELSE {_SUBMITTED} END AS status,
    {_IMPORT} AS channel, v.requested_at,
    coalesce(v.updated, v.closed_at, v.requested_at) AS updated_at,
    NULL::timestamptz AS expected_at, v.closed_at,
    CASE WHEN v.closed_at IS NOT NULL THEN {_RESOLVED} ELSE '' END AS close_reason,
    2 AS priority, '' AS media_url,
    jsonb_build_object('import', jsonb_build_object(
      'source', 'georeport', 'source_type', v.source_type, 'service_subtype', v.subtype,
      'agency', v.agency, 'source_channel', v.channel_name
    )) AS attributes,
    NULL::timestamptz AS first_response_at, left(v.notes, 2000) AS close_note
  FROM (
    SELECT r.n, {c.text("service_request_id")} AS source_key,
      {c.text("service_name")} AS source_type,
      {c.number(c.text("long"), -180, 180)} AS lon, {c.number(c.text("lat"), -90, 90)} AS lat,
      {c.text("address")} AS address, {c.text("description")} AS description,
      {c.when(c.text("requested_datetime"), "iso")} AS requested_at,
      {c.when(c.text("updated_datetime"), "iso")} AS updated,
      CASE WHEN lower({c.text("status_description")}) = 'closed'
           THEN {c.when(c.text("closed_date"), "iso")} END AS closed_at,
      {c.text("status_notes")} AS notes, {c.text("service_subtype")} AS subtype,
      {c.text("agency_responsible")} AS agency, {c.text("source")} AS channel_name
    FROM {{table}} r OFFSET 0
  ) v
  LEFT JOIN m ON m.source_type = v.source_type
  LEFT JOIN named ON named.name = lower(v.source_type)"""  # noqa: S608 - c1..cN made here


FORMATS: dict[str, Callable[[_Cells], str]] = {
    "boston": _boston,
    "nyc": _nyc,
    "georeport": _georeport,
}


# The mapping file's source types, and (GeoReport) the catalog's names, lower-cased.
_LOOKUPS = (
    "m(source_type, type_id) AS ("
    "SELECT * FROM unnest(%(source_types)s::text[], %(type_ids)s::bigint[])), "
    "named(name, type_id) AS ("
    "SELECT * FROM unnest(%(names)s::text[], %(name_ids)s::bigint[])), "
)


def _rows_sql(fmt: str, header: list[str], table: str, *, safe: bool) -> str:
    cells = _Cells(header, safe=safe)
    rows = _checked(fmt, FORMATS[fmt](cells))
    return rows.replace("{table}", cells.trimmed(table))


def _statement(rows: str) -> str:
    """Moves one chunk: the first row of each public id without a problem (ON CONFLICT in
    ``move_sql`` skips those present); also counts the rows without a problem."""
    return move_sql(
        staged=(
            "SELECT DISTINCT ON (public_id) * FROM src WHERE problem IS NULL ORDER BY public_id, n"
        ),
        before=f"{_LOOKUPS}src AS MATERIALIZED ({rows}), ",
        extra="(SELECT count(*) FROM src WHERE problem IS NULL)",
    )


# --- The import


def header_of(path: Path) -> list[str]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        try:
            return next(csv.reader(handle))
        except StopIteration:
            raise ImportProblem("the file is empty") from None
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ImportProblem(f"unreadable header: {exc}") from exc


def _copy_file(path: Path, table: str, columns: int) -> int:
    names = ", ".join(f"c{i}" for i in range(1, columns + 1))
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE UNLOGGED TABLE {table} ("
            "n bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            + ", ".join(f"c{i} text" for i in range(1, columns + 1))
            + ")"
        )
        try:
            with transaction.atomic():
                copy_sql = (
                    f"COPY {table} ({names}) FROM STDIN"
                    f" (FORMAT csv, HEADER true, ENCODING 'UTF8', FORCE_NOT_NULL ({names}))"
                )
                with cursor.cursor.copy(copy_sql) as copy, path.open("rb") as handle:
                    while block := handle.read(1 << 20):
                        copy.write(block)
        except (DatabaseError, psycopg.Error) as exc:
            # "extra data after last expected column", "unterminated CSV quoted field",
            # "invalid byte sequence for encoding": the server names the line.
            message = str(exc).strip().replace("\n", "; ")[:400]
            raise ImportProblem(f"not a well-formed CSV file: {message}") from exc
        cursor.execute(f"ANALYZE {table}")
        cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - a name made here
        return int(cursor.fetchone()[0])


@contextmanager
def _file_zone(cursor: Any, zone: str) -> Iterator[None]:
    """The file's time zone for the statements inside (its local times are read in it), then
    the connection's own again: Django reads times assuming it (inside a caller's
    transaction, a transaction-local setting would outlive the chunk)."""
    cursor.execute("SELECT current_setting('TimeZone'), set_config('TimeZone', %s, true)", [zone])
    own = cursor.fetchone()[0]
    yield
    cursor.execute("SELECT set_config('TimeZone', %s, true)", [own])


def _move_chunk(sql: dict[bool, str], params: dict[str, Any], zone: str) -> tuple[Any, ...]:
    """Moves rows first..last of the file in one transaction; returns (inserted, events,
    first requested, last requested, first closed, last closed, valid rows)."""
    with chunk_cursor() as cursor, _file_zone(cursor, zone):
        try:
            with transaction.atomic():
                cursor.execute(sql[False], params)
                return tuple(cursor.fetchone())
        except DataError:
            # A cell of a date's shape that is no date: this chunk cell by cell.
            cursor.execute(sql[True], params)
            return tuple(cursor.fetchone())


def csv_import(
    path: Path,
    fmt: str,
    *,
    mapping: Mapping,
    zone: str,
    progress: Callable[[int], object] | None = None,
    chunk_rows: int = IMPORT_CHUNK_ROWS,
    writers: int = WRITERS,
) -> ImportReport:
    """Imports a Boston, NYC or GeoReport bulk CSV file. Inside a caller's transaction (a
    test, ``--bulk``) every chunk runs on the caller's connection, in order."""
    if fmt not in FORMATS:
        raise ImportProblem(f"unknown format {fmt!r}")
    header = header_of(path)
    names = {name.strip() for name in header}
    missing = [name for name in REQUIRED[fmt] if name not in names]
    if missing:
        raise ImportProblem(f"{fmt} file without column(s): {', '.join(missing)}")
    table = f"analytics_import_{uuid.uuid4().hex[:12]}"
    report = ImportReport()
    by_name: dict[str, int] = {}
    if fmt == "georeport":
        for pk, name in ServiceType.objects.values_list("id", "name"):
            by_name[name.lower()] = pk
    params: dict[str, Any] = {
        "fallback": mapping.fallback,
        "source_types": list(mapping.by_source),
        "type_ids": list(mapping.by_source.values()),
        "names": list(by_name),
        "name_ids": list(by_name.values()),
    }
    sql = {safe: _statement(_rows_sql(fmt, header, table, safe=safe)) for safe in (False, True)}
    try:
        report.read = _copy_file(path, table, len(header))
        ranges = [
            (first, min(first + chunk_rows - 1, report.read))
            for first in range(1, report.read + 1, chunk_rows)
        ]

        def counted(result: tuple[Any, ...], size: int) -> None:
            inserted, _events, *moments, valid = result
            report.inserted += int(inserted)
            report.present += int(valid) - int(inserted)
            report.invalid += size - int(valid)
            report.saw(*moments)
            if progress is not None:
                progress(size)

        if connection.in_atomic_block or writers <= 1:
            for first, last in ranges:
                chunk = {**params, "first": first, "last": last}
                counted(_move_chunk(sql, chunk, zone), last - first + 1)
        else:
            with ThreadPoolExecutor(max_workers=writers, thread_name_prefix="import") as pool:
                futures = [
                    (pool.submit(_move_chunk, sql, {**params, "first": a, "last": b}, zone), a, b)
                    for a, b in ranges
                ]
                for future, first, last in futures:
                    counted(future.result(), last - first + 1)
        if report.invalid:
            safe_rows = _rows_sql(fmt, header, table, safe=True)
            report.problems = _problems(safe_rows, params, report.read, zone)
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {table}")
    return report


def _problems(rows: str, params: dict[str, Any], count: int, zone: str) -> list[str]:
    """The first 20 rows skipped, each with its number and why."""
    with transaction.atomic(), connection.cursor() as cursor, _file_zone(cursor, zone):
        cursor.execute(
            f"WITH {_LOOKUPS}src AS ({rows}) SELECT n, source_key, problem FROM src"  # noqa: S608
            " WHERE problem IS NOT NULL ORDER BY n LIMIT 20",
            {**params, "first": 1, "last": count},
        )
        return [f"row {n} ({key or 'no id'}): {problem}" for n, key, problem in cursor.fetchall()]
