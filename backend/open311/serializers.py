"""The shapes of Open311 answers.

Answers are built by the plain functions below (``*_data``): a list of 1000 requests is built
from database rows in a few milliseconds, which DRF's field machinery cannot do. The DRF
serializers further down describe the same shapes for the OpenAPI document; tests check every
answer against that document and against the community JSON Schemas. Shapes only: no
business logic here.

Conventions (docs/open311.md): ids and codes are strings; datetimes are W3C date-times in the
city's time zone without fractions; a missing value is ``null`` in JSON and a left-out element
in XML; reporter name, e-mail and phone never appear."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.core.files.storage import default_storage
from django.utils import timezone
from rest_framework import serializers

from backend.catalog.models import AttributeDatatype, ServiceAttribute, ServiceType
from backend.open311.parameters import UPDATE_STATUSES
from backend.open311.selectors import RequestPage, ServiceInfo
from backend.photos.models import Photo
from backend.service_requests.models import (
    CloseReason,
    EventKind,
    ServiceRequestEvent,
    Status,
)

SPECIFICATION_URL = "http://wiki.open311.org/GeoReport_v2"
UrlBuilder = Callable[[str], str]


def datetime_out(value: datetime | None) -> str | None:
    """The city's local time, seconds truncated (``selectors.W3CDateTime`` in SQL)."""
    if value is None:
        return None
    return timezone.localtime(value).replace(microsecond=0).isoformat()


def _text(value: str | None) -> str | None:
    return value if value else None


def service_notice(info: ServiceInfo) -> str:
    unit = "business hours" if info.business_hours else "hours"
    return f"{info.agency} aims to handle this within {info.turnaround_hours} {unit}."


# --- Services


def service_data(service: ServiceType, *, language: str) -> dict[str, Any]:
    return {
        "service_code": service.service_code,
        "service_name": service.localized_name(language),
        "description": _text(service.localized_description(language)),
        "metadata": any(a.variable for a in service.attributes.all()),
        "type": "realtime",
        "keywords": _text(", ".join(str(k) for k in service.keywords)),
        "group": _text(service.group),
    }


def _attribute_data(attribute: ServiceAttribute, *, language: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "variable": attribute.variable,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": _text(attribute.datatype_description),
        "order": attribute.order,
        "description": attribute.localized_description(language),
    }
    if attribute.datatype in (AttributeDatatype.SINGLEVALUELIST, AttributeDatatype.MULTIVALUELIST):
        data["values"] = [
            {
                "key": str(value["key"]),
                "name": str(
                    (value.get("name_i18n") or {}).get(language)
                    or value.get("name")
                    or value["key"]
                ),
            }
            for value in attribute.values
        ]
    return data


def service_definition_data(service: ServiceType, *, language: str) -> dict[str, Any]:
    return {
        "service_code": service.service_code,
        "attributes": [
            _attribute_data(a, language=language)
            for a in sorted(service.attributes.all(), key=lambda a: (a.order, a.code))
        ],
    }


# --- Requests


def _coordinate(value: float | None, *, rounded: bool) -> float | None:
    if value is None:
        return None
    # Sensitive services (e.g. rodents at a home) show an area, not a house: ~100 m.
    return round(value, 3) if rounded else value


def _photo_data(photo: Photo, *, absolute: UrlBuilder, index: int) -> dict[str, Any]:
    width: int | None
    height: int | None
    try:  # read from the image's header; a file gone missing must not fail the list
        width, height = photo.display.width, photo.display.height
    except (OSError, ValueError):
        width = height = None
    return {
        "media_url": absolute(default_storage.url(photo.display.name)),
        "title": f"Photo {index}" if photo.kind == "report" else f"Proof of work {index}",
        "width": width,
        "height": height,
        "created_at": datetime_out(photo.processed_at or photo.created_at),
    }


def _note_data(event: ServiceRequestEvent) -> dict[str, Any]:
    return {
        "datetime": datetime_out(event.created_at),
        "type": event.kind,
        "summary": event_summary(
            kind=event.kind,
            from_status=event.from_status,
            to_status=event.to_status,
            close_reason=event.close_reason,
        ),
        "description": _text(event.public_note),
    }


