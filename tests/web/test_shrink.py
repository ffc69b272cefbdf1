"""Photos shrunk on the phone before upload (``backend/web/static/web/shrink.js``) keep the
original's EXIF capture time and GPS position, so a shrunk proof photo still passes the
server's proof check (``workorders/proof.py``).

The script runs in Debian's Chromium on a tiny page served by Playwright's router (no server
needed); the photos are made here with Pillow, handed to an ``<input type=file>`` like a
camera's, and the shrunk bytes are judged here with Pillow and the project's own services:
photos with an EXIF block written the way phones write it (little-endian, a maker note and a
thumbnail in IFD1) and the way Pillow writes it (big-endian)."""

from __future__ import annotations

import base64
import io
import struct
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from PIL import ExifTags, Image, ImageChops
from playwright.sync_api import Browser, FilePayload, Page, Route, sync_playwright

from tests.conftest import BOSTON, jpeg_bytes
from tests.photos.images import (
    BOTTOM_LEFT,
    BOTTOM_RIGHT,
    STORE_FOR_ORIENTATION,
    TOP_LEFT,
    TOP_RIGHT,
    encode,
    exif_block,
    noise,
    quadrants,
)
from tests.web.a11y import assert_accessible
from tests.web.browser import csp_watch
from tests.web.test_e2e import CHROMIUM, CHROMIUM_ARGS, PHONE, ROOT
from tests.workorders.factories import NY, order_in, request_make, staff_make
from workorders.models import ProofPhoto, WorkOrderStatus
from workorders.proof import proof_exif_read
from workorders.services import work_order_complete

pytestmark = pytest.mark.integration

