"""The public open-data export: requests in the GeoReport bulk shape, and the services'
published SLAs (docs/metrics.md, "Open data").

Requests hidden by moderation are left out (``ServiceRequest.objects.visible()``); a redacted
description is published as redacted. What is published: the request's public id, times,
status, the last public note, channel, service, description, department, address and
point, and how many people reported it too (``supporters``, never who). What is not:
anything about the reporter (name, e-mail, phone, account), internal notes, attributes,
photos. Descriptions and notes are scrubbed of e-mail addresses and phone numbers; for
services marked sensitive (``ServiceType.sensitive_location``) the point is rounded to
0.001 degree (about 100 m) and the address keeps only its street (house numbers removed).
Rows are read in id order, in batches (keyset pages), so an export of millions of rows
streams in constant memory."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from analytics.shapes import OpenDataRow, ServiceSLA
from analytics.tables import DEPARTMENTS, EVENTS, SERVICE_TYPES, SR, literal
from backend.csv_cells import csv_cell, csv_row
from backend.service_requests.models import EventKind, Status, visible_sql

COLUMNS = tuple(OpenDataRow.__annotations__)
BATCH = 5000
SENSITIVE_DECIMALS = 3

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_LONG = re.compile(r"\+?\(?\d[\d\s().-]{8,}\d")
PHONE_LOCAL = re.compile(r"\b\d{3}[-.\s]\d{4}\b")
HOUSE_NUMBER = re.compile(r"^\s*\d+[\w-]*\s+")


def scrub(text: str) -> str:
    """Removes e-mail addresses and phone numbers (10 to 15 digits, or local 555-1234)."""
    text = EMAIL.sub("[email removed]", text)

    def phone(match: re.Match[str]) -> str:
        digits = sum(c.isdigit() for c in match.group(0))
        return "[phone removed]" if 10 <= digits <= 15 else match.group(0)

    text = PHONE_LONG.sub(phone, text)
    return PHONE_LOCAL.sub("[phone removed]", text)


def street_only(address: str) -> str:
    return HOUSE_NUMBER.sub("", address, count=1)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def requests_rows(
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    service_type_id: int | None = None,
) -> Iterator[OpenDataRow]:
    """The published rows, oldest id first."""
    # ServiceRequest.objects.visible(), in SQL: no hidden request is published.
    where = ["sr.id > %(after)s", visible_sql("sr")]
    params: dict[str, Any] = {"after": 0, "batch": BATCH, "decimals": SENSITIVE_DECIMALS}
    if start is not None:
        where.append("sr.requested_at >= %(start)s")
        params["start"] = start
    if end is not None:
        where.append("sr.requested_at < %(end)s")
        params["end"] = end
    if service_type_id is not None:
        where.append("sr.service_type_id = %(type)s")
        params["type"] = service_type_id
    sql = f"""
        SELECT sr.id, sr.public_id, sr.requested_at, sr.updated_at, sr.closed_at, sr.status,
               note.public_note, sr.channel, st.name, st."group", sr.description, d.name,
               sr.address, st.sensitive_location,
               CASE WHEN st.sensitive_location THEN round(ST_Y(sr.location)::numeric, %(decimals)s)
                    ELSE ST_Y(sr.location)::numeric END,
               CASE WHEN st.sensitive_location THEN round(ST_X(sr.location)::numeric, %(decimals)s)
                    ELSE ST_X(sr.location)::numeric END,
               sr.supporters_count
        FROM {SR} sr
        JOIN {SERVICE_TYPES} st ON st.id = sr.service_type_id
        JOIN {DEPARTMENTS} d ON d.id = st.department_id
        LEFT JOIN LATERAL (
            SELECT e.public_note FROM {EVENTS} e
            WHERE e.service_request_id = sr.id AND e.kind = {literal(EventKind.STATUS_CHANGED)}
              AND e.public_note <> ''
            ORDER BY e.created_at DESC, e.id DESC LIMIT 1) note ON true
        WHERE {" AND ".join(where)}
        ORDER BY sr.id LIMIT %(batch)s"""
    while True:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            batch = cursor.fetchall()
        for r in batch:
            sensitive = bool(r[13])
            yield {
                "service_request_id": r[1],
                "requested_datetime": _iso(r[2]),
                "updated_datetime": _iso(r[3]),
                "closed_date": _iso(r[4]),
                # GeoReport's two words, not the request's status.
                "status_description": "closed" if r[5] == Status.CLOSED else "open",
                "status_notes": scrub(r[6] or ""),
                "source": r[7],
                "service_name": r[8],
                "service_subtype": r[9] or "",
                "description": scrub(r[10] or ""),
                "agency_responsible": r[11],
                "address": street_only(r[12]) if sensitive else r[12],
                "lat": None if r[14] is None else float(r[14]),
                "long": None if r[15] is None else float(r[15]),
                "supporters": r[16],
            }
        if len(batch) < BATCH:
            return
        params["after"] = batch[-1][0]


def csv_stream(rows: Iterable[OpenDataRow]) -> Iterator[str]:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for i, row in enumerate(rows, 1):
        writer.writerow({k: "" if v is None else csv_cell(v) for k, v in row.items()})
        if i % 500 == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def geojson_stream(rows: Iterable[OpenDataRow]) -> Iterator[str]:
    yield '{"type": "FeatureCollection", "features": ['
    first = True
    for row in rows:
        geometry = None
        if row["lat"] is not None and row["long"] is not None:
            geometry = {"type": "Point", "coordinates": [row["long"], row["lat"]]}
        properties = {k: v for k, v in row.items() if k not in ("lat", "long")}
        feature = {"type": "Feature", "geometry": geometry, "properties": properties}
        yield ("" if first else ",") + json.dumps(feature)
        first = False
    yield "]}"


def services_sla() -> list[ServiceSLA]:
    """Each active service's published SLA (its turnaround) and department."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT st.service_code, st.name, d.name, st.turnaround_hours,
                      st.turnaround_business_hours
               FROM {SERVICE_TYPES} st JOIN {DEPARTMENTS} d ON d.id = st.department_id
               WHERE st.active ORDER BY st.service_code"""
        )
        return [
            {
                "service_code": r[0],
                "service_name": r[1],
                "agency_responsible": r[2],
                "sla_hours": r[3],
                "sla_counts": "business hours" if r[4] else "calendar hours",
            }
            for r in cursor.fetchall()
        ]


def csv_table(rows: Sequence[Mapping[str, Any]]) -> Iterator[str]:
    out = io.StringIO()
    if rows:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(csv_row(row) for row in rows)
    yield out.getvalue()