def event_summary(*, kind: str, from_status: str, to_status: str, close_reason: str) -> str:
    if kind == EventKind.CREATED:
        return "Request received"
    if kind == EventKind.NOTE:
        return "Note"
    if to_status == Status.CLOSED:
        return f"Closed: {CloseReason(close_reason).label}" if close_reason else "Closed"
    if from_status == Status.CLOSED:
        return "Reopened"
    return f"Status changed to {Status(to_status).label}" if to_status else "Status changed"


def request_list_data(page: RequestPage, *, absolute: UrlBuilder) -> list[dict[str, Any]]:
    services = page.services
    out = []
    for row in page.rows:
        pk = row["id"]
        info = services[row["service_type_id"]]
        rounded = info.sensitive_location
        photo = row["display_photo"]
        if photo:
            media_url: str | None = absolute(default_storage.url(photo))
        else:
            media_url = row["media_url"] or None
        data = {
            "service_request_id": row["public_id"],
            "status": "closed" if row["status"] == Status.CLOSED else "open",
            "status_notes": row["status_notes"] or None,
            "service_name": info.name,
            "service_code": info.code,
            "description": _text(row["description"]),
            "agency_responsible": info.agency,
            "service_notice": service_notice(info),
            "requested_datetime": row["requested"],
            "updated_datetime": row["updated"],
            "expected_datetime": row["expected"],
            "address": _text(row["address"]),
            "address_id": None,
            "zipcode": None,
            "lat": _coordinate(row["lat"], rounded=rounded),
            "long": _coordinate(row["long"], rounded=rounded),
            "media_url": media_url,
        }
        if page.photos is not None and page.events is not None:
            photos = page.photos.get(pk, [])
            duplicate_of = row["duplicate_of__public_id"]
            data["extended_attributes"] = {
                "channel": row["channel"],
                "photos": [
                    _photo_data(p, absolute=absolute, index=i) for i, p in enumerate(photos, 1)
                ],
            }
            data["duplicate"] = duplicate_of
            data["parent_service_request_id"] = duplicate_of
            data["notes"] = [_note_data(e) for e in page.events.get(pk, [])]
            data["supporters"] = row["supporters_count"]
        out.append(data)
    return out


def request_filed_data(
    *, service_request_id: str | None, token: str | None, notice: str | None
) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if token is not None:
        data["token"] = token
    else:
        data["service_request_id"] = service_request_id
    data["service_notice"] = notice
    data["account_id"] = None
    return data


# --- FixMyStreet's update feed

# city311 status (and close reason) -> FixMyStreet's request_update status.
UPDATE_STATUS: dict[str, str] = {
    Status.SUBMITTED: "OPEN",
    Status.ACKNOWLEDGED: "ACTION_SCHEDULED",
    Status.IN_PROGRESS: "IN_PROGRESS",
}
CLOSED_UPDATE_STATUS: dict[str, str] = {
    CloseReason.RESOLVED: "FIXED",
    CloseReason.DUPLICATE: "DUPLICATE",
    CloseReason.NOT_CITY_RESPONSIBILITY: "NOT_COUNCILS_RESPONSIBILITY",
    CloseReason.CANNOT_LOCATE: "NO_FURTHER_ACTION",
    CloseReason.CANCELLED: "CANCELLED",
}


def update_status(*, from_status: str, to_status: str, close_reason: str) -> str:
    if to_status == Status.CLOSED:
        return CLOSED_UPDATE_STATUS.get(close_reason, "CLOSED")
    if from_status == Status.CLOSED:
        return "REOPEN"
    return UPDATE_STATUS.get(to_status, "OPEN")


def comment_update_id(comment_id: int) -> str:
    """city311's update id of a resident comment (a partner's posted update): its own
    namespace beside the events' ids."""
    return f"c{comment_id}"


def request_update_data(row: dict[str, Any]) -> dict[str, Any]:
    comment_id = row.get("comment_id")
    return {
        "update_id": comment_update_id(comment_id) if comment_id else str(row["id"]),
        "service_request_id": row["service_request__public_id"],
        "status": update_status(
            from_status=row["from_status"],
            to_status=row["to_status"],
            close_reason=row["close_reason"],
        ),
        "updated_datetime": datetime_out(row["created_at"]),
        "description": _text(row["public_note"]),
        "media_url": None,
    }


# --- Discovery


