"""``service_request_submit``: the one function every channel calls to file a request.

It validates against the catalog, looks for a likely duplicate, creates the request, its
first event and the department's work order in one transaction, and after commit queues the
photo processing and the receipt notification. A retried submission carrying the same
idempotency key returns the first request instead of creating a second one.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.auth.models import User as UserModel
from django.contrib.gis.geos import Point
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from backend.catalog.models import ServiceType
from backend.catalog.selectors import service_type_get_for_intake
from backend.errors import City311Error, ErrorCode
from backend.intake.validation import (
    Errors,
    add_error,
    attributes_check,
    contact_check,
    location_check,
    media_url_check,
    service_available_check,
    text_check,
)
from backend.outbox.services import outbox_batch
from backend.photos.processing import PhotoRejected
from backend.photos.services import (
    CheckedUpload,
    photo_attach,
    photo_process_enqueue,
    photo_upload_check,
)
from backend.service_requests.models import (
    OPEN_STATUSES,
    Channel,
    EventKind,
    ServiceRequest,
    visible_sql,
)
from backend.service_requests.notifications import service_request_receipt_enqueue
from backend.service_requests.services import service_request_event_create
from workorders.services import work_order_create
from workorders.sla import due_at_compute


class IntakeError(City311Error):
    """A submission that cannot be accepted. ``errors`` maps each wrong field to messages;
    ``status`` is the HTTP status that fits (400, or 404 for an unknown service, 413 for an
    oversized photo)."""

    def __init__(self, errors: Errors, *, status: int = 400) -> None:
        super().__init__(errors, status_code=status)


class IdempotencyConflict(City311Error):
    """The idempotency key was used before for a different submission (HTTP 422)."""

    code = ErrorCode.UNPROCESSABLE

    def __init__(self, service_request: ServiceRequest) -> None:
        self.service_request = service_request
        super().__init__(
            "This Idempotency-Key was already used for a different submission.",
            field="Idempotency-Key",
        )

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class PhotoUpload:
    data: bytes
    field: str = "photos"


@dataclass
class IntakeResult:
    service_request: ServiceRequest
    replayed: bool = False
    possible_duplicate: ServiceRequest | None = None
    duplicate_distance_m: float | None = None
    photo_ids: list[int] = field(default_factory=list)


def _fingerprint(payload: dict[str, Any], uploads: list[CheckedUpload]) -> str:
    body = dict(payload, photos=[u.content_hash for u in uploads])
    canonical = json.dumps(body, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _public_id(number: int, at: datetime) -> str:
    return f"SR-{timezone.localtime(at).year}-{number:06d}"


_NUMBER_SQL = "SELECT nextval('service_request_number_seq')"


# Hand-written because it runs on every submission: building the same query through the
# ORM's GIS lookups cost more than the database spent answering it (bench/intake.py). The
# degree box (ST_DWithin) surely holds the radius; ST_DistanceSphere decides. The inner
# query finds the open requests in the box through the partial GiST index sr_open_location
# (a few rows); OFFSET 0 keeps the planner from folding the type and time in and ANDing
# the (type, status, time) index, which read every open request of the type: 1.4-2 ms
# against 0.1 ms on bench/open311.py's million requests.
_DUPLICATE_SQL = f"""
SELECT id, public_id, status, requested_at,
       ST_DistanceSphere(location, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) AS distance_m
FROM (
  SELECT id, public_id, status, requested_at, location, service_type_id
  FROM {ServiceRequest._meta.db_table}
  WHERE status IN ({", ".join(f"'{status}'" for status in OPEN_STATUSES)})
    AND {visible_sql()}
    AND ST_DWithin(location, ST_SetSRID(ST_MakePoint(%s, %s), 4326), %s)
  OFFSET 0
) AS near
WHERE service_type_id = %s
  AND requested_at >= %s
  AND id <> %s
  AND ST_DistanceSphere(location, ST_SetSRID(ST_MakePoint(%s, %s), 4326)) <= %s