SHRINK_JS = ROOT / "backend" / "web" / "static" / "web" / "shrink.js"
ORIGIN = "http://city311.test"  # answered by Playwright's router: nothing leaves the machine
PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Photo shrinking</title>
<script src="/static/web/shrink.js"></script></head>
<body><main><h1>Photo shrinking</h1>
<label for="photo">Photo</label> <input id="photo" type="file" accept="image/*">
</main></body></html>"""

# The production Content-Security-Policy (backend/settings.py, no tile or media host): the
# script must work under it, <img> fallback (a blob: URL) included.
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)

# A request at a real point, filed before the photos were taken.
LAT, LONG = BOSTON
FILED = datetime(2025, 6, 2, 9, 0, tzinfo=NY)
TAKEN, TAKEN_OFFSET = "2025:06:02 14:30:05", "-04:00"
MAKER_NOTE = bytes(range(256)) * 8  # 2 kB of a vendor's private data, kept as it is
THUMBNAIL = encode(quadrants((160, 120)), "JPEG", quality=70)

# The browser's side. `shrink` and `naive` hand back base64, `readExif`'s answers and times.
SHRINK = """async ([options, mode]) => {
    const file = document.getElementById("photo").files[0];
    const toBase64 = (blob) => new Promise((resolve) => {
        const reader = new FileReader();
        reader.onload = () => resolve(reader.result.slice(reader.result.indexOf(",") + 1));
        reader.readAsDataURL(blob);
    });
    if (mode === "img") {  // a browser without OffscreenCanvas nor createImageBitmap
        window.OffscreenCanvas = undefined;
        window.createImageBitmap = undefined;
    }
    const started = performance.now();
    let blob;
    if (mode === "naive") {  // what the app would send without carrying the EXIF over
        const bitmap = await createImageBitmap(file, {imageOrientation: "from-image"});
        const scale = 2048 / Math.max(bitmap.width, bitmap.height);
        const canvas = new OffscreenCanvas(
            Math.round(bitmap.width * scale), Math.round(bitmap.height * scale));
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        blob = await canvas.convertToBlob({type: "image/jpeg", quality: 0.85});
    } else {
        blob = await window.city311Shrink.shrinkPhoto(file, options);
    }
    const ms = performance.now() - started;
    return {
        ms, type: blob.type, same: blob === file, data: await toBase64(blob),
        exif: await window.city311Shrink.readExif(blob),
        originalExif: await window.city311Shrink.readExif(file),
    };
}"""


# --- Photos


def _ascii(text: str) -> tuple[int, int, bytes]:
    raw = text.encode() + b"\0"
    return 2, len(raw), raw


def _short(endian: str, value: int) -> tuple[int, int, bytes]:
    return 3, 1, struct.pack(endian + "H", value)


def _long(endian: str, value: int) -> tuple[int, int, bytes]:
    return 4, 1, struct.pack(endian + "I", value)


def _degrees(endian: str, value: float) -> tuple[int, int, bytes]:
    degrees, rest = divmod(abs(value) * 3600 * 10_000, 3600 * 10_000)
    minutes, seconds = divmod(rest, 60 * 10_000)
    parts = (int(degrees), 1, int(minutes), 1, round(seconds), 10_000)
    return 5, 3, struct.pack(endian + "6I", *parts)


Entries = dict[int, tuple[int, int, bytes]]


def _ifd_size(entries: Entries) -> int:
    out_of_line = sum(len(raw) + len(raw) % 2 for _, _, raw in entries.values() if len(raw) > 4)
    return 2 + 12 * len(entries) + 4 + out_of_line


def _ifd(endian: str, entries: Entries, start: int, link: int = 0) -> bytes:
    head = struct.pack(endian + "H", len(entries))
    data = b""
    data_at = start + 2 + 12 * len(entries) + 4
    for tag, (kind, count, raw) in sorted(entries.items()):
        if len(raw) <= 4:
            head += struct.pack(endian + "HHI", tag, kind, count) + raw.ljust(4, b"\0")
        else:
            head += struct.pack(endian + "HHII", tag, kind, count, data_at + len(data))
            data += raw + b"\0" * (len(raw) % 2)
    return head + struct.pack(endian + "I", link) + data


def phone_exif(*, endian: str, orientation: int, size: tuple[int, int]) -> bytes:
    """An EXIF block laid out the way phone cameras write it: IFD0, Exif IFD (capture time,
    offset, pixel size, maker note), GPS IFD, then IFD1 with a JPEG thumbnail at the end."""
    e = endian
    thumbnail = THUMBNAIL
    exif: Entries = {
        0x9003: _ascii(TAKEN),
        0x9011: _ascii(TAKEN_OFFSET),
        0x927C: (7, len(MAKER_NOTE), MAKER_NOTE),
        0xA002: _long(e, size[0]),  # PixelXDimension as LONG,
        0xA003: _short(e, size[1]),  # PixelYDimension as SHORT: both kinds are written
    }
    gps: Entries = {
        0x0000: (1, 4, bytes([2, 3, 0, 0])),
        0x0001: _ascii("N" if LAT >= 0 else "S"),
        0x0002: _degrees(e, LAT),
        0x0003: _ascii("E" if LONG >= 0 else "W"),
        0x0004: _degrees(e, LONG),
    }
    ifd0: Entries = {
        0x010F: _ascii("TestPhone"),
        0x0112: _short(e, orientation),
        0x0132: _ascii("2025:06:02 14:30:05"),
        0x8769: _long(e, 0),
        0x8825: _long(e, 0),
    }
    at_exif = 8 + _ifd_size(ifd0)
    at_gps = at_exif + _ifd_size(exif)
    at_ifd1 = at_gps + _ifd_size(gps)
    ifd0[0x8769], ifd0[0x8825] = _long(e, at_exif), _long(e, at_gps)
    ifd1: Entries = {0x0103: _short(e, 6), 0x0201: _long(e, 0), 0x0202: _long(e, len(thumbnail))}
    ifd1[0x0201] = _long(e, at_ifd1 + _ifd_size(ifd1))
    header = (b"II*\0" if e == "<" else b"MM\0*") + struct.pack(e + "I", 8)
    tiff = (
        header
        + _ifd(e, ifd0, 8, link=at_ifd1)
        + _ifd(e, exif, at_exif)
        + _ifd(e, gps, at_gps)
        + _ifd(e, ifd1, at_ifd1)
        + thumbnail
    )
    return b"Exif\0\0" + tiff


def scene(size: tuple[int, int]) -> Image.Image:
    """An upright scene, one colour per quadrant, with sensor-like noise (so the JPEG has a
    phone photo's weight: about 4 MB at 12 MP)."""
    grain = Image.merge("RGB", [Image.effect_noise(size, 10) for _ in range(3)])
    return ImageChops.add(quadrants(size), grain, offset=-128)


def photo(upright: tuple[int, int], *, orientation: int, exif: Any) -> bytes:
    """A camera's JPEG: the pixels stored turned, with the EXIF orientation that turns them
    back upright."""
    transpose = STORE_FOR_ORIENTATION[orientation]
    img = scene(upright)
    stored = img.transpose(transpose) if transpose is not None else img
    return encode(stored, "JPEG", quality=92, **({"exif": exif} if exif is not None else {}))


@pytest.fixture(scope="module")
def phone_photo() -> bytes:
    """12 MP (4000x3000 stored, 3000x4000 upright: Orientation 6), little-endian EXIF."""
    return photo(
        (3000, 4000),
        orientation=6,
        exif=phone_exif(endian="<", orientation=6, size=(4000, 3000)),
    )


# --- The browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as playwright:
        # Playwright's sync API keeps an event loop in this thread; the ORM calls between
        # its calls are plain synchronous ones.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        violations = csp_watch(browser)
        try:
            yield browser
        finally:
            browser.close()
        assert violations.found == [], violations.found


def _serve(route: Route) -> None:
    url = route.request.url
    if url == f"{ORIGIN}/":
        route.fulfill(
            body=PAGE,
            content_type="text/html; charset=utf-8",
            headers={"Content-Security-Policy": POLICY},
        )
    elif url == f"{ORIGIN}/static/web/shrink.js":
        route.fulfill(path=SHRINK_JS, content_type="text/javascript")
    else:
        route.abort()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=PHONE)
    context.route("**/*", _serve)
    page = context.new_page()
    page.goto(f"{ORIGIN}/")
    assert page.evaluate("typeof window.city311Shrink.shrinkPhoto") == "function"
    assert_accessible(page)  # a harness page, not one of the app's: no screenshot of it
    try:
        yield page
    finally:
        context.close()


