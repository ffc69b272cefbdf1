"""Raw uploads nobody will process are deleted (they carry EXIF, GPS included); those a
pending or failed photo waits for, and recent ones, are kept."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone

from backend.intake.services import PhotoUpload
from backend.photos.models import Photo, ProcessingState
from backend.photos.services import RAW_ORPHAN_AFTER, raw_uploads_sweep
from backend.photos.tasks import raw_uploads_sweep as raw_uploads_sweep_task
from tests.conftest import jpeg_bytes
from tests.factories import submit

pytestmark = pytest.mark.django_db


def age(path: Path, by: timedelta) -> None:
    then = (timezone.now() - by).timestamp()
    os.utime(path, (then, then))


def private(relative: str, data: bytes = b"raw bytes with exif") -> Path:
    path = Path(settings.PRIVATE_UPLOAD_ROOT) / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def photo_with_state(state: str) -> Photo:
    service_request = submit(
        "pothole", photos=[PhotoUpload(data=jpeg_bytes(color=(len(state) * 20, 10, 10)))]
    )
    photo = Photo.objects.get(service_request=service_request)
    Photo.objects.filter(pk=photo.pk).update(state=state)
    return photo


def test_old_files_no_photo_waits_for_are_deleted_the_rest_kept(catalog: None) -> None:
    old = RAW_ORPHAN_AFTER + timedelta(minutes=5)
    pending = photo_with_state(ProcessingState.PENDING)
    failed = photo_with_state(ProcessingState.FAILED)
    ready = photo_with_state(ProcessingState.READY)  # its unlink after processing never ran
    kept = [Path(settings.PRIVATE_UPLOAD_ROOT) / p.raw_path for p in (pending, failed)]
    leftover = Path(settings.PRIVATE_UPLOAD_ROOT) / ready.raw_path
    orphan = private("ab/" + "ab" * 32 + "-999999.jpg")  # its request rolled back
    half_written = private("ab/." + "ab" * 32 + "-999998.jpg.x1y2.part")
    recent_orphan = private("cd/" + "cd" * 32 + "-999997.jpg")
    chat_file = private("chat/some-reference.jpg")
    for path in [*kept, leftover, orphan, half_written, chat_file]:
        assert path.is_file()
        age(path, old)
    age(recent_orphan, RAW_ORPHAN_AFTER - timedelta(minutes=5))

    assert raw_uploads_sweep() == 3

    assert all(path.is_file() for path in kept)
    assert recent_orphan.is_file()
    assert chat_file.is_file()  # the chat's folder is the chat's sweep
    assert not leftover.exists()
    assert not orphan.exists()
    assert not half_written.exists()
    assert Photo.objects.count() == 3  # rows are never touched
    assert raw_uploads_sweep() == 0


def test_a_missing_folder_is_nothing_to_sweep(settings: Any) -> None:
    settings.PRIVATE_UPLOAD_ROOT = Path(settings.PRIVATE_UPLOAD_ROOT) / "never-created"
    assert raw_uploads_sweep() == 0


def test_the_beat_runs_both_sweeps_every_hour(settings: Any) -> None:
    from backend.celery import app

    for name, task in (
        ("photos-raw-uploads-sweep", "backend.photos.tasks.raw_uploads_sweep"),
        ("chat-photos-sweep", "chatbot.tasks.chat_photos_sweep"),
    ):
        entry = settings.CELERY_BEAT_SCHEDULE[name]
        assert entry["task"] == task
        assert float(entry["schedule"]) == 3600.0
        app.loader.import_default_modules()
        assert task in app.tasks, task


def test_the_task_runs_the_sweep(catalog: None) -> None:
    orphan = private("ef/" + "ef" * 32 + "-1.jpg")
    age(orphan, RAW_ORPHAN_AFTER * 2)
    assert raw_uploads_sweep_task.apply().get() == 1
    assert not orphan.exists()
