"""The one reading of uploaded photos shared by every edge (``backend/photos/uploads.py``):
the size limit checked before a file is read, one more file than the limit read (so the
intake can say "too many"), and the limit written as people read it."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from backend.photos.uploads import (
    PhotoTooLarge,
    photo_limit_mb,
    photo_too_large_message,
    photos_read,
)


class Watched(SimpleUploadedFile):
    """An upload that remembers whether anything read it."""

    def __init__(self, name: str, content: bytes) -> None:
        super().__init__(name, content, "image/jpeg")
        self.was_read = False

    def read(self, *args: Any, **kwargs: Any) -> bytes:
        self.was_read = True
        return bytes(super().read(*args, **kwargs))


def test_the_limit_reads_as_people_read_it(settings: Any) -> None:
    settings.PHOTO_MAX_BYTES = 15_000_000
    assert photo_limit_mb() == "15"
    assert photo_too_large_message(2) == "Photo 2 is over 15 MB."
    settings.PHOTO_MAX_BYTES = 300_000  # was written "0 MB"
    assert photo_too_large_message() == "The photo is over 0.3 MB."


def test_a_file_over_the_limit_is_refused_before_it_is_read(settings: Any) -> None:
    settings.PHOTO_MAX_BYTES = 1_000
    small, big, after = (
        Watched("a.jpg", b"x" * 10),
        Watched("b.jpg", b"x" * 1_001),
        Watched("c.jpg", b"x"),
    )
    with pytest.raises(PhotoTooLarge) as refused:
        photos_read([small, big, after], field="photos")
    assert refused.value.field == "photos" and refused.value.status_code == 413
    assert refused.value.message == "Photo 2 is over 0.001 MB."
    assert small.was_read and not big.was_read and not after.was_read


def test_one_more_file_than_the_limit_is_read_so_the_intake_can_say_too_many(
    settings: Any,
) -> None:
    settings.PHOTO_MAX_PER_REQUEST = 2
    files = [Watched(f"{n}.jpg", bytes([n])) for n in range(5)]
    assert photos_read(files) == [b"\x00", b"\x01", b"\x02"]
    assert [f.was_read for f in files] == [True, True, True, False, False]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("who", "path"),
    [
        ("crew", "/mobile/v1/crew/workorders/{id}/complete"),
        ("crew", "/api/v1/workorders/{id}/complete"),
        ("supervisor", "/api/v1/workorders/{id}/proof-photos"),
    ],
)
def test_the_crew_and_staff_apis_answer_413_naming_photos_and_change_nothing(
    catalog: None, settings: Any, who: str, path: str
) -> None:
    from tests.workorders.factories import good_proof, order_in, staff_make, token_client
    from workorders.models import ProofPhoto, WorkOrderStatus

    staff = staff_make()
    order = order_in(WorkOrderStatus.IN_PROGRESS, staff=staff)
    photo = good_proof()
    settings.PHOTO_MAX_BYTES = len(photo) - 1
    client = token_client(getattr(staff, who))

    answer = client.post(
        path.format(id=order.pk),
        {
            "photos": [SimpleUploadedFile("proof.jpg", photo, "image/jpeg")],
            "client_at": timezone.now().isoformat(),
        },
        format="multipart",
        HTTP_IDEMPOTENCY_KEY="too-big",
    )

    assert answer.status_code == 413, answer.content
    assert answer.json()["errors"]["photos"][0].startswith("Photo 1 is over ")
    order.refresh_from_db()
    assert order.status == WorkOrderStatus.IN_PROGRESS
    assert not ProofPhoto.objects.filter(work_order=order).exists()