def shrink(
    page: Page,
    data: bytes,
    *,
    name: str = "photo.jpg",
    mime: str = "image/jpeg",
    options: dict[str, Any] | None = None,
    mode: str = "default",
) -> dict[str, Any]:
    """Runs shrinkPhoto (or the naive re-encode) in the page on ``data`` chosen in the
    file input; the answer's ``bytes`` are the result."""
    payload: FilePayload = {"name": name, "mimeType": mime, "buffer": data}
    page.set_input_files("#photo", files=[payload])
    result: dict[str, Any] = page.evaluate(SHRINK, [options, mode])
    result["bytes"] = base64.b64decode(result.pop("data"))
    return result


# --- Judging the result with Pillow


def _colour_at(img: Image.Image, fx: float, fy: float) -> tuple[int, ...]:
    """The average colour of a small patch at a fraction of the width and height."""
    w, h = img.size
    x, y = int(w * fx), int(h * fy)
    patch = img.convert("RGB").crop((x - 8, y - 8, x + 8, y + 8))
    patch = patch.resize((1, 1), Image.Resampling.BOX)
    pixel = patch.getpixel((0, 0))
    assert isinstance(pixel, tuple)
    return pixel


def assert_upright(img: Image.Image) -> None:
    """Each quadrant's colour where the upright scene has it (the noise is averaged out)."""
    for (fx, fy), colour in {
        (0.1, 0.1): TOP_LEFT,
        (0.9, 0.1): TOP_RIGHT,
        (0.1, 0.9): BOTTOM_LEFT,
        (0.9, 0.9): BOTTOM_RIGHT,
    }.items():
        got = _colour_at(img, fx, fy)
        assert all(abs(a - b) <= 30 for a, b in zip(got, colour, strict=True)), (fx, fy, got)


def exif_of(data: bytes) -> Image.Exif:
    with Image.open(io.BytesIO(data)) as img:
        return img.getexif()


def assert_same_time_and_place(shrunk: bytes, original: bytes) -> None:
    """The tags as written (time, offset, every GPS tag) and as the proof check reads them."""
    before, after = exif_of(original), exif_of(shrunk)
    times_before, times_after = before.get_ifd(ExifTags.IFD.Exif), after.get_ifd(ExifTags.IFD.Exif)
    for tag in (ExifTags.Base.DateTimeOriginal, ExifTags.Base.OffsetTimeOriginal):
        assert times_after.get(tag) == times_before.get(tag)
    assert after.get_ifd(ExifTags.IFD.GPSInfo) == before.get_ifd(ExifTags.IFD.GPSInfo)
    assert after.get(ExifTags.Base.Orientation, 1) == 1
    read_before = proof_exif_read(data=original, default_tz="America/New_York")
    read_after = proof_exif_read(data=shrunk, default_tz="America/New_York")
    assert read_before.taken_at is not None and read_before.gps is not None
    assert (read_after.taken_at, read_after.gps) == (read_before.taken_at, read_before.gps)
    assert read_after.orientation == 1


