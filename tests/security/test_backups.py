"""make backup / make restore (backend/scripts/backup.sh, restore.sh): a database with
requests, photos, work orders and their events, and the photo files, round-trip into another
database and other media folders, and everything is found there."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.db.models import Model

from backend.intake.services import PhotoUpload
from backend.photos.models import Photo
from backend.service_requests.models import ServiceRequest, ServiceRequestEvent
from tests.conftest import jpeg_bytes
from tests.factories import submit
from tests.workorders.factories import order_in, staff_make
from workorders.models import WorkOrder, WorkOrderEvent, WorkOrderStatus

ROOT = Path(__file__).resolve().parents[2]
TABLES: dict[str, type[Model]] = {
    "service_requests_servicerequest": ServiceRequest,
    "service_requests_servicerequestevent": ServiceRequestEvent,
    "photos_photo": Photo,
    "workorders_workorder": WorkOrder,
    "workorders_workorderevent": WorkOrderEvent,
}


def url(name: str) -> str:
    db = connection.settings_dict
    return f"postgresql://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{name}"


def script_run(
    script: str, *args: str, timeout: int = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", f"backend/scripts/{script}", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run(script: str, *args: str, **env: str) -> str:
    result = script_run(script, *args, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()[-1]


@pytest.fixture
def restored_name() -> Iterator[str]:
    name = f"{connection.settings_dict['NAME']}_restored"
    yield name
    with psycopg.connect(url("postgres"), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_every_request_photo_and_event(
    catalog: None, tmp_path: Path, restored_name: str, settings: Any
) -> None:
    # Given requests with photos, work orders done with proof photos, and their events
    staff = staff_make()
    for n in range(3):
        sr = submit(
            "pothole",
            description=f"hole {n}",
            photos=[PhotoUpload(data=jpeg_bytes(color=(n * 40, 10, 10)))],
        )
        order_in(WorkOrderStatus.COMPLETED, staff=staff, service_request=sr)
    submit("graffiti", description="tag on the wall")
    expected = {table: model._default_manager.count() for table, model in TABLES.items()}
    assert expected["photos_photo"] >= 6 and expected["workorders_workorderevent"] >= 9
    public_ids = set(ServiceRequest.objects.values_list("public_id", flat=True))
    media_before = files_under(Path(settings.MEDIA_ROOT))
    assert len(media_before) >= 12  # display and thumbnail of every photo

    # When it is backed up, and restored into another database and other media folders
    backup = run(
        "backup.sh",
        "--db",
        url(connection.settings_dict["NAME"]),
        "--out",
        str(tmp_path / "backup"),
        MEDIA_ROOT=str(settings.MEDIA_ROOT),
        PRIVATE_UPLOAD_ROOT=str(settings.PRIVATE_UPLOAD_ROOT),
    )
    manifest = (Path(backup) / "MANIFEST").read_text()
    assert f"media_files={len(media_before)}" in manifest
    restored_media = tmp_path / "restored-media"
    run(
        "restore.sh",
        backup,
        "--db",
        restored_name,
        MEDIA_ROOT=str(restored_media),
        PRIVATE_UPLOAD_ROOT=str(tmp_path / "restored-private"),
    )

    # Then every row and every file is there
    with psycopg.connect(url(restored_name)) as restored:
        for table, count in expected.items():
            found = restored.execute(f"SELECT count(*) FROM {table}").fetchone()
            assert found is not None and found[0] == count, table
        ids = {
            row[0]
            for row in restored.execute("SELECT public_id FROM service_requests_servicerequest")
        }
        assert ids == public_ids
        names = [
            name
            for display, thumbnail in restored.execute(
                "SELECT display, thumbnail FROM photos_photo"
            )
            for name in (display, thumbnail)
            if name
        ]
        located = restored.execute(
            "SELECT count(*) FROM service_requests_servicerequest WHERE location IS NOT NULL"
        ).fetchone()
        assert located is not None and located[0] == len(public_ids)  # PostGIS came back too
    assert len(names) == len(media_before)
    assert files_under(restored_media) == media_before
    for name in names:
        assert (restored_media / name).is_file(), name

    # And restoring over a database that holds tables needs --force
    again = script_run("restore.sh", backup, "--db", restored_name, timeout=60)
    assert again.returncode != 0 and "--force" in again.stderr


def test_restore_refuses_a_damaged_backup(tmp_path: Path) -> None:
    (tmp_path / "db.dump").write_bytes(b"damaged")
    digest = "0" * 64
    (tmp_path / "MANIFEST").write_text(f"{digest}  db.dump\n")
    result = script_run("restore.sh", str(tmp_path), "--db", "city311_never_created", timeout=60)
    assert result.returncode != 0 and "checksums" in result.stderr