ORDER BY distance_m, id
LIMIT 1
"""  # noqa: S608 - only constants (table name, status values, the visible() condition)


def _duplicate_params(
    *, service_type: ServiceType, point: Point, at: datetime, exclude_pk: int | None
) -> list[Any]:
    radius = settings.DUPLICATE_RADIUS_M
    lat_deg = radius / 111_000
    lon_deg = radius / (111_000 * max(math.cos(math.radians(point.y)), 0.01))
    lon, lat = point.x, point.y
    since = at - timedelta(days=settings.DUPLICATE_WINDOW_DAYS)
    params: list[Any] = [lon, lat, lon, lat, max(lat_deg, lon_deg)]
    return [*params, service_type.pk, since, exclude_pk or 0, lon, lat, radius]


def duplicate_find(
    *, service_type: ServiceType, point: Point, at: datetime, exclude_pk: int | None = None
) -> tuple[ServiceRequest | None, float | None]:
    """The nearest open request of the same type within the radius and window, if any."""
    params = _duplicate_params(service_type=service_type, point=point, at=at, exclude_pk=exclude_pk)
    nearest = next(iter(ServiceRequest.objects.raw(_DUPLICATE_SQL, params)), None)
    if nearest is None:
        return None, None
    return nearest, float(nearest.distance_m)  # type: ignore[attr-defined]


# A new request's number and its duplicate check in one round trip (issue 18: a filing's
# statements are its cost). The same query as duplicate_find's, joined laterally to the
# sequence's next value: one row whatever the duplicate check finds.
_NUMBER_AND_DUPLICATE_SQL = f"""
SELECT nextval('service_request_number_seq'), d.id, d.public_id, d.status, d.requested_at,
       d.distance_m