def _byte_order(data: bytes) -> bytes:
    """The TIFF byte order mark of the EXIF block ("II" little-endian, "MM" big-endian)."""
    at = data.index(b"Exif\0\0") + 6
    return data[at : at + 2]


def _ifd1_link(data: bytes) -> int:
    """Where IFD0 says IFD1 (the thumbnail's directory) is; 0 for none."""
    tiff = data[data.index(b"Exif\0\0") + 6 :]
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd0,) = struct.unpack_from(order + "I", tiff, 4)
    (entries,) = struct.unpack_from(order + "H", tiff, ifd0)
    (link,) = struct.unpack_from(order + "I", tiff, ifd0 + 2 + 12 * entries)
    return int(link)


def _first_segment(data: bytes) -> bytes:
    """The marker and identifier of the segment right after SOI."""
    assert data[:2] == b"\xff\xd8"
    return data[2:4] + data[6:12]


# --- Tests


@pytest.mark.django_db
def test_a_shrunk_12_mp_phone_photo_keeps_time_and_gps_and_passes_the_proof_check(
    catalog: None, page: Page, phone_photo: bytes
) -> None:
    # Given a 12 MP phone photo (4 MB, stored on its side with Orientation 6) taken at the
    # request's point after it was filed.
    original = phone_photo
    assert len(original) > 3_000_000
    assert exif_of(original).get_ifd(ExifTags.IFD.IFD1) != {}  # a thumbnail to drop
    assert THUMBNAIL in original and _ifd1_link(original) != 0

    # When the app shrinks it.
    result = shrink(page, original)
    shrunk = result["bytes"]
    print(f"\nshrinkPhoto, 12 MP: {result['ms']:.0f} ms, {len(original)} -> {len(shrunk)} bytes")

    # Then it is a quarter of the bytes or less, 2048 px on its long side, and upright: the
    # stored 4000x3000 turns into 1536x2048 with each colour in its corner.
    assert result["type"] == "image/jpeg" and not result["same"]
    assert len(shrunk) < len(original) / 4
    with Image.open(io.BytesIO(shrunk)) as img:
        assert img.format == "JPEG" and img.size == (1536, 2048)
        assert_upright(img)
    # Its EXIF is the original's, first after SOI (no JFIF), Orientation 1, the pixel size
    # tags set to the new size, the maker note kept, the thumbnail (IFD1) gone.
    assert _first_segment(shrunk) == b"\xff\xe1Exif\0\0"
    assert b"JFIF" not in shrunk[:64]
    assert_same_time_and_place(shrunk, original)
    exif = exif_of(shrunk)
    assert exif[ExifTags.Base.Make] == "TestPhone"
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    assert sub[ExifTags.Base.MakerNote] == MAKER_NOTE
    assert (sub[ExifTags.Base.ExifImageWidth], sub[ExifTags.Base.ExifImageHeight]) == (1536, 2048)
    assert exif.get_ifd(ExifTags.IFD.IFD1) == {} and _ifd1_link(shrunk) == 0
    assert THUMBNAIL not in shrunk  # its bytes are cut off too
    # readExif reads both files as Pillow does.
    assert result["originalExif"]["orientation"] == 6
    assert result["exif"]["orientation"] == 1
    for read in (result["originalExif"], result["exif"]):
        assert read["dateTimeOriginal"] == TAKEN
        assert read["gpsLatitude"] == pytest.approx(LAT, abs=1e-6)
        assert read["gpsLongitude"] == pytest.approx(LONG, abs=1e-6)

    # And the project's proof check passes it: the order completes without review.
    staff = staff_make()
    order = order_in(
        WorkOrderStatus.IN_PROGRESS,
        staff=staff,
        service_request=request_make(lat=LAT, long=LONG, requested_at=FILED),
    )
    completed = work_order_complete(work_order=order, actor=staff.crew, proof_photos=[shrunk])
    assert completed.work_order.status == WorkOrderStatus.COMPLETED
    assert not completed.work_order.review_required
    proof = ProofPhoto.objects.get(work_order=order)
    assert proof.verified and proof.reasons == []
    assert proof.taken_at == datetime(2025, 6, 2, 14, 30, 5, tzinfo=NY)
    assert proof.distance_m is not None and proof.distance_m < 1

    # Whereas the same photo shrunk naively (canvas re-encode, EXIF not carried over) is
    # flagged: the check above measures the EXIF that shrink.js carries.
    naive = shrink(page, original, mode="naive")["bytes"]
    with Image.open(io.BytesIO(naive)) as img:
        assert img.size == (1536, 2048)
    other = order_in(
        WorkOrderStatus.IN_PROGRESS,
        staff=staff,
        service_request=request_make(lat=LAT, long=LONG, requested_at=FILED),
    )
    flagged = work_order_complete(work_order=other, actor=staff.crew, proof_photos=[naive])
    assert flagged.work_order.review_required
    reasons = " ".join(flagged.work_order.review_reasons)
    assert "no capture time" in reasons and "no GPS position" in reasons


