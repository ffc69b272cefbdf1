"""Fixtures of the moderation tests: a department's staff, and a request of theirs with a
processed report photo."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from backend.intake.services import PhotoUpload
from backend.photos.models import Photo
from backend.photos.services import photo_process
from backend.service_requests.models import ServiceRequest
from tests.factories import submit
from tests.workorders.factories import Staff

DESCRIPTION = "Deep hole outside 12 Elm St, call Marigold Fenwick-Ashby on 617-555-0199"
SECRET = "call Marigold Fenwick-Ashby on 617-555-0199"


@pytest.fixture
def sr(staff: Staff) -> ServiceRequest:
    """A pothole (Public Works: ``staff``'s department) whose description names someone."""
    return submit("pothole", description=DESCRIPTION)


def checkerboard(size: tuple[int, int] = (800, 600), square: int = 4) -> bytes:
    """A JPEG of black and white squares: fine detail that a blur must wipe out."""
    img = Image.new("L", size, 0)
    pixels = img.load()
    assert pixels is not None
    for x in range(size[0]):
        for y in range(size[1]):
            if (x // square + y // square) % 2:
                pixels[x, y] = 255
    out = io.BytesIO()
    img.convert("RGB").save(out, "JPEG", quality=95)
    return out.getvalue()


@pytest.fixture
def photo(staff: Staff) -> Photo:
    """A processed report photo, 800x600 and full of detail, of a new pothole request."""
    sr = submit("pothole", description="With a photo", photos=[PhotoUpload(data=checkerboard())])
    found = Photo.objects.get(service_request=sr)
    processed = photo_process(photo_id=found.pk)
    assert processed is not None
    return processed
