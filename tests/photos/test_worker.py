"""A real Celery worker processing a photo submitted through the API (integration).

The worker is a subprocess on the test database, the real Redis broker and the test's media
folders. Its queue has a name of its own, so that neither another worker on the shared broker
takes this test's tasks nor this worker takes theirs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image
from rest_framework.test import APIClient

from backend.celery import app as celery_app
from backend.photos.models import Photo, ProcessingState
from tests.photos.images import encode, exif_block, noise
from tests.processes import database_url, running

CELERY = Path(sys.executable).parent / "celery"
PROCESSED_WITHIN_S = 30.0


@contextmanager
def broker_queue_for_this_test() -> Iterator[str]:
    """Every task this process sends goes, for real, to a queue of its own."""
    name = f"city311-test-photos-{uuid.uuid4().hex[:12]}"
    eager, routes = celery_app.conf.task_always_eager, celery_app.conf.task_routes
    celery_app.conf.task_always_eager = False
    celery_app.conf.update(task_routes={"*": {"queue": name}})  # also resets the router
    try:
        yield name
    finally:
        celery_app.conf.update(task_routes=routes)
        celery_app.conf.task_always_eager = eager
        with celery_app.connection_for_write() as conn:  # leftovers, bindings: gone
            queue = celery_app.amqp.queues[name](conn.default_channel)
            queue.declare()
            queue.delete()


@contextmanager
def celery_worker(*, queue: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    broker = str(celery_app.conf.broker_url)
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "DB_POOL": "0",  # no idle pooled connections left on the test database
        "REDIS_URL": broker,
        "CELERY_BROKER_URL": broker,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PRIVATE_UPLOAD_ROOT": str(settings.PRIVATE_UPLOAD_ROOT),
        "CITY311_ENV": "test",
        "PYTHONUNBUFFERED": "1",
    }
    command = [
        str(CELERY), "-A", "backend", "worker",
        "--pool", "solo", "--concurrency", "1", "-Q", queue,
        "--hostname", f"{queue}@%h",
        "--without-mingle", "--without-gossip", "--without-heartbeat",
        "--loglevel", "INFO",
    ]  # fmt: skip
    with running(command, env=env, log=log) as worker:
        yield worker


@pytest.mark.integration
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_processes_a_photo_submitted_through_the_api(
    catalog: None, api: APIClient, tmp_path: Path
) -> None:
    assert "test" in str(connection.settings_dict["NAME"])
    exif = exif_block(orientation=6, gps=(42.3601, -71.0589), taken="2025:03:04 10:11:12")
    data = encode(noise((2400, 1800)), "JPEG", quality=85, exif=exif)
    form = {
        "service_code": "pothole",
        "lat": "42.3601",
        "long": "-71.0589",
        "attributes": json.dumps({"size": "large"}),
        "photos": [SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")],
    }
    log = tmp_path / "worker.log"

    with broker_queue_for_this_test() as queue:
        # Submitted while no worker runs: the request must not wait for its photo.
        response = api.post("/mobile/v1/requests", form, format="multipart")
        assert response.status_code == 201, response.content
        assert [p["state"] for p in response.json()["photos"]] == ["pending"]
        photo = Photo.objects.get()
        assert photo.state == ProcessingState.PENDING

        with celery_worker(queue=queue, log=log) as worker:
            deadline = time.monotonic() + PROCESSED_WITHIN_S
            while photo.state == ProcessingState.PENDING:
                if worker.poll() is not None:
                    pytest.fail(f"the worker exited ({worker.returncode}):\n{log.read_text()}")
                if time.monotonic() > deadline:
                    pytest.fail(f"pending after {PROCESSED_WITHIN_S:.0f} s:\n{log.read_text()}")
                time.sleep(0.2)
                photo.refresh_from_db()

    assert photo.state == ProcessingState.READY, photo.failure_reason
    assert photo.exif_location is not None
    for field, box in ((photo.display, 1600), (photo.thumbnail, 400)):
        path = Path(field.path)
        assert path.is_file()
        with Image.open(path) as stored:
            assert max(stored.size) == box and stored.size[1] > stored.size[0]  # upright
            assert not stored.getexif()
            assert not {"exif", "icc_profile", "xmp"} & set(stored.info)
    assert not (Path(settings.PRIVATE_UPLOAD_ROOT) / photo.raw_path).exists()
    assert "succeeded" in log.read_text()
