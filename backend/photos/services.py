"""Writes to photos: attaching an upload to a request, processing it, and blurring part of
it (moderation)."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from backend.errors import City311Error, ErrorCode
from backend.outbox.services import outbox_task
from backend.photos.models import Photo, PhotoKind, ProcessingState
from backend.photos.processing import (
    ACCEPTED_FORMATS,
    Rendered,
    UploadInfo,
    blur_box,
    photo_blur_render,
    photo_render,
    upload_inspect,
)
from backend.service_requests.models import EventKind, ServiceRequest
from backend.service_requests.moderation import moderation_event_write, moderation_reason_check
from backend.users import Actor

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


def private_path(relative: str) -> Path:
    """Where a private upload lives (PRIVATE_UPLOAD_ROOT): never served."""
    return Path(settings.PRIVATE_UPLOAD_ROOT) / relative


def private_files_delete_on_commit(*, paths: list[str]) -> None:
    """Deletes these private files (relative to PRIVATE_UPLOAD_ROOT) once the current
    transaction commits: a rolled-back change keeps them."""

    def delete() -> None:
        for relative in paths:
            private_path(relative).unlink(missing_ok=True)

    if paths:
        transaction.on_commit(delete)


def private_file_write(path: Path, data: bytes) -> None:
    """Writes atomically under a unique temporary name: concurrent writers never collide and
    a reader never sees half a file. Owner-only permissions (mkstemp): raw uploads still
    carry their EXIF."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def photo_attach(
    *, service_request: ServiceRequest, upload: CheckedUpload, kind: str = PhotoKind.REPORT
) -> tuple[Photo, bool]:
    """Attaches a checked upload; the same bytes twice on one request are one photo.

    The raw file waits in the private upload folder, one file per photo; processing is
    enqueued by the caller after its transaction commits (``photo_process_enqueue``).
    Returns the photo and whether it was created."""
    if kind not in PhotoKind.values:
        raise ValueError(f"Unknown photo kind {kind!r}")
    existing = Photo.objects.filter(
        service_request=service_request, content_hash=upload.content_hash
    ).first()
    if existing is not None:
        return existing, False
    ext = ACCEPTED_FORMATS[upload.info.format]
    digest = upload.content_hash
    relative = f"{digest[:2]}/{digest}-{service_request.pk}.{ext}"
    private_file_write(private_path(relative), upload.data)
    try:
        with transaction.atomic():
            photo = Photo.objects.create(
                service_request=service_request,
                kind=kind,
                content_hash=digest,
                source_format=upload.info.format,
                width=upload.info.width,
                height=upload.info.height,
                byte_size=len(upload.data),
                raw_path=relative,
            )
    except IntegrityError:
        # A concurrent attach of the same bytes to the same request won the race. Its raw
        # file has the same name; if it was processed already, ours is an orphan.
        winner = Photo.objects.get(
            service_request=service_request, content_hash=upload.content_hash
        )
        if winner.state != ProcessingState.PENDING:
            private_path(relative).unlink(missing_ok=True)
        return winner, False
    return photo, True


def photo_process_enqueue(*, photo_ids: list[int]) -> None:
    """Queue processing through the outbox, in the surrounding transaction: once it
    commits the task goes to the broker, or, if the broker is away, as soon as it is back.
    The periodic sweep (``photos_process_pending``) still catches a lost task."""
    for photo_id in photo_ids:
        outbox_task("backend.photos.tasks.photo_process", photo_id)


def _failure_reason(exc: BaseException) -> str:
    text = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return str(text)[:300]


def _photo_fail(photo: Photo, *, reason: str) -> None:
    photo.state = ProcessingState.FAILED
    photo.failure_reason = reason[:300]
    photo.processed_at = timezone.now()
    photo.save(update_fields=["state", "failure_reason", "processed_at"])


