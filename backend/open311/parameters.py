"""The query parameters of the GET endpoints, parsed and checked. Every wrong parameter is
reported (``Open311Error``, 400, one message per field), never a 500."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from backend.intake.validation import contact_check, media_url_check
from backend.open311.errors import Errors, Open311Error

SPAN_MAX = timedelta(days=90)
LIMIT_DEFAULT = 1000  # GeoReport v2: at most 1000 requests unless paged
PAGE_SIZE_DEFAULT = 50  # Chicago's paging extension
PAGE_SIZE_MAX = 500
IDS_MAX = 1000
Q_MAX = 200
UPDATES_DEFAULT_WINDOW = timedelta(hours=24)
# "+05:00" in a query string that was not percent-encoded arrives as " 05:00".
_SPACE_OFFSET = re.compile(r"^(.*\d) (\d\d(?::?\d\d)?)$")
_TRUE = {"true", "1", "yes"}
_FALSE = {"false", "0", "no", ""}


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def jurisdiction_check(params: Mapping[str, str]) -> None:
    """``jurisdiction_id`` may be absent or empty; any other value than ours is a 404."""
    value = (params.get("jurisdiction_id") or "").strip()
    if value and value != settings.OPEN311_JURISDICTION_ID:
        raise Open311Error(
            {"jurisdiction_id": [f"This server serves only {settings.OPEN311_JURISDICTION_ID!r}."]},
            status=404,
        )


def datetime_parse(raw: str) -> datetime | None:
    """A W3C date-time (``2026-01-01T09:30:00-05:00``, ``...Z``) or a date. A value without a
    time zone is the city's local time. None when it cannot be read."""
    value = raw.strip()
    if not value:
        return None
    fixed = _SPACE_OFFSET.match(value)
    if fixed and "T" in value:
        value = f"{fixed[1]}+{fixed[2]}"
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            if day is None:
                return None
            parsed = datetime.combine(day, time.min)
    except ValueError:  # well-formed but impossible, e.g. 2026-02-30 or +25:00
        return None
    if parsed.tzinfo is None:
        parsed = timezone.make_aware(parsed)
    if not 1900 <= parsed.year <= 9998:
        return None
    # In UTC: PostgreSQL refuses offsets beyond ±15:59 that Python accepts (+23:48).
    return parsed.astimezone(UTC)


def _datetime(params: Mapping[str, str], name: str, errors: Errors) -> datetime | None:
    raw = params.get(name) or ""
    if not raw.strip():
        return None
    parsed = datetime_parse(raw)
    if parsed is None:
        _add(errors, name, "Use a W3C date-time such as 2026-01-01T09:30:00-05:00.")
    return parsed


def _comma_list(raw: str | None) -> list[str]:
    return [item.strip() for item in (raw or "").split(",") if item.strip()]


def _positive_int(
    params: Mapping[str, str], name: str, errors: Errors, *, maximum: int | None = None
) -> int | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) < 1:
        _add(errors, name, "Must be a whole number of at least 1.")
        return None
    value = int(raw)
    if maximum is not None and value > maximum:
        _add(errors, name, f"Must be at most {maximum}.")
        return None
    if value > 10**6:
        _add(errors, name, "Must be at most 1000000.")
        return None
    return value


def flag_parse(params: Mapping[str, str], name: str, errors: Errors) -> bool:
    raw = (params.get(name) or "").strip().lower()
    if raw in _TRUE:
        return True
    if raw not in _FALSE:
        _add(errors, name, "Must be true or false.")
    return False


def _window(
    start: datetime | None,
    end: datetime | None,
    *,
    now: datetime,
    default: timedelta,
    errors: Errors,
) -> tuple[datetime, datetime] | None:
    """The ``start_date`` to ``end_date`` window: ``default`` long up to now when neither is
    given, ``default`` (at most 90 days) from the one given; an error on ``end_date`` when
    it is before the start or the window spans more than 90 days."""
    if start is None and end is None:
        return now - default, now
    if start is None:
        assert end is not None
        start = end - min(default, SPAN_MAX)
    if end is None:
        end = start + min(default, SPAN_MAX)
    if start > end:
        _add(errors, "end_date", "end_date is before start_date.")
        return None
    if end - start > SPAN_MAX:
        _add(errors, "end_date", "start_date to end_date may span at most 90 days.")
        return None
    return start, end