@pytest.mark.parametrize("mode", ["default", "img"])
def test_a_big_endian_exif_is_carried_too_with_either_decoder(page: Page, mode: str) -> None:
    # Pillow writes EXIF big-endian ("MM"), as tests/workorders/factories.proof_jpeg does;
    # Orientation 8 this time, decoded by createImageBitmap or, on older browsers, an <img>.
    exif = exif_block(orientation=8, gps=(LAT, LONG), taken=TAKEN, offset=TAKEN_OFFSET)
    original = photo((2448, 3264), orientation=8, exif=exif)
    assert _byte_order(original) == b"MM"

    result = shrink(page, original, mode=mode)
    shrunk = result["bytes"]

    assert len(shrunk) < len(original) / 2
    with Image.open(io.BytesIO(shrunk)) as img:
        assert img.size == (1536, 2048)
        assert_upright(img)
    assert _byte_order(shrunk) == b"MM"
    assert_same_time_and_place(shrunk, original)
    assert result["exif"]["orientation"] == 1
    assert result["exif"]["gpsLongitude"] == pytest.approx(LONG, abs=1e-4)


def test_a_photo_without_exif_shrinks_and_stays_without(page: Page) -> None:
    original = photo((4000, 3000), orientation=1, exif=None)

    result = shrink(page, original)
    shrunk = result["bytes"]

    assert len(shrunk) < len(original) / 4
    assert b"Exif\0\0" not in shrunk
    assert result["exif"] is None
    with Image.open(io.BytesIO(shrunk)) as img:
        assert img.size == (2048, 1536)
        assert dict(img.getexif()) == {}
        assert_upright(img)


def test_the_target_is_configurable(page: Page) -> None:
    original = jpeg_bytes(size=(800, 600), exif=exif_block(gps=(LAT, LONG), taken=TAKEN))

    result = shrink(page, original, options={"maxEdge": 400, "quality": 0.6})

    with Image.open(io.BytesIO(result["bytes"])) as img:
        assert img.size == (400, 300)
    assert_same_time_and_place(result["bytes"], original)


def _damaged_exif_jpeg() -> bytes:
    """A big JPEG whose EXIF points IFD0 outside its block: sent as it is (the server reads
    what it can), never with the EXIF half copied."""
    data = photo((3000, 2000), orientation=1, exif=None)
    payload = b"Exif\0\0II*\0" + struct.pack("<I", 0xFFFF0000) + b"\0" * 32
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + data[2:]


@pytest.mark.parametrize(
    ("make", "mime"),
    [
        # 2.4 MB: over the byte threshold, but not a JPEG.
        pytest.param(lambda: encode(noise((1000, 800)), "PNG"), "image/png", id="png"),
        pytest.param(
            lambda: jpeg_bytes(size=(1600, 1200), exif=exif_block(orientation=6, taken=TAKEN)),
            "image/jpeg",
            id="small_jpeg",
        ),
        pytest.param(_damaged_exif_jpeg, "image/jpeg", id="damaged_exif"),
        pytest.param(lambda: b"\xff\xd8\xff\xe0 not a JPEG" * 100_000, "image/jpeg", id="junk"),
    ],
)
def test_files_it_cannot_or_need_not_shrink_pass_through_unchanged(
    page: Page, make: Any, mime: str
) -> None:
    original = make()

    result = shrink(page, original, mime=mime)

    assert result["same"] and result["bytes"] == original


def test_a_photo_is_never_made_bigger(page: Page) -> None:
    # Under the edge but over the byte threshold (1 MiB), so it is re-encoded; at quality
    # 0.85 the re-encode of this quality-60 noise is bigger, so the original goes.
    original = encode(noise((2000, 1500)), "JPEG", quality=60)
    assert len(original) > 1024 * 1024

    result = shrink(page, original)

    assert result["same"] and result["bytes"] == original
    # Whereas with a lower quality the re-encode is smaller, and is sent.
    lower = shrink(page, original, options={"quality": 0.3})
    assert not lower["same"] and len(lower["bytes"]) < len(original)
