"""backend.photos.services and tasks against the real database (Celery eager in tests)."""

from __future__ import annotations

import io
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image

from backend.intake.services import PhotoUpload
from backend.photos.models import Photo, PhotoKind, ProcessingState
from backend.photos.processing import PhotoRejected
from backend.photos.services import photo_attach, photo_process, photo_upload_check
from backend.photos.tasks import photos_process_pending
from backend.service_requests.models import ServiceRequest
from tests.factories import submit
from tests.photos.images import BAD_FILES, encode, exif_block, noise, quadrants

pytestmark = pytest.mark.django_db

CaptureCallbacks = Callable[..., Any]


def phone_photo(seed: int = 1) -> bytes:
    exif = exif_block(
        orientation=6, gps=(-33.8568, 151.2153), taken="2025:03:04 10:11:12", offset="+11:00"
    )
    return encode(noise((2400, 1800), seed=seed), "JPEG", quality=85, exif=exif)


def raw_file(photo: Photo) -> Path:
    return Path(settings.PRIVATE_UPLOAD_ROOT) / photo.raw_path


def submit_with(photos: list[bytes]) -> ServiceRequest:
    return submit(photos=[PhotoUpload(data=data) for data in photos])


def process_now(photo: Photo, capture: CaptureCallbacks) -> Photo | None:
    """Runs processing and what it schedules after its commit (deleting the raw file)."""
    with capture(execute=True):
        return photo_process(photo_id=photo.pk)


# --- Checking uploads


def test_upload_check_reads_format_size_and_hash() -> None:
    data = encode(quadrants((320, 240)), "WEBP")
    upload = photo_upload_check(data=data)
    assert (upload.info.format, upload.info.width, upload.info.height) == ("WEBP", 320, 240)
    assert len(upload.content_hash) == 64


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_upload_check_refuses_bad_files_with_their_status(name: str) -> None:
    build, status = BAD_FILES[name]
    with pytest.raises(PhotoRejected) as refused:
        photo_upload_check(data=build())
    assert refused.value.status == status


# --- Submitting and processing


