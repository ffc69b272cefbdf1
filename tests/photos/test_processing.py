"""backend.photos.processing: pure Pillow work, no database."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from backend.photos.processing import (
    EXIF_MAX_BYTES,
    PhotoRejected,
    Rendered,
    photo_render,
    upload_inspect,
)
from tests.photos.images import (
    BAD_FILES,
    BOTTOM_LEFT,
    BOTTOM_RIGHT,
    TOP_LEFT,
    TOP_RIGHT,
    encode,
    exif_block,
    noise,
    oriented_jpeg,
    quadrants,
    with_all_metadata,
)

MAX_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 50_000_000
CITY_TZ = "America/New_York"


def inspect(data: bytes) -> str:
    return upload_inspect(data, max_bytes=MAX_BYTES, max_pixels=MAX_PIXELS).format


def render(data: bytes) -> Rendered:
    return photo_render(data, display_px=1600, thumbnail_px=400, default_tz=CITY_TZ)


def opened(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


def close_to(actual: tuple[int, ...], expected: tuple[int, int, int], tolerance: int = 40) -> bool:
    return all(abs(a - e) <= tolerance for a, e in zip(actual[:3], expected, strict=True))


def assert_upright_quadrants(img: Image.Image) -> None:
    w, h = img.size
    rgb = img.convert("RGB")
    assert close_to(rgb.getpixel((w // 4, h // 4)), TOP_LEFT)  # type: ignore[arg-type]
    assert close_to(rgb.getpixel((3 * w // 4, h // 4)), TOP_RIGHT)  # type: ignore[arg-type]
    assert close_to(rgb.getpixel((w // 4, 3 * h // 4)), BOTTOM_LEFT)  # type: ignore[arg-type]
    assert close_to(rgb.getpixel((3 * w // 4, 3 * h // 4)), BOTTOM_RIGHT)  # type: ignore[arg-type]


def assert_no_metadata(data: bytes) -> None:
    img = opened(data)
    assert img.format == "JPEG"
    assert not img.getexif()
    for key in ("exif", "icc_profile", "xmp", "XML:com.adobe.xmp", "comment"):
        assert key not in img.info, key
    for marker in (b"Exif\x00\x00", b"ICC_PROFILE", b"http://ns.adobe.com/xap", b"secret"):
        assert marker not in data, marker


# --- Orientation


@pytest.mark.parametrize("orientation", [6, 8])
def test_orientation_6_and_8_are_turned_upright_with_swapped_dimensions(orientation: int) -> None:
    data = oriented_jpeg(orientation, upright_size=(600, 400))
    assert opened(data).size == (400, 600)  # as stored: on its side

    rendered = render(data)

    display = opened(rendered.display_jpeg)
    assert display.size == rendered.display_size == (600, 400)
    assert_upright_quadrants(display)
    assert_upright_quadrants(opened(rendered.thumbnail_jpeg))


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 7])
def test_every_other_orientation_is_upright_too(orientation: int) -> None:
    rendered = render(oriented_jpeg(orientation, upright_size=(600, 400)))
    assert rendered.display_size == (600, 400)
    assert_upright_quadrants(opened(rendered.display_jpeg))


def test_orientation_applies_to_a_large_photo_decoded_in_draft_mode() -> None:
    rendered = render(oriented_jpeg(6, upright_size=(4000, 3000)))
    assert rendered.display_size == (1600, 1200)
    assert rendered.thumbnail_size == (400, 300)
    assert_upright_quadrants(opened(rendered.display_jpeg))


def test_webp_orientation_is_applied() -> None:
    scene = quadrants((600, 400)).transpose(Image.Transpose.ROTATE_90)
    rendered = render(encode(scene, "WEBP", quality=95, exif=exif_block(orientation=6)))
    assert rendered.display_size == (600, 400)
    assert_upright_quadrants(opened(rendered.display_jpeg))


def test_an_out_of_range_orientation_is_ignored() -> None:
    rendered = render(encode(quadrants((300, 200)), "JPEG", exif=exif_block(orientation=42)))
    assert rendered.display_size == (300, 200)


# --- Metadata


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_outputs_carry_no_exif_icc_xmp_or_comment(fmt: str) -> None:
    source = opened(with_all_metadata(fmt))
    assert source.getexif() and "icc_profile" in source.info  # the input does carry them

    rendered = render(with_all_metadata(fmt))

    assert_no_metadata(rendered.display_jpeg)
    assert_no_metadata(rendered.thumbnail_jpeg)


def test_an_upright_small_jpeg_loses_its_comment_and_exif_too() -> None:
    # No turning, no shrinking, no colour profile: the output starts as a copy of the
    # decoded file, info dict included.
    data = encode(quadrants((300, 200)), "JPEG", comment=b"secret", exif=exif_block(taken="x"))
    rendered = render(data)
    assert_no_metadata(rendered.display_jpeg)
    assert_no_metadata(rendered.thumbnail_jpeg)


def test_gps_and_capture_time_are_read_north_west() -> None:
    exif = exif_block(gps=(42.3601, -71.0589), taken="2025:03:04 10:11:12", offset="-05:00")
    rendered = render(encode(quadrants((300, 200)), "JPEG", exif=exif))

    assert rendered.gps is not None
    lon, lat = rendered.gps
    assert lat == pytest.approx(42.3601, abs=1e-5)
    assert lon == pytest.approx(-71.0589, abs=1e-5)
    assert rendered.taken_at == datetime(
        2025, 3, 4, 10, 11, 12, tzinfo=timezone(timedelta(hours=-5))
    )


def test_gps_south_east_and_positive_offset() -> None:
    exif = exif_block(gps=(-33.8568, 151.2153), taken="2024:12:31 23:59:58", offset="+10:30")
    rendered = render(encode(quadrants((300, 200)), "JPEG", exif=exif))

    assert rendered.gps is not None
    lon, lat = rendered.gps
    assert lat == pytest.approx(-33.8568, abs=1e-5)
    assert lon == pytest.approx(151.2153, abs=1e-5)
    assert rendered.taken_at is not None
    assert rendered.taken_at.utcoffset() == timedelta(hours=10, minutes=30)
    assert rendered.taken_at == datetime(2024, 12, 31, 13, 29, 58, tzinfo=UTC)


def test_a_capture_time_without_offset_is_in_the_city_time_zone() -> None:
    exif = exif_block(taken="2025:07:01 09:00:00")
    rendered = render(encode(quadrants((300, 200)), "JPEG", exif=exif))
    assert rendered.taken_at == datetime(2025, 7, 1, 9, 0, 0, tzinfo=ZoneInfo(CITY_TZ))
    assert rendered.gps is None


def test_the_digitized_time_stands_in_but_not_the_file_modification_time() -> None:
    digitized = exif_block(digitized="2025:05:06 07:08:09", modified="2026:01:01 00:00:00")
    rendered = render(encode(quadrants((300, 200)), "JPEG", exif=digitized))
    assert rendered.taken_at == datetime(2025, 5, 6, 7, 8, 9, tzinfo=ZoneInfo(CITY_TZ))

    only_modified = exif_block(modified="2026:01:01 00:00:00")
    assert render(encode(quadrants((300, 200)), "JPEG", exif=only_modified)).taken_at is None


@pytest.mark.parametrize("taken", ["0000:00:00 00:00:00", "    :  :     :  :  ", "yesterday"])
def test_a_nonsense_capture_time_is_none(taken: str) -> None:
    exif = exif_block(taken=taken)
    assert render(encode(quadrants((300, 200)), "JPEG", exif=exif)).taken_at is None


def test_gps_zero_zero_means_no_fix() -> None:
    exif = exif_block(gps=(0.0, 0.0))
    assert render(encode(quadrants((300, 200)), "JPEG", exif=exif)).gps is None


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_unparsable_exif_is_ignored_not_fatal(fmt: str) -> None:
    # A bad TIFF header in the EXIF block: Pillow's getexif() raises SyntaxError for PNG
    # and WebP. The photo is still a good photo.
    garbage = b"Exif\x00\x00QQ\x00\x2a\x00\x00\x00\x08" + bytes(range(256))
    data = encode(quadrants((300, 200)), fmt, exif=garbage)
    assert inspect(data) == fmt
    rendered = render(data)
    assert rendered.taken_at is None and rendered.gps is None
    assert rendered.display_size == (300, 200)
    assert_no_metadata(rendered.display_jpeg)


def test_a_broken_icc_profile_is_dropped_and_the_photo_still_renders() -> None:
    data = encode(quadrants((300, 200)), "JPEG", icc_profile=b"not a profile at all")
    rendered = render(data)
    assert_no_metadata(rendered.display_jpeg)
    assert_upright_quadrants(opened(rendered.display_jpeg))


# --- Sizes and formats


def test_display_at_most_1600_and_thumbnail_at_most_400() -> None:
    rendered = render(encode(noise((3000, 2000)), "JPEG", quality=90))
    assert rendered.display_size == (1600, 1067)
    assert rendered.thumbnail_size == (400, 267)
    assert opened(rendered.display_jpeg).size == (1600, 1067)
    assert opened(rendered.thumbnail_jpeg).size == (400, 267)


def test_a_small_photo_is_not_enlarged() -> None:
    rendered = render(encode(quadrants((300, 200)), "PNG"))
    assert rendered.display_size == (300, 200)
    assert rendered.thumbnail_size == (300, 200)


def test_png_with_alpha_is_flattened_on_white() -> None:
    img = Image.new("RGBA", (400, 200), (0, 0, 0, 0))  # transparent left half
    img.paste((200, 0, 0, 255), (200, 0, 400, 200))  # opaque red right half
    rendered = render(encode(img, "PNG"))

    display = opened(rendered.display_jpeg)
    assert display.mode == "RGB"
    assert close_to(display.getpixel((50, 100)), (255, 255, 255), 8)  # type: ignore[arg-type]
    assert close_to(display.getpixel((350, 100)), (200, 0, 0), 20)  # type: ignore[arg-type]


def test_palette_png_with_transparency_is_flattened() -> None:
    img = Image.new("P", (100, 100), 0)
    img.putpalette([0, 0, 0, 10, 200, 10] + [0] * 762)
    img.paste(1, (50, 0, 100, 100))
    rendered = render(encode(img, "PNG", transparency=0))
    display = opened(rendered.display_jpeg)
    assert close_to(display.getpixel((20, 50)), (255, 255, 255), 8)  # type: ignore[arg-type]
    assert close_to(display.getpixel((80, 50)), (10, 200, 10), 20)  # type: ignore[arg-type]


def test_sixteen_bit_greyscale_png_keeps_its_tones() -> None:
    img = Image.new("I;16", (100, 100), 32768)  # mid grey on a 0..65535 scale
    rendered = render(encode(img, "PNG"))
    value = opened(rendered.display_jpeg).convert("L").getpixel((50, 50))
    assert isinstance(value, int) and 120 <= value <= 136


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (encode(quadrants((320, 240)), "JPEG"), "JPEG"),
        (encode(quadrants((320, 240)), "PNG"), "PNG"),
        (encode(quadrants((320, 240)), "WEBP"), "WEBP"),
        (encode(quadrants((320, 240)).convert("RGBA"), "WEBP", lossless=True), "WEBP"),
        (encode(quadrants((320, 240)).convert("CMYK"), "JPEG"), "JPEG"),
        (encode(quadrants((320, 240)).convert("L"), "JPEG"), "JPEG"),
        (encode(quadrants((320, 240)), "JPEG", progressive=True), "JPEG"),
    ],
    ids=["jpeg", "png", "webp", "webp-alpha", "jpeg-cmyk", "jpeg-grey", "jpeg-progressive"],
)
def test_accepted_formats_are_inspected_and_rendered(data: bytes, fmt: str) -> None:
    assert inspect(data) == fmt
    rendered = render(data)
    display = opened(rendered.display_jpeg)
    assert display.mode == "RGB" and display.size == (320, 240)


def test_a_multi_picture_jpeg_from_a_phone_is_a_jpeg() -> None:
    first, second = quadrants((320, 240)), noise((320, 240))
    data = encode(first, "MPO", save_all=True, append_images=[second])
    assert Image.open(io.BytesIO(data)).format == "MPO"
    assert inspect(data) == "JPEG"
    assert render(data).display_size == (320, 240)


def test_format_is_read_from_the_content_not_a_name() -> None:
    # upload_inspect sees bytes only; a PNG is a PNG whatever it was called.
    assert inspect(encode(quadrants((64, 48)), "PNG")) == "PNG"


# --- Refusals


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_files_are_refused_with_their_status(name: str) -> None:
    build, status = BAD_FILES[name]
    with pytest.raises(PhotoRejected) as refused:
        inspect(build())
    assert refused.value.status == status
    assert refused.value.message


def test_the_messages_say_what_is_wrong() -> None:
    def message(name: str) -> str:
        with pytest.raises(PhotoRejected) as refused:
            inspect(BAD_FILES[name][0]())
        return refused.value.message

    assert message("over_15_mb") == "The photo is 15.1 MB; the limit is 15 MB."
    assert "megapixels" in message("png_bomb")
    assert message("png_60_megapixels") == (
        "The photo is 10000x6000 pixels; the limit is 50 megapixels."
    )
    assert "not a JPEG, PNG or WebP" in message("tiff")
    assert "empty" in message("empty")
    assert "damaged or truncated" in message("truncated_jpeg")
    assert "EXIF" in message("jpeg_huge_exif")


def test_exif_up_to_the_jpeg_limit_is_accepted() -> None:
    exif = exif_block(orientation=1)
    exif[0x010E] = "x" * (EXIF_MAX_BYTES - 1024)  # ImageDescription: a near-full APP1
    data = encode(quadrants((64, 48)), "JPEG", exif=exif)
    assert inspect(data) == "JPEG"


def test_exactly_15_mb_is_not_413() -> None:
    data = b"\xff\xd8\xff" + b"\x00" * (MAX_BYTES - 3)
    with pytest.raises(PhotoRejected) as refused:
        inspect(data)
    assert refused.value.status == 400  # refused for its content, not its size


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_damaged_files_only_ever_raise_photo_rejected(fmt: str) -> None:
    """Cuts and flipped bytes anywhere in a valid file: accepted or refused, never a crash."""
    good = encode(noise((160, 120), seed=7), fmt, **({"quality": 90} if fmt != "PNG" else {}))
    rng = random.Random(311)
    for _ in range(60):
        data = bytearray(good)
        if rng.random() < 0.5:
            data = data[: rng.randrange(1, len(data))]
        else:
            for _ in range(rng.randrange(1, 8)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        try:
            inspect(bytes(data))
        except PhotoRejected as refused:
            assert refused.status == 400
