"""Writes to photos: attaching an upload to a request, and processing it."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from backend.photos.models import Photo, PhotoKind, ProcessingState
from backend.photos.processing import (
    ACCEPTED_FORMATS,
    PhotoRejected,
    UploadInfo,
    photo_render,
    upload_inspect,
)
from backend.service_requests.models import ServiceRequest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CheckedUpload:
    """An upload that passed the content checks, ready to attach."""

    data: bytes
    info: UploadInfo
    content_hash: str


def photo_upload_check(*, data: bytes) -> CheckedUpload:
    """Raises ``PhotoRejected`` with a message and an HTTP status for a bad upload."""
    info = upload_inspect(
        data, max_bytes=settings.PHOTO_MAX_BYTES, max_pixels=settings.PHOTO_MAX_PIXELS
    )
    return CheckedUpload(data=data, info=info, content_hash=hashlib.sha256(data).hexdigest())


def _raw_path(upload: CheckedUpload) -> Path:
    ext = ACCEPTED_FORMATS[upload.info.format]
    return Path(settings.PRIVATE_UPLOAD_ROOT) / upload.content_hash[:2] / f"{upload.content_hash}.{ext}"


def photo_attach(
    *, service_request: ServiceRequest, upload: CheckedUpload, kind: str = PhotoKind.REPORT
) -> tuple[Photo, bool]:
    """Attaches a checked upload; the same bytes twice on one request are one photo.

    The raw file waits in the private upload folder; processing is enqueued by the caller
    after its transaction commits (``photo_process_enqueue``)."""
    existing = Photo.objects.filter(
        service_request=service_request, content_hash=upload.content_hash
    ).first()
    if existing is not None:
        return existing, False
    path = _raw_path(upload)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_suffix(".part")
        tmp.write_bytes(upload.data)
        tmp.replace(path)
    photo = Photo.objects.create(
        service_request=service_request,
        kind=kind,
        content_hash=upload.content_hash,
        source_format=upload.info.format,
        width=upload.info.width,
        height=upload.info.height,
        byte_size=len(upload.data),
        raw_path=str(path.relative_to(settings.PRIVATE_UPLOAD_ROOT)),
    )
    return photo, True


def photo_process_enqueue(*, photo_ids: list[int]) -> None:
    """Queue processing once the surrounding transaction commits. If the broker is away the
    request still stands; the periodic sweep (``photos_process_pending``) picks it up."""
    from backend.photos.tasks import photo_process

    for photo_id in photo_ids:
        transaction.on_commit(lambda pid=photo_id: photo_process.delay(pid), robust=True)


def photo_process(*, photo_id: int) -> Photo | None:
    """Renders the stored variants once; a second run for a processed photo does nothing."""
    with transaction.atomic():
        photo = (
            Photo.objects.select_for_update(skip_locked=True)
            .filter(pk=photo_id, state=ProcessingState.PENDING)
            .first()
        )
        if photo is None:
            return None
        raw = Path(settings.PRIVATE_UPLOAD_ROOT) / photo.raw_path
        try:
            data = raw.read_bytes()
            rendered = photo_render(
                data,
                display_px=settings.PHOTO_DISPLAY_MAX_PX,
                thumbnail_px=settings.PHOTO_THUMBNAIL_MAX_PX,
                default_tz=settings.TIME_ZONE,
            )
        except (OSError, PhotoRejected, ValueError, SyntaxError) as exc:
            logger.warning("photo %s could not be processed: %s", photo.pk, exc)
            photo.state = ProcessingState.FAILED
            photo.failure_reason = str(exc)[:300]
            photo.save(update_fields=["state", "failure_reason"])
            return photo
        stem = photo.content_hash[:16]
        photo.display.save(f"{stem}.jpg", ContentFile(rendered.display_jpeg), save=False)
        photo.thumbnail.save(f"{stem}.jpg", ContentFile(rendered.thumbnail_jpeg), save=False)
        photo.exif_taken_at = rendered.taken_at
        photo.exif_location = Point(*rendered.gps, srid=4326) if rendered.gps else None
        photo.state = ProcessingState.READY
        photo.processed_at = timezone.now()
        photo.save(
            update_fields=[
                "display", "thumbnail", "exif_taken_at", "exif_location", "state", "processed_at"
            ]
        )
        shared = Photo.objects.filter(raw_path=photo.raw_path, state=ProcessingState.PENDING)
        if not shared.exclude(pk=photo.pk).exists():
            transaction.on_commit(lambda: raw.unlink(missing_ok=True))
    return photo