FROM (SELECT 1) AS one LEFT JOIN LATERAL ({_DUPLICATE_SQL}) AS d ON true
"""  # noqa: S608 - only the constant query above


def _number_and_duplicate(
    *, service_type: ServiceType, point: Point | None, at: datetime
) -> tuple[int, ServiceRequest | None, float | None]:
    """The next request number, and (with a point) the nearest likely duplicate and its
    distance, as duplicate_find would answer: one statement."""
    with connection.cursor() as cursor:
        if point is None:
            cursor.execute(_NUMBER_SQL)
            (number,) = cursor.fetchone()
            return number, None, None
        params = _duplicate_params(service_type=service_type, point=point, at=at, exclude_pk=None)
        cursor.execute(_NUMBER_AND_DUPLICATE_SQL, params)
        number, pk, public_id, status, requested_at, distance = cursor.fetchone()
    if pk is None:
        return number, None, None
    duplicate = ServiceRequest.from_db(
        connection.alias,
        ["id", "public_id", "status", "requested_at"],
        [pk, public_id, status, requested_at],
    )
    return number, duplicate, float(distance)


def _replay(existing: ServiceRequest, fingerprint: str) -> IntakeResult:
    if existing.idempotency_fingerprint != fingerprint:
        raise IdempotencyConflict(existing)
    duplicate, distance = (None, None)
    if existing.location is not None:
        duplicate, distance = duplicate_find(
            service_type=existing.service_type,
            point=existing.location,
            at=existing.requested_at,
            exclude_pk=existing.pk,
        )
    return IntakeResult(
        service_request=existing,
        replayed=True,
        possible_duplicate=duplicate,
        duplicate_distance_m=distance,
        photo_ids=list(existing.photos.values_list("pk", flat=True)),
    )


def service_request_submit(
    *,
    service_code: str,
    channel: str,
    lat: Any = None,
    long: Any = None,
    address: str = "",
    description: str = "",
    attributes: Any = None,
    language: str = "en",
    reporter: AbstractBaseUser | AnonymousUser | None = None,
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    photos: list[PhotoUpload] | None = None,
    idempotency_key: str | None = None,
    actor: AbstractBaseUser | AnonymousUser | None = None,
    requested_at: datetime | None = None,
    media_url: str = "",
) -> IntakeResult:
    if channel not in Channel.values:
        raise ValueError(f"Unknown channel {channel!r}")
    errors: Errors = {}
    service_type = service_type_get_for_intake(service_code=str(service_code or ""))
    if service_type is None:
        add_error(errors, "service_code", f"There is no active service {service_code!r}.")
        raise IntakeError(errors, status=404 if service_code else 400)
    if not service_available_check(service_type=service_type, errors=errors):
        raise IntakeError(errors, status=404)
    address = (address or "").strip()
    description = description or ""
    point = location_check(
        lat=lat, long=long, address=address, service_type=service_type, errors=errors
    )
    cleaned_attributes = attributes_check(
        service_type=service_type, answers=attributes, errors=errors
    )
    text_check(description=description, address=address, errors=errors)
    contact_name, contact_email, contact_phone = (
        (contact_name or "").strip(),
        (contact_email or "").strip(),
        (contact_phone or "").strip(),
    )
    contact_check(name=contact_name, email=contact_email, phone=contact_phone, errors=errors)
    media_url = (media_url or "").strip()
    media_url_check(media_url=media_url, errors=errors)
    photos = photos or []
    if len(photos) > settings.PHOTO_MAX_PER_REQUEST:
        add_error(errors, "photos", f"At most {settings.PHOTO_MAX_PER_REQUEST} photos.")
    uploads: list[CheckedUpload] = []
    status = 400
    for index, upload in enumerate(photos[: settings.PHOTO_MAX_PER_REQUEST]):
        try:
            uploads.append(photo_upload_check(data=upload.data))
        except PhotoRejected as exc:
            add_error(errors, upload.field, f"Photo {index + 1}: {exc.message}")
            status = max(status, exc.status)
    if errors:
        raise IntakeError(errors, status=status)

    user = reporter if isinstance(reporter, UserModel) else None
    fingerprint = ""
    key = (idempotency_key or "").strip() or None
    if key is not None:
        if len(key) > 128:
            raise IntakeError({"Idempotency-Key": ["At most 128 characters."]})
        fingerprint = _fingerprint(
            {
                "service_code": service_type.service_code,
                "point": point.coords if point else None,
                "address": address,
                "description": description,
                "attributes": cleaned_attributes,
                "contact": [contact_name, contact_email, contact_phone],
                "reporter": user.pk if user else None,
                # Only when given: fingerprints of earlier requests stay valid.
                **({"media_url": media_url} if media_url else {}),
            },
            uploads,
        )
        existing = ServiceRequest.objects.filter(channel=channel, idempotency_key=key).first()
        if existing is not None:
            return _replay(existing, fingerprint)

    now = timezone.now()
    requested = requested_at or now
    try:
        with transaction.atomic(), outbox_batch():
            result = _create(
                service_type=service_type,
                channel=channel,
                point=point,
                address=address,
                description=description,
                attributes=cleaned_attributes,
                language=language,
                reporter=user,
                contact_name=contact_name,
                contact_email=contact_email,
                contact_phone=contact_phone,
                uploads=uploads,
                key=key,
                fingerprint=fingerprint,
                actor=actor if actor is not None else user,
                requested=requested,
                now=now,
                media_url=media_url,
            )
    except IntegrityError:
        if key is None:
            raise
        # A concurrent retry with the same key won the race: answer with its request.
        existing = ServiceRequest.objects.filter(channel=channel, idempotency_key=key).first()
        if existing is None:
            raise
        return _replay(existing, fingerprint)
    return result


def _create(
    *,
    service_type: ServiceType,
    channel: str,
    point: Point | None,
    address: str,
    description: str,
    attributes: dict[str, Any],
    language: str,
    reporter: UserModel | None,
    contact_name: str,
    contact_email: str,
    contact_phone: str,
    uploads: list[CheckedUpload],
    key: str | None,
    fingerprint: str,
    actor: AbstractBaseUser | AnonymousUser | None,
    requested: datetime,
    now: datetime,
    media_url: str = "",
) -> IntakeResult:
    number, duplicate, distance = _number_and_duplicate(
        service_type=service_type, point=point, at=requested
    )
    department = service_type.department
    expected_at = due_at_compute(
        start=requested,
        hours=service_type.turnaround_hours,
        business_hours=service_type.turnaround_business_hours,
        time_zone=department.time_zone,
    )
    service_request = ServiceRequest.objects.create(
        public_id=_public_id(number, requested),
        service_type=service_type,
        location=point,
        address=address,
        description=description,
        attributes=attributes,
        channel=channel,
        language=(language or "en")[:8],
        reporter=reporter,
        contact_name=contact_name,
        contact_email=contact_email,
        contact_phone=contact_phone,
        requested_at=requested,
        updated_at=now,
        expected_at=expected_at,
        priority=service_type.default_priority,
        idempotency_key=key,
        idempotency_fingerprint=fingerprint,
        media_url=media_url,
    )
    service_request_event_create(
        service_request=service_request,
        kind=EventKind.CREATED,
        actor=actor,
        channel=channel,
        to_status=service_request.status,
        public_note="Request received.",
        at=requested,
    )
    work_order_create(service_request=service_request, at=now)
    photo_ids = [
        photo.pk
        for photo, created in (
            photo_attach(service_request=service_request, upload=upload) for upload in uploads
        )
        if created
    ]
    photo_process_enqueue(photo_ids=photo_ids)
    service_request_receipt_enqueue(service_request=service_request)
    return IntakeResult(
        service_request=service_request,
        possible_duplicate=duplicate,
        duplicate_distance_m=distance,
        photo_ids=photo_ids,
    )
