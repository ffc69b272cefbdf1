"""Reads behind the Open311 answers. Public reads only: no reporter, no contact data, no
internal notes ever leave these functions.

The request list is built for a table of millions of rows: one query for the page of requests
(``.values()``, no model instances) that the indexes on ``requested_at``/``updated_at``, the
GiST index on ``location`` and the full-text index ``sr_search`` serve. The latest public note
and the first photo come from correlated subqueries, which PostgreSQL evaluates only for the
rows of the page, and the datetimes arrive formatted (W3C, the city's zone) from the
database: no datetime objects are built for a page of 1000."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.gis.geos import Polygon
from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db.models import (
    CharField,
    F,
    FloatField,
    Func,
    Model,
    OuterRef,
    QuerySet,
    Subquery,
)

from backend.catalog.models import ServiceType
from backend.open311.errors import Open311Error
from backend.open311.models import ApiKey, IntakeToken
from backend.open311.parameters import RequestQuery, UpdatesQuery
from backend.photos.models import Photo, PhotoKind, ProcessingState
from backend.service_requests.models import (
    OPEN_STATUSES,
    CommentState,
    EventKind,
    ResidentComment,
    ServiceRequest,
    ServiceRequestEvent,
    Status,
)
from backend.service_requests.selectors import public_events

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class ServiceInfo:
    code: str
    name: str
    agency: str
    sensitive_location: bool
    turnaround_hours: int
    business_hours: bool


def service_info(service_type: ServiceType, *, language: str) -> ServiceInfo:
    return ServiceInfo(
        code=service_type.service_code,
        name=service_type.localized_name(language),
        agency=service_type.department.name,
        sensitive_location=service_type.sensitive_location,
        turnaround_hours=service_type.turnaround_hours,
        business_hours=service_type.turnaround_business_hours,
    )


def service_index(*, language: str) -> dict[int, ServiceInfo]:
    """Every service, active or not (old requests keep their service), by primary key."""
    return {
        st.pk: service_info(st, language=language)
        for st in ServiceType.objects.select_related("department")
    }


class _Y(Func):
    function = "ST_Y"
    output_field = FloatField()


class _X(Func):
    function = "ST_X"
    output_field = FloatField()


class W3CDateTime(Func):
    """A timestamptz as ``2026-01-01T09:30:00-05:00`` in the given zone, seconds truncated
    (what ``serializers.datetime_out`` gives in Python)."""

    output_field = CharField()
    template = (
        "CASE WHEN %(expressions)s IS NULL THEN NULL ELSE "
        "to_char(%(expressions)s AT TIME ZONE %(zone)s, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        "CASE WHEN (%(expressions)s AT TIME ZONE %(zone)s) < (%(expressions)s AT TIME ZONE 'UTC')"
        " THEN '-' || to_char((%(expressions)s AT TIME ZONE 'UTC')"
        " - (%(expressions)s AT TIME ZONE %(zone)s), 'HH24:MI')"
        " ELSE '+' || to_char((%(expressions)s AT TIME ZONE %(zone)s)"
        " - (%(expressions)s AT TIME ZONE 'UTC'), 'HH24:MI') END END"
    )

    def __init__(self, expression: Any, *, zone: str) -> None:
        if not zone.replace("/", "").replace("_", "").replace("-", "").replace("+", "").isalnum():
            raise ValueError(f"Not a time zone name: {zone!r}")
        super().__init__(expression, zone=f"'{zone}'")


REQUEST_COLUMNS = (
    "id",
    "public_id",
    "service_type_id",
    "status",
    "description",
    "address",
    "media_url",
)
EXTENSION_COLUMNS = (
    "channel",
    "close_reason",
    "duplicate_of__public_id",
    "duplicate_of__hidden_at",
    "supporters_count",
)


def search_vector() -> SearchVector:
    """The expression of the ``sr_search`` index (backend/service_requests/models.py)."""
    return SearchVector("description", "address", config="simple")


def _filtered(query: RequestQuery, services: dict[int, ServiceInfo]) -> QuerySet[ServiceRequest]:
    qs = ServiceRequest.objects.visible()
    if query.ids is not None:
        return qs.filter(public_id__in=query.ids).order_by("-requested_at", "-id")
    if query.service_codes:
        by_code = {info.code: pk for pk, info in services.items()}
        unknown = [code for code in query.service_codes if code not in by_code]
        if unknown:
            raise Open311Error(
                {"service_code": [f"There is no service {code!r}." for code in unknown]},
                status=404,
            )
        qs = qs.filter(service_type_id__in=[by_code[code] for code in query.service_codes])
    if query.requested_window is not None:
        start, end = query.requested_window
        qs = qs.filter(requested_at__gte=start, requested_at__lte=end)
    if query.open_only is True:
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif query.open_only is False:
        qs = qs.filter(status=Status.CLOSED)
    if query.updated_after is not None:
        qs = qs.filter(updated_at__gt=query.updated_after)
    if query.updated_before is not None:
        qs = qs.filter(updated_at__lt=query.updated_before)
    if query.bbox is not None:
        qs = qs.filter(location__coveredby=Polygon.from_bbox(query.bbox))
    if query.q:
        qs = qs.annotate(search=search_vector()).filter(
            search=SearchQuery(query.q, config="simple", search_type="websearch")
        )
    if query.requested_window is None and (query.updated_after or query.updated_before):
        return qs.order_by("-updated_at", "-id")
    return qs.order_by("-requested_at", "-id")


@dataclass
class RequestPage:
    """Rows carry the columns above and ``lat``, ``long``, ``status_notes`` (the latest public
    note), ``display_photo`` (storage name of the first ready report photo) and the
    datetimes ``requested``, ``updated``, ``expected`` as W3C strings."""

    rows: list[dict[str, Any]]
    services: dict[int, ServiceInfo]
    # With extensions only:
    photos: dict[int, list[Photo]] | None = None
    events: dict[int, list[ServiceRequestEvent]] | None = None


def open311_requests_find(*, query: RequestQuery, language: str) -> RequestPage:
    services = service_index(language=language)
    columns = REQUEST_COLUMNS + (EXTENSION_COLUMNS if query.extensions else ())
    zone = settings.TIME_ZONE
    latest_note = (
        ServiceRequestEvent.objects.filter(service_request_id=OuterRef("pk"))
        .exclude(public_note="")
        .order_by("-created_at", "-id")
        .values("public_note")[:1]
    )
    first_photo = (
        Photo.objects.filter(
            service_request_id=OuterRef("pk"), state=ProcessingState.READY, kind=PhotoKind.REPORT
        )
        .order_by("created_at", "id")
        .values("display")[:1]
    )
    qs = _filtered(query, services).annotate(
        lat=_Y(F("location")),
        long=_X(F("location")),
        status_notes=Subquery(latest_note),
        display_photo=Subquery(first_photo),
        requested=W3CDateTime(F("requested_at"), zone=zone),
        updated=W3CDateTime(F("updated_at"), zone=zone),
        expected=W3CDateTime(F("expected_at"), zone=zone),
    )
    rows = list(
        qs.values(
            *columns,
            "lat",
            "long",
            "status_notes",
            "display_photo",
            "requested",
            "updated",
            "expected",
        )[query.offset : query.offset + query.limit]
    )
    for row in rows:
        # The original of a duplicate, unless moderation hid it: then it does not exist.
        if row.pop("duplicate_of__hidden_at", None) is not None:
            row["duplicate_of__public_id"] = None
    page = RequestPage(rows=rows, services=services)
    ids = [row["id"] for row in rows]
    if query.extensions and ids:
        page.photos = ready_photos(ids=ids)
        page.events = public_event_lists(ids=ids)
    return page


def ready_photos(*, ids: list[int]) -> dict[int, list[Photo]]:
    found: dict[int, list[Photo]] = defaultdict(list)
    for photo in Photo.objects.filter(
        service_request_id__in=ids, state=ProcessingState.READY
    ).order_by("created_at", "id"):
        found[photo.service_request_id].append(photo)
    return found


def public_event_lists(*, ids: list[int]) -> dict[int, list[ServiceRequestEvent]]:
    found: dict[int, list[ServiceRequestEvent]] = defaultdict(list)
    events = public_events(ServiceRequestEvent.objects.filter(service_request_id__in=ids))
    for event in events.order_by("created_at", "id"):
        found[event.service_request_id].append(event)
    return found


def _in_window(rows: QuerySet[M], *, at: str, query: UpdatesQuery) -> QuerySet[M]:
    """The rows of visible requests whose ``at`` falls in the query's window, oldest first."""
    return rows.filter(
        **{f"{at}__gte": query.start, f"{at}__lte": query.end},
        service_request__in=ServiceRequest.objects.visible(),
    ).order_by(at, "id")