@dataclass(frozen=True)
class Paging:
    offset: int
    limit: int


def _paging(params: Mapping[str, str], errors: Errors) -> Paging:
    page = _positive_int(params, "page", errors)
    page_size = _positive_int(params, "page_size", errors, maximum=PAGE_SIZE_MAX)
    if page is None and page_size is None:
        return Paging(offset=0, limit=LIMIT_DEFAULT)
    size = page_size or PAGE_SIZE_DEFAULT
    return Paging(offset=((page or 1) - 1) * size, limit=size)


@dataclass(frozen=True)
class RequestQuery:
    """What GET requests asks for. ``ids`` set means only those (the other filters are
    ignored, as the spec says)."""

    ids: tuple[str, ...] | None = None
    service_codes: tuple[str, ...] = ()
    requested_window: tuple[datetime, datetime] | None = None
    open_only: bool | None = None  # True: open, False: closed, None: both
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None
    q: str = ""
    offset: int = 0
    limit: int = LIMIT_DEFAULT
    extensions: bool = False


def _bbox(raw: str, errors: Errors) -> tuple[float, float, float, float] | None:
    parts = raw.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) != 4 or not all(math.isfinite(n) for n in numbers):
        _add(errors, "bbox", "Use bbox=minLng,minLat,maxLng,maxLat in decimal degrees.")
        return None
    min_lng, min_lat, max_lng, max_lat = numbers
    if not (-180 <= min_lng < max_lng <= 180 and -90 <= min_lat < max_lat <= 90):
        _add(
            errors, "bbox", "Need -180 <= minLng < maxLng <= 180 and -90 <= minLat < maxLat <= 90."
        )
        return None
    return min_lng, min_lat, max_lng, max_lat


def requests_query_parse(params: Mapping[str, str], *, now: datetime | None = None) -> RequestQuery:
    jurisdiction_check(params)
    errors: Errors = {}
    now = now or timezone.now()
    extensions = flag_parse(params, "extensions", errors)
    ids = _comma_list(params.get("service_request_id"))
    if ids:
        if len(ids) > IDS_MAX:
            _add(errors, "service_request_id", f"At most {IDS_MAX} ids at once.")
        if errors:
            raise Open311Error(errors)
        return RequestQuery(ids=tuple(dict.fromkeys(ids)), extensions=extensions)

    codes = _comma_list(params.get("service_code"))
    statuses = {s.lower() for s in _comma_list(params.get("status"))}
    if statuses - {"open", "closed"}:
        _add(errors, "status", "Use open, closed or open,closed.")
    open_only = None if len(statuses) != 1 or statuses - {"open", "closed"} else "open" in statuses
    start = _datetime(params, "start_date", errors)
    end = _datetime(params, "end_date", errors)
    updated_after = _datetime(params, "updated_after", errors)
    updated_before = _datetime(params, "updated_before", errors)
    if updated_after and updated_before and updated_after > updated_before:
        _add(errors, "updated_before", "updated_before is before updated_after.")
    window = None
    if not ("start_date" in errors or "end_date" in errors):
        if start is None and end is None and (updated_after or updated_before):
            window = None  # a sync client polling by update time: no requested-date window
        else:
            window = _window(start, end, now=now, default=SPAN_MAX, errors=errors)
    bbox_raw = (params.get("bbox") or "").strip()
    bbox = _bbox(bbox_raw, errors) if bbox_raw else None
    q = (params.get("q") or "").strip()
    if len(q) > Q_MAX:
        _add(errors, "q", f"At most {Q_MAX} characters.")
    paging = _paging(params, errors)
    if errors:
        raise Open311Error(errors)
    return RequestQuery(
        service_codes=tuple(dict.fromkeys(codes)),
        requested_window=window,
        open_only=open_only,
        updated_after=updated_after,
        updated_before=updated_before,
        bbox=bbox,
        q=q,
        offset=paging.offset,
        limit=paging.limit,
        extensions=extensions,
    )


@dataclass(frozen=True)
class UpdatesQuery:
    start: datetime
    end: datetime
    offset: int
    limit: int