def test_the_request_is_accepted_before_its_photo_is_processed_after_commit(
    catalog: None, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        service_request = submit_with([phone_photo()])
    photo = Photo.objects.get(service_request=service_request)
    assert photo.state == ProcessingState.PENDING
    assert not photo.display and not photo.thumbnail
    assert raw_file(photo).is_file()
    assert callbacks, "processing must be queued on commit"

    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()

    photo.refresh_from_db()
    assert photo.state == ProcessingState.READY
    assert photo.processed_at is not None
    assert not raw_file(photo).exists()  # the raw upload (with its EXIF) is gone


def test_processing_stores_upright_stripped_variants_and_private_exif(
    catalog: None, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=False):
        service_request = submit_with([phone_photo()])
    photo = Photo.objects.get(service_request=service_request)
    assert (photo.width, photo.height, photo.source_format) == (2400, 1800, "JPEG")

    processed = process_now(photo, django_capture_on_commit_callbacks)

    assert processed is not None and processed.state == ProcessingState.READY
    photo.refresh_from_db()
    for field, box in ((photo.display, 1600), (photo.thumbnail, 400)):
        with Image.open(field.path) as stored:
            assert max(stored.size) == box and stored.size[1] > stored.size[0]  # upright
            assert not stored.getexif()
            assert not {"exif", "icc_profile", "xmp", "comment"} & set(stored.info)
    assert photo.exif_taken_at is not None
    assert photo.exif_taken_at == datetime(2025, 3, 3, 23, 11, 12, tzinfo=UTC)  # 10:11 +11:00
    assert photo.exif_location is not None
    assert photo.exif_location.srid == 4326
    assert photo.exif_location.x == pytest.approx(151.2153, abs=1e-5)  # longitude
    assert photo.exif_location.y == pytest.approx(-33.8568, abs=1e-5)  # latitude
    assert photo.content_hash[:8] not in str(photo.display.name)  # the name reveals nothing


def test_the_raw_upload_is_private_to_the_server_account(catalog: None) -> None:
    service_request = submit_with([phone_photo()])
    photo = Photo.objects.get(service_request=service_request)
    mode = stat.S_IMODE(raw_file(photo).stat().st_mode)
    assert mode & 0o077 == 0, oct(mode)
    assert not list(raw_file(photo).parent.glob("*.part"))


def test_the_same_photo_twice_in_one_request_is_one_photo(catalog: None) -> None:
    data = phone_photo()
    service_request = submit_with([data, data, encode(quadrants((300, 200)), "PNG")])
    assert Photo.objects.filter(service_request=service_request).count() == 2

    again, created = photo_attach(
        service_request=service_request, upload=photo_upload_check(data=data)
    )
    assert created is False
    assert Photo.objects.filter(service_request=service_request).count() == 2
    assert again.content_hash == photo_upload_check(data=data).content_hash


def test_the_same_photo_on_two_requests_is_processed_for_each(
    catalog: None, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    data = phone_photo()
    first = Photo.objects.get(service_request=submit_with([data]))
    second = Photo.objects.get(service_request=submit_with([data]))
    assert raw_file(first) != raw_file(second)

    process_now(first, django_capture_on_commit_callbacks)
    assert raw_file(second).is_file()  # not deleted with the first one's
    process_now(second, django_capture_on_commit_callbacks)

    states = set(Photo.objects.filter(pk__in=[first.pk, second.pk]).values_list("state", flat=True))
    assert states == {ProcessingState.READY}


def test_processing_twice_processes_once(
    catalog: None, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    photo = Photo.objects.get(service_request=submit_with([phone_photo()]))
    assert process_now(photo, django_capture_on_commit_callbacks) is not None
    photo.refresh_from_db()
    before = (photo.display.name, photo.thumbnail.name, photo.processed_at)

    assert process_now(photo, django_capture_on_commit_callbacks) is None

    photo.refresh_from_db()
    assert (photo.display.name, photo.thumbnail.name, photo.processed_at) == before
    assert len(list(Path(settings.MEDIA_ROOT).rglob("*.jpg"))) == 2  # one display, one thumb


def test_an_unknown_photo_is_nothing_to_do(catalog: None) -> None:
    assert photo_process(photo_id=987_654_321) is None


def test_a_photo_that_cannot_be_decoded_fails_with_a_reason(
    catalog: None, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    photo = Photo.objects.get(service_request=submit_with([phone_photo()]))
    good = raw_file(photo).read_bytes()
    raw_file(photo).write_bytes(good[: len(good) // 3])  # damaged on disk after the check

    failed = process_now(photo, django_capture_on_commit_callbacks)

    assert failed is not None
    photo.refresh_from_db()
    assert photo.state == ProcessingState.FAILED
    assert "truncated" in photo.failure_reason
    assert not photo.display and not photo.thumbnail
    assert raw_file(photo).is_file()  # kept, to be looked at or processed again
    assert photo_process(photo_id=photo.pk) is None  # failed is final


def test_a_missing_raw_file_fails_with_a_reason(
    catalog: None, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    photo = Photo.objects.get(service_request=submit_with([phone_photo()]))
    raw_file(photo).unlink()

    process_now(photo, django_capture_on_commit_callbacks)

    photo.refresh_from_db()
    assert photo.state == ProcessingState.FAILED
    assert photo.failure_reason == "The uploaded file is missing."


def test_proof_photos_are_attached_with_their_kind(catalog: None) -> None:
    service_request = submit_with([])
    upload = photo_upload_check(data=phone_photo())
    photo, created = photo_attach(
        service_request=service_request, upload=upload, kind=PhotoKind.PROOF
    )
    assert created and photo.kind == PhotoKind.PROOF
    with pytest.raises(ValueError, match="kind"):
        photo_attach(service_request=service_request, upload=upload, kind="selfie")


def test_the_sweep_requeues_photos_left_pending(catalog: None) -> None:
    old = Photo.objects.get(service_request=submit_with([phone_photo(seed=1)]))
    fresh = Photo.objects.get(service_request=submit_with([phone_photo(seed=2)]))
    # As if the broker had been away when ``old`` was submitted ten minutes ago.
    Photo.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(minutes=10))

    queued = photos_process_pending.delay().get()  # eager in tests

    assert queued == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.state == ProcessingState.READY
    assert fresh.state == ProcessingState.PENDING


def test_processing_output_is_a_plain_jpeg(
    catalog: None, django_capture_on_commit_callbacks: CaptureCallbacks
) -> None:
    rgba = Image.new("RGBA", (500, 300), (0, 0, 0, 0))
    photo = Photo.objects.get(service_request=submit_with([encode(rgba, "PNG")]))
    process_now(photo, django_capture_on_commit_callbacks)
    photo.refresh_from_db()
    with Image.open(io.BytesIO(Path(photo.display.path).read_bytes())) as stored:
        assert stored.format == "JPEG" and stored.mode == "RGB"
        assert stored.getpixel((10, 10)) == (255, 255, 255)