def _variants_store(photo: Photo, rendered: Rendered) -> None:
    """Writes the display image and thumbnail to the media storage (the caller saves the
    row). A random name: the public URL reveals nothing of the upload and cannot be
    guessed."""
    stem = get_random_string(20, "abcdefghijklmnopqrstuvwxyz0123456789")
    photo.display.save(f"{stem}.jpg", ContentFile(rendered.display_jpeg), save=False)
    photo.thumbnail.save(f"{stem}.jpg", ContentFile(rendered.thumbnail_jpeg), save=False)


def photo_process(*, photo_id: int) -> Photo | None:
    """Renders the stored variants of a pending photo, once.

    Returns the photo (``ready``, or ``failed`` with a reason), or ``None`` when there was
    nothing to do: unknown, already processed, or being processed by another worker right
    now. The raw upload is deleted once the photo is ready; a failed photo keeps it, so that
    it can be looked at and processed again. An error reading the raw file (other than its
    absence) is raised: the photo stays pending and the periodic sweep retries it."""
    with transaction.atomic():
        photo = (
            Photo.objects.select_for_update(skip_locked=True)
            .filter(pk=photo_id, state=ProcessingState.PENDING)
            .first()
        )
        if photo is None:
            return None
        raw = private_path(photo.raw_path)
        if not photo.raw_path or not raw.is_file():
            logger.warning("photo %s has no raw upload at %r", photo.pk, photo.raw_path)
            _photo_fail(photo, reason="The uploaded file is missing.")
            return photo
        data = raw.read_bytes()
        try:
            rendered = photo_render(
                data,
                display_px=settings.PHOTO_DISPLAY_MAX_PX,
                thumbnail_px=settings.PHOTO_THUMBNAIL_MAX_PX,
                default_tz=settings.TIME_ZONE,
            )
        except Exception as exc:
            # The upload passed the checks when it came in, so this is a file Pillow can
            # only partly decode (or a bug of ours). Whatever the exception type, the photo
            # gets a final state with its reason, not a task failing and swept up forever.
            logger.warning("photo %s could not be processed: %r", photo.pk, exc)
            _photo_fail(photo, reason=_failure_reason(exc))
            return photo
        _variants_store(photo, rendered)
        photo.exif_taken_at = rendered.taken_at
        photo.exif_location = Point(*rendered.gps, srid=4326) if rendered.gps else None
        photo.state = ProcessingState.READY
        photo.failure_reason = ""
        photo.processed_at = timezone.now()
        photo.save(
            update_fields=[
                "display",
                "thumbnail",
                "exif_taken_at",
                "exif_location",
                "state",
                "failure_reason",
                "processed_at",
            ]
        )
        # A photo anybody can now see is a public change of its request: its update time
        # (Open311's updated_datetime, which sync clients poll) moves.
        ServiceRequest.objects.filter(
            pk=photo.service_request_id, updated_at__lt=photo.processed_at
        ).update(updated_at=photo.processed_at)
        transaction.on_commit(lambda: raw.unlink(missing_ok=True))
    return photo


# --- Raw uploads nobody will process

# A raw upload is written just before its photo row, in the same request; an hour is far
# longer than any request, so an older file that no pending or failed photo names is an orphan.
RAW_ORPHAN_AFTER = timedelta(hours=1)
_SWEEP_BATCH = 500


def private_files_unclaimed_delete(
    *, folders: list[str], before: datetime, claimed: Callable[[list[str]], set[str]]
) -> int:
    """Deletes the files in these folders of PRIVATE_UPLOAD_ROOT last written before
    ``before`` whose paths (relative to the root) ``claimed`` does not return, a batch of
    paths at a time; half-written ``.part`` files are never claimed. The number deleted."""
    root = Path(settings.PRIVATE_UPLOAD_ROOT)
    cutoff = before.timestamp()
    old: dict[str, Path] = {}
    for folder in folders:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            for path in (root / folder).iterdir():
                with contextlib.suppress(FileNotFoundError):
                    if path.is_file() and path.lstat().st_mtime < cutoff:
                        old[f"{folder}/{path.name}"] = path
    names = sorted(old)
    deleted = 0
    for start in range(0, len(names), _SWEEP_BATCH):
        batch = names[start : start + _SWEEP_BATCH]
        keep = claimed(batch)
        for name in batch:
            if name not in keep:
                old[name].unlink(missing_ok=True)
                deleted += 1
    return deleted