def request_updates_find(*, query: UpdatesQuery) -> list[dict[str, Any]]:
    """Status changes (and the creation) of requests in the window, and the residents'
    comments published in it, oldest first: FixMyStreet pulls these as ``request_update``
    items. A comment's row has ``comment_id`` (and ``id`` None) and the request's status."""
    events = _in_window(
        ServiceRequestEvent.objects.filter(kind__in=[EventKind.CREATED, EventKind.STATUS_CHANGED]),
        at="created_at",
        query=query,
    ).values(
        "id",
        "service_request__public_id",
        "kind",
        "from_status",
        "to_status",
        "close_reason",
        "public_note",
        "created_at",
    )
    # Residents' comments staff have published, at the time they were published (a poller's
    # window sees them then): their text only, never who wrote them.
    comments = list(
        _in_window(
            ResidentComment.objects.filter(state=CommentState.PUBLISHED),
            at="moderated_at",
            query=query,
        ).values(
            "id",
            "service_request__public_id",
            "service_request__status",
            "service_request__close_reason",
            "text",
            "moderated_at",
        )[: query.offset + query.limit]
    )
    if not comments:
        return [dict(row) for row in events[query.offset : query.offset + query.limit]]
    # Both lists are in time order: merge their heads and page the merged list.
    merged: list[dict[str, Any]] = [dict(row) for row in events[: query.offset + query.limit]]
    merged += [
        {
            "id": None,
            "comment_id": row["id"],
            "service_request__public_id": row["service_request__public_id"],
            "kind": "comment",
            "from_status": row["service_request__status"],
            "to_status": row["service_request__status"],
            "close_reason": row["service_request__close_reason"],
            "public_note": row["text"],
            "created_at": row["moderated_at"],
        }
        for row in comments
    ]
    merged.sort(key=lambda row: row["created_at"])
    return merged[query.offset : query.offset + query.limit]


def intake_token_get(*, token: str) -> IntakeToken | None:
    return IntakeToken.objects.select_related("service_request").filter(token=token).first()


def api_key_list() -> QuerySet[ApiKey]:
    return ApiKey.objects.order_by("name")
