"""Photos read from an incoming request, the same way at every edge (mobile API, crew API,
Open311, the console's forms, the chat widget): the size limit checked before a file is
read, and the same words for a refusal. Each edge turns ``PhotoTooLarge`` into its own
answer (413 with the field named)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from backend.errors import City311Error, ErrorCode


def photo_limit_mb() -> str:
    """The size limit in megabytes as people read it: "15", "0.3"."""
    return f"{settings.PHOTO_MAX_BYTES / 10**6:g}"


def photo_too_large_message(number: int | None = None) -> str:
    if number is None:
        return f"The photo is over {photo_limit_mb()} MB."
    return f"Photo {number} is over {photo_limit_mb()} MB."


class PhotoTooLarge(City311Error):
    """An uploaded photo over ``PHOTO_MAX_BYTES``: answered 413, naming ``field``."""

    code = ErrorCode.TOO_LARGE

    def __init__(self, *, field: str, number: int | None = None) -> None:
        super().__init__({field: [photo_too_large_message(number)]}, field=field)

    def __str__(self) -> str:
        return self.message


def photo_size_check(upload: UploadedFile, *, field: str, number: int | None = None) -> None:
    """Raises ``PhotoTooLarge`` for a file over the limit, before anything reads it."""
    if upload.size and upload.size > settings.PHOTO_MAX_BYTES:
        raise PhotoTooLarge(field=field, number=number)


def request_photos(request: Any, *, field: str = "photos") -> list[bytes]:
    """The multipart ``field`` of a request (Django's or DRF's), read as ``photos_read``
    does; ``PhotoTooLarge`` reaches the API's exception handler (413 naming the field)."""
    files: list[UploadedFile] = request.FILES.getlist(field) if request.FILES else []
    return photos_read(files, field=field)


def photos_read(files: Sequence[UploadedFile], *, field: str = "photos") -> list[bytes]:
    """The bytes of up to ``PHOTO_MAX_PER_REQUEST`` + 1 files (one more, so the intake can
    say "too many"), each checked for size before it is read."""
    photos = []
    for index, upload in enumerate(files[: settings.PHOTO_MAX_PER_REQUEST + 1]):
        photo_size_check(upload, field=field, number=index + 1)
        photos.append(upload.read())
    return photos