def discovery_data(*, endpoint_url: str, changeset: str, contact: str, production: bool) -> dict:
    return {
        "changeset": changeset,
        "contact": contact,
        "key_service": f"Ask for an API key: {contact}",
        "endpoints": [
            {
                "specification": SPECIFICATION_URL,
                "url": endpoint_url,
                "changeset": changeset,
                "type": "production" if production else "test",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }


# --- The shapes for the OpenAPI document


class Open311ServiceOut(serializers.Serializer):
    service_code = serializers.CharField()
    service_name = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    metadata = serializers.BooleanField(help_text="True: see the service definition")
    type = serializers.ChoiceField(choices=["realtime", "batch", "blackbox"])
    keywords = serializers.CharField(allow_null=True, help_text="Comma-separated")
    group = serializers.CharField(allow_null=True)


class Open311AttributeValueOut(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()


class Open311AttributeOut(serializers.Serializer):
    variable = serializers.BooleanField()
    code = serializers.CharField()
    datatype = serializers.ChoiceField(choices=AttributeDatatype.values)
    required = serializers.BooleanField()  # type: ignore[assignment]
    datatype_description = serializers.CharField(allow_null=True)
    order = serializers.IntegerField()
    description = serializers.CharField()
    values = Open311AttributeValueOut(many=True, required=False, help_text="List datatypes only")


class Open311ServiceDefinitionOut(serializers.Serializer):
    service_code = serializers.CharField()
    attributes = Open311AttributeOut(many=True)


class Open311PhotoOut(serializers.Serializer):
    media_url = serializers.URLField()
    title = serializers.CharField()
    width = serializers.IntegerField(allow_null=True)
    height = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()


class Open311NoteOut(serializers.Serializer):
    datetime = serializers.DateTimeField()
    type = serializers.ChoiceField(choices=EventKind.values)
    summary = serializers.CharField()
    description = serializers.CharField(allow_null=True)


class Open311ExtendedAttributesOut(serializers.Serializer):
    channel = serializers.CharField()
    photos = Open311PhotoOut(many=True)


class Open311RequestOut(serializers.Serializer):
    service_request_id = serializers.CharField()
    status = serializers.ChoiceField(choices=["open", "closed"])
    status_notes = serializers.CharField(allow_null=True, help_text="The latest public note")
    service_name = serializers.CharField(allow_null=True)
    service_code = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    agency_responsible = serializers.CharField(allow_null=True)
    service_notice = serializers.CharField(allow_null=True)
    requested_datetime = serializers.DateTimeField()
    updated_datetime = serializers.DateTimeField(allow_null=True)
    expected_datetime = serializers.DateTimeField(allow_null=True, help_text="The SLA due time")
    address = serializers.CharField(allow_null=True)
    address_id = serializers.CharField(allow_null=True)
    zipcode = serializers.CharField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    long = serializers.FloatField(allow_null=True)
    media_url = serializers.URLField(allow_null=True)
    extended_attributes = Open311ExtendedAttributesOut(required=False, help_text="extensions=true")
    duplicate = serializers.CharField(
        required=False, allow_null=True, help_text="extensions=true: the original request"
    )
    parent_service_request_id = serializers.CharField(
        required=False, allow_null=True, help_text="extensions=true"
    )
    notes = Open311NoteOut(many=True, required=False, help_text="extensions=true: public history")
    supporters = serializers.IntegerField(
        required=False, help_text='extensions=true: how many people reported this too ("me too")'
    )


class Open311RequestFiledOut(serializers.Serializer):
    service_request_id = serializers.CharField(required=False, help_text="Synchronous intake")
    token = serializers.CharField(required=False, help_text="Asynchronous intake")
    service_notice = serializers.CharField(allow_null=True)
    account_id = serializers.CharField(allow_null=True)


class Open311TokenOut(serializers.Serializer):
    service_request_id = serializers.CharField(allow_null=True, help_text="null while pending")
    token = serializers.CharField()


class Open311RequestUpdateOut(serializers.Serializer):
    update_id = serializers.CharField()
    service_request_id = serializers.CharField()
    status = serializers.ChoiceField(
        choices=sorted({*UPDATE_STATUS.values(), *CLOSED_UPDATE_STATUS.values(), "REOPEN"})
    )
    updated_datetime = serializers.DateTimeField()
    description = serializers.CharField(allow_null=True)
    media_url = serializers.URLField(allow_null=True)


class Open311RequestUpdateCreateIn(serializers.Serializer):
    """FixMyStreet's POST servicerequestupdates parameters."""

    api_key = serializers.CharField(help_text="A key given the updates permission")
    jurisdiction_id = serializers.CharField(required=False)
    service_request_id = serializers.CharField()
    update_id = serializers.CharField(help_text="The partner's own id of the update")
    status = serializers.ChoiceField(choices=sorted(UPDATE_STATUSES))
    description = serializers.CharField(required=False)
    updated_datetime = serializers.DateTimeField(required=False)
    media_url = serializers.URLField(required=False, help_text="Stored as a link, never fetched")
    first_name = serializers.CharField(required=False, help_text="Private")
    last_name = serializers.CharField(required=False, help_text="Private")
    email = serializers.EmailField(required=False, help_text="Private")


class Open311RequestUpdateFiledOut(serializers.Serializer):
    update_id = serializers.CharField(help_text="city311's id of the update")


class Open311EndpointOut(serializers.Serializer):
    specification = serializers.URLField()
    url = serializers.URLField()
    changeset = serializers.DateTimeField()
    type = serializers.ChoiceField(choices=["production", "test"])
    formats = serializers.ListField(child=serializers.CharField())


class Open311DiscoveryOut(serializers.Serializer):
    changeset = serializers.DateTimeField()
    contact = serializers.CharField()
    key_service = serializers.CharField()
    endpoints = Open311EndpointOut(many=True)


# --- Request parameters, for the OpenAPI document (backend/open311/parameters.py parses them)


class Open311JurisdictionQueryIn(serializers.Serializer):
    jurisdiction_id = serializers.CharField(
        required=False, help_text="Optional: this server serves one jurisdiction"
    )


class Open311RequestsQueryIn(Open311JurisdictionQueryIn):
    service_request_id = serializers.CharField(
        required=False, help_text="Comma-separated ids; overrides every other filter"
    )
    service_code = serializers.CharField(required=False, help_text="Comma-separated codes")
    start_date = serializers.DateTimeField(
        required=False, help_text="requested_datetime from (default: 90 days before end_date)"
    )
    end_date = serializers.DateTimeField(
        required=False, help_text="requested_datetime to (default: now); span at most 90 days"
    )
    status = serializers.CharField(required=False, help_text="open, closed or open,closed")
    page = serializers.IntegerField(required=False, min_value=1, help_text="Extension: paging")
    page_size = serializers.IntegerField(
        required=False, min_value=1, max_value=500, help_text="Extension: default 50"
    )
    updated_after = serializers.DateTimeField(required=False, help_text="Extension")
    updated_before = serializers.DateTimeField(required=False, help_text="Extension")
    bbox = serializers.CharField(required=False, help_text="Extension: minLng,minLat,maxLng,maxLat")
    q = serializers.CharField(required=False, help_text="Extension: full-text search")
    extensions = serializers.BooleanField(
        required=False, help_text="Extension: channel, photos, notes, duplicate, supporters"
    )


class Open311RequestQueryIn(Open311JurisdictionQueryIn):
    extensions = serializers.BooleanField(required=False, help_text="Extension")


class Open311UpdatesQueryIn(Open311JurisdictionQueryIn):
    start_date = serializers.DateTimeField(required=False, help_text="Default: 24 hours ago")
    end_date = serializers.DateTimeField(required=False, help_text="Default: now; span ≤ 90 days")
    page = serializers.IntegerField(required=False, min_value=1)
    page_size = serializers.IntegerField(required=False, min_value=1, max_value=500)


class Open311RequestCreateIn(serializers.Serializer):
    """The form fields of POST requests (``attribute[CODE]`` fields come on top; a multipart
    body may carry photos as ``media`` or ``photo1``..``photoN``)."""

    api_key = serializers.CharField()
    jurisdiction_id = serializers.CharField(required=False)
    service_code = serializers.CharField()
    lat = serializers.FloatField(required=False)
    long = serializers.FloatField(required=False)
    address_string = serializers.CharField(required=False)
    address_id = serializers.CharField(required=False)
    email = serializers.EmailField(required=False)
    device_id = serializers.CharField(required=False)
    account_id = serializers.CharField(required=False)
    first_name = serializers.CharField(required=False)
    last_name = serializers.CharField(required=False)
    phone = serializers.CharField(required=False)
    description = serializers.CharField(required=False, max_length=4000)
    media_url = serializers.URLField(required=False, max_length=1000)
    media = serializers.ImageField(required=False, help_text="Extension: a photo (multipart)")
