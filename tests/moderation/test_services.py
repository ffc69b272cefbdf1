"""Moderation's services: hiding and showing again, redacting a description, blurring part of
a photo. Each writes an event (who, when, reason; never the removed text), raises the
moderation version and refuses bad input naming the field."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from PIL import Image, ImageStat

from backend.errors import City311Error
from backend.photos.models import Photo
from backend.photos.processing import blur_box
from backend.photos.services import BlurRect, photo_blur
from backend.service_requests.models import EventKind, ServiceRequest, ServiceRequestEvent
from backend.service_requests.moderation import (
    REDACTION_MARKER,
    description_shown,
    service_request_hide,
    service_request_redact,
    service_request_unhide,
)
from backend.service_requests.selectors import (
    moderation_version,
    public_events,
    service_request_get_public,
    service_request_get_visible,
)
from tests.moderation.conftest import DESCRIPTION, SECRET
from tests.workorders.factories import Staff

pytestmark = pytest.mark.django_db


def _events(sr: ServiceRequest, kind: str) -> list[ServiceRequestEvent]:
    return list(ServiceRequestEvent.objects.filter(service_request=sr, kind=kind))


def test_hide_takes_the_request_out_of_visible_and_unhide_brings_it_back(
    sr: ServiceRequest, staff: Staff
) -> None:
    before = moderation_version()
    service_request_hide(service_request=sr, reason="  Personal dispute  ", actor=staff.supervisor)
    sr.refresh_from_db()
    assert sr.hidden_at is not None and sr.hidden_reason == "Personal dispute"
    assert not ServiceRequest.objects.visible().filter(pk=sr.pk).exists()
    assert service_request_get_public(public_id=sr.public_id) is None
    assert service_request_get_visible(public_id=sr.public_id) is None
    assert moderation_version() == before + 1
    (event,) = _events(sr, EventKind.HIDDEN)
    assert event.actor == staff.supervisor and event.internal_note == "Personal dispute"
    assert event.public_note == ""
    # Not a public event: the reason stays with staff.
    assert not public_events(ServiceRequestEvent.objects.filter(pk=event.pk)).exists()

    # Hiding again changes nothing.
    service_request_hide(service_request=sr, reason="again", actor=staff.supervisor)
    assert len(_events(sr, EventKind.HIDDEN)) == 1

    service_request_unhide(service_request=sr, reason="Resolved", actor=staff.supervisor)
    sr.refresh_from_db()
    assert sr.hidden_at is None and sr.hidden_reason == ""
    assert service_request_get_visible(public_id=sr.public_id) == sr
    assert len(_events(sr, EventKind.UNHIDDEN)) == 1
    assert moderation_version() == before + 2


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_moderation_needs_a_reason(sr: ServiceRequest, reason: str) -> None:
    for moderate in (service_request_hide, service_request_unhide):
        with pytest.raises(City311Error) as exc:
            moderate(service_request=sr, reason=reason)
        assert exc.value.field == "reason" and exc.value.status == 400
    with pytest.raises(City311Error) as exc:
        service_request_redact(service_request=sr, text="Deep", reason=reason)
    assert exc.value.field == "reason"
    sr.refresh_from_db()
    assert sr.hidden_at is None and sr.description == DESCRIPTION


def test_redact_replaces_the_text_and_keeps_the_original_privately(
    sr: ServiceRequest, staff: Staff
) -> None:
    before = moderation_version()
    service_request_redact(
        service_request=sr, text=SECRET, reason="Names a neighbour", actor=staff.supervisor
    )
    sr.refresh_from_db()
    assert sr.description == f"Deep hole outside 12 Elm St, {REDACTION_MARKER}"
    assert sr.description_original == DESCRIPTION
    (event,) = _events(sr, EventKind.REDACTED)
    assert event.internal_note == "Names a neighbour" and event.actor == staff.supervisor
    assert SECRET not in f"{event.internal_note}{event.public_note}"
    assert moderation_version() == before + 1
    # A second redaction keeps the description as first filed.
    service_request_redact(service_request=sr, text="12 Elm St", reason="Address")
    sr.refresh_from_db()
    assert sr.description == f"Deep hole outside {REDACTION_MARKER}, {REDACTION_MARKER}"
    assert sr.description_original == DESCRIPTION


@pytest.mark.parametrize("text", ["", "   ", "not in there"])
def test_redact_refuses_text_not_in_the_description(sr: ServiceRequest, text: str) -> None:
    with pytest.raises(City311Error) as exc:
        service_request_redact(service_request=sr, text=text, reason="why")
    assert exc.value.field == "text" and exc.value.status == 400
    sr.refresh_from_db()
    assert sr.description == DESCRIPTION and sr.description_original == ""
    assert not _events(sr, EventKind.REDACTED)


def test_the_marker_is_shown_in_the_readers_language() -> None:
    from django.utils import translation

    with translation.override("en"):
        assert description_shown(f"a {REDACTION_MARKER} b") == f"a {REDACTION_MARKER} b"


# --- Blur


def _region_spread(data: bytes, box: tuple[int, int, int, int]) -> float:
    with Image.open(io.BytesIO(data)) as img:
        return float(ImageStat.Stat(img.convert("L").crop(box)).stddev[0])


def test_blur_makes_the_region_unreadable_and_keeps_the_original_privately(
    photo: Photo, staff: Staff
) -> None:
    old_display, old_thumbnail = photo.display.name, photo.thumbnail.name
    original = photo.display.read()
    box = (200, 150, 400, 300)  # pixels of the 800x600 display image
    assert _region_spread(original, box) > 100  # the checkerboard: black and white
    blurred = photo_blur(
        photo=photo,
        rect=BlurRect(x=200, y=150, w=200, h=150),
        reason="A face",
        actor=staff.supervisor,
    )
    blurred.refresh_from_db()
    data = blurred.display.read()
    assert _region_spread(data, (210, 160, 390, 290)) < 5  # nothing left to read
    assert _region_spread(data, (0, 0, 150, 100)) > 100  # the rest untouched
    assert blurred.display.name != old_display and blurred.thumbnail.name != old_thumbnail
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == (800, 600) and len(img.getexif()) == 0
    with Image.open(io.BytesIO(blurred.thumbnail.read())) as thumb:
        assert max(thumb.size) == settings.PHOTO_THUMBNAIL_MAX_PX
    assert blurred.blurred_at is not None
    kept = Path(settings.PRIVATE_UPLOAD_ROOT) / blurred.original_path
    assert kept.read_bytes() == original
    assert not str(kept).startswith(str(settings.MEDIA_ROOT))
    (event,) = _events(blurred.service_request, EventKind.PHOTO_BLURRED)
    assert event.internal_note == "A face" and event.actor == staff.supervisor


def test_blur_deletes_the_old_public_files_and_by_setting_the_original(
    photo: Photo, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.MODERATION_KEEP_ORIGINAL = False
    storage = photo.display.storage
    old = [photo.display.name, photo.thumbnail.name]
    with django_capture_on_commit_callbacks(execute=True):
        blurred = photo_blur(
            photo=photo, rect=BlurRect(x=0.1, y=0.1, w=0.2, h=0.2, fractions=True), reason="Plate"
        )
    assert blurred.original_path == ""
    assert not any(storage.exists(name) for name in old if name)
    assert storage.exists(str(blurred.display.name)) and storage.exists(str(blurred.thumbnail.name))
    assert list(Path(settings.PRIVATE_UPLOAD_ROOT).glob("moderation/*")) == []


@pytest.mark.parametrize(
    ("rect", "field"),
    [
        (BlurRect(x=-1, y=0, w=10, h=10), "x"),
        (BlurRect(x=0, y=0, w=0, h=10), "w"),
        (BlurRect(x=0, y=0, w=10, h=0), "h"),
        (BlurRect(x=900, y=0, w=10, h=10), "x"),
        (BlurRect(x=0, y=600, w=10, h=10), "y"),
        (BlurRect(x=0.5, y=1.5, w=0.1, h=0.1, fractions=True), "y"),
        (BlurRect(x=float("nan"), y=0, w=10, h=10), "x"),
    ],
)
def test_a_bad_rectangle_is_refused_naming_the_field(
    photo: Photo, rect: BlurRect, field: str
) -> None:
    name = photo.display.name
    with pytest.raises(City311Error) as exc:
        photo_blur(photo=photo, rect=rect, reason="why")
    assert exc.value.field == field and exc.value.status == 400
    photo.refresh_from_db()
    assert photo.display.name == name and photo.blurred_at is None


def test_blur_needs_a_reason(photo: Photo) -> None:
    with pytest.raises(City311Error) as exc:
        photo_blur(photo=photo, rect=BlurRect(x=0, y=0, w=10, h=10), reason=" ")
    assert exc.value.field == "reason"


def test_a_rectangle_past_the_edge_is_clipped() -> None:
    box = blur_box(size=(800, 600), x=700, y=500, w=500, h=500, fractions=False)
    assert (box.left, box.top, box.right, box.bottom) == (700, 500, 800, 600)