def raw_uploads_sweep(
    *, older_than: timedelta = RAW_ORPHAN_AFTER, now: datetime | None = None
) -> int:
    """Deletes raw uploads left behind: a request rolled back after its photo was written, a
    write cut off half way (``.part``), a processed photo whose raw file outlived its unlink.
    Raw uploads carry their EXIF (GPS included), so none is kept without a photo waiting for
    it. Files of pending and failed photos stay (a failed one can be processed again), and so
    does anything younger than ``older_than``. Only the photos' own folders (``xx/``, the first
    two hex digits of the content hash) are swept; the chat's folder is the chat's.
    Returns how many files were deleted."""
    folders = sorted(
        path.name for path in Path(settings.PRIVATE_UPLOAD_ROOT).glob("[0-9a-f][0-9a-f]")
    )
    deleted = private_files_unclaimed_delete(
        folders=folders,
        before=(now or timezone.now()) - older_than,
        claimed=lambda paths: set(
            Photo.objects.filter(
                raw_path__in=paths, state__in=(ProcessingState.PENDING, ProcessingState.FAILED)
            ).values_list("raw_path", flat=True)
        ),
    )
    if deleted:
        logger.info("raw uploads sweep: %s orphaned file(s) deleted", deleted)
    return deleted


# --- Moderation: blurring a region of a photo


@dataclass(frozen=True)
class BlurRect:
    """What staff give: x, y, width and height in the display image's pixels, or with
    ``fractions`` as shares of its width and height (0 to 1)."""

    x: float
    y: float
    w: float
    h: float
    fractions: bool = False


def photo_blur(*, photo: Photo, rect: BlurRect, reason: str, actor: Actor = None) -> Photo:
    """Blurs a region of a ready photo beyond reading (a face, a number plate): the display
    image and the thumbnail are rendered again (``processing.photo_blur_render``) under new
    random names, the old public files are deleted once this commits, and the unblurred
    display image of the first blur is kept privately (``original_path``) or deleted, as
    MODERATION_KEEP_ORIGINAL says. An event on the request (who, when, the reason) and the
    moderation version, as for every moderation. 400 naming the field for a bad rectangle or
    no reason; 409 naming ``state`` for a photo that is not ready."""
    reason = moderation_reason_check(reason)
    with transaction.atomic():
        # The request first, then its photo (the lock order of every moderation).
        sr = ServiceRequest.objects.select_for_update().get(pk=photo.service_request_id)
        locked = Photo.objects.select_for_update().get(pk=photo.pk)
        if locked.state != ProcessingState.READY or not locked.display:
            raise City311Error(
                _("Only a processed photo can be blurred."),
                field="state",
                code=ErrorCode.CONFLICT,
            )
        with locked.display.open("rb") as stored:
            display = stored.read()
        size = locked.display.width, locked.display.height
        box = blur_box(size=size, x=rect.x, y=rect.y, w=rect.w, h=rect.h, fractions=rect.fractions)
        rendered = photo_blur_render(display, box=box, thumbnail_px=settings.PHOTO_THUMBNAIL_MAX_PX)
        old_files = [locked.display.name, locked.thumbnail.name]
        update = ["display", "thumbnail", "blurred_at"]
        if settings.MODERATION_KEEP_ORIGINAL and not locked.original_path:
            locked.original_path = f"moderation/{locked.pk}-{get_random_string(12).lower()}.jpg"
            private_file_write(private_path(locked.original_path), display)
            update.append("original_path")
        _variants_store(locked, rendered)
        locked.blurred_at = at = timezone.now()
        locked.save(update_fields=update)
        kind = EventKind.PHOTO_BLURRED
        moderation_event_write(service_request=sr, kind=kind, reason=reason, actor=actor, at=at)
        storage = locked.display.storage

        def delete_unblurred() -> None:
            for name in old_files:
                if name:
                    storage.delete(name)

        transaction.on_commit(delete_unblurred)
    return locked