def updates_query_parse(params: Mapping[str, str], *, now: datetime | None = None) -> UpdatesQuery:
    """FixMyStreet's ``servicerequestupdates``: ``start_date``/``end_date`` of the updates
    (default: the last 24 hours; at most 90 days)."""
    jurisdiction_check(params)
    errors: Errors = {}
    now = now or timezone.now()
    start = _datetime(params, "start_date", errors)
    end = _datetime(params, "end_date", errors)
    window = None
    if not errors:
        window = _window(start, end, now=now, default=UPDATES_DEFAULT_WINDOW, errors=errors)
    paging = _paging(params, errors)
    if errors or window is None:
        raise Open311Error(errors)
    return UpdatesQuery(start=window[0], end=window[1], offset=paging.offset, limit=paging.limit)


# --- POST servicerequestupdates: a partner's resident update (FixMyStreet's parameters)

# FixMyStreet's statuses (its extended ones included), upper-cased, by what they claim.
UPDATE_STATUSES_FIXED = frozenset(
    {
        "CLOSED",
        "FIXED",
        "DUPLICATE",
        "NOT_COUNCILS_RESPONSIBILITY",
        "NO_FURTHER_ACTION",
        "INTERNAL_REFERRAL",
        "UNABLE_TO_FIX",
        "CANCELLED",
    }
)
UPDATE_STATUSES_NOT_FIXED = frozenset({"OPEN", "REOPEN"})
UPDATE_STATUSES_COMMENT = frozenset(
    {"IN_PROGRESS", "ACTION_SCHEDULED", "INVESTIGATING", "PLANNED", "FOR_TRIAGE"}
)
UPDATE_STATUSES = UPDATE_STATUSES_FIXED | UPDATE_STATUSES_NOT_FIXED | UPDATE_STATUSES_COMMENT
UPDATE_ID_MAX = 100
UPDATE_TEXT_MAX = 4000
UPDATE_NAME_MAX = 200


@dataclass(frozen=True)
class PartnerUpdateIn:
    """A POST ``servicerequestupdates``, checked: every value within bounds."""

    service_request_id: str
    update_id: str
    status: str  # upper case, one of UPDATE_STATUSES
    description: str
    updated_at: datetime | None
    media_url: str
    author_name: str
    author_email: str


def partner_update_parse(params: Mapping[str, str]) -> PartnerUpdateIn:
    """Checks every parameter and reports every wrong one at once (400). Unknown
    parameters (FixMyStreet's ``account_id``, ``service_code``...) are ignored."""
    errors: Errors = {}

    def text(name: str) -> str:
        value = params.get(name)
        if not isinstance(value, str):
            return ""
        if "\x00" in value:
            _add(errors, name, "Remove the NUL characters.")
            return ""
        return value.strip()

    service_request_id = text("service_request_id")
    if not service_request_id:
        _add(errors, "service_request_id", "A service_request_id is required.")
    update_id = text("update_id")
    if not update_id:
        _add(errors, "update_id", "An update_id (your own id of the update) is required.")
    elif len(update_id) > UPDATE_ID_MAX:
        _add(errors, "update_id", f"At most {UPDATE_ID_MAX} characters.")
    status = text("status").upper()
    if status not in UPDATE_STATUSES:
        _add(errors, "status", "Use one of " + ", ".join(sorted(UPDATE_STATUSES)) + ".")
    description = text("description")
    if len(description) > UPDATE_TEXT_MAX:
        _add(errors, "description", f"At most {UPDATE_TEXT_MAX} characters.")
    media_url = text("media_url")
    media_url_check(media_url=media_url, errors=errors)  # a reference: never fetched
    if not description and not media_url and "description" not in errors:
        _add(errors, "description", "A description is required.")
    updated_at = _datetime(params, "updated_datetime", errors)
    name = " ".join(part for part in (text("first_name"), text("last_name")) if part)
    if len(name) > UPDATE_NAME_MAX:
        _add(
            errors, "last_name", f"first_name and last_name: at most {UPDATE_NAME_MAX} characters."
        )
    email = text("email")
    contact_check(name="", email=email, phone="", errors=errors)
    if errors:
        raise Open311Error(errors)
    return PartnerUpdateIn(
        service_request_id=service_request_id,
        update_id=update_id,
        status=status,
        description=description,
        updated_at=updated_at,
        media_url=media_url,
        author_name=name,
        author_email=email,
    )
