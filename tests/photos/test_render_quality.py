"""The libvips rendering of JPEGs (``photo_render``) against the all-Pillow one
(``photo_render_pillow``, the reference): the same sizes, the same EXIF read, no metadata
out, upright, and visually the same pixels (a PSNR bound); bombs and damaged files are still
refused. No database."""

from __future__ import annotations

import io
import math
import struct

import pytest
import pyvips
from PIL import Image, ImageChops, ImageFilter, ImageStat

from backend.photos.processing import PhotoRejected, Rendered, photo_render, photo_render_pillow
from tests.photos.images import (
    STORE_FOR_ORIENTATION,
    encode,
    exif_block,
    noise,
    quadrants,
    with_all_metadata,
)
from tests.photos.test_processing import assert_no_metadata, assert_upright_quadrants, opened

# The libvips display image and thumbnail against Pillow's: at least this PSNR, and at most
# this mean absolute difference per channel (of 255). Measured on the photo-like image
# below: about 46 dB and 0.9 (display), 45 dB and 1.0 (thumbnail); two JPEG encodings of
# the same picture at quality 85 differ by about as much.
PSNR_MIN_DB = 40.0
MEAN_DIFF_MAX = 2.0
KW = {"display_px": 1600, "thumbnail_px": 400, "default_tz": "America/New_York"}


def render(data: bytes) -> Rendered:
    return photo_render(data, **KW)  # type: ignore[arg-type]


def reference(data: bytes) -> Rendered:
    return photo_render_pillow(data, **KW)  # type: ignore[arg-type]


def photo_like(size: tuple[int, int], *, seed: int = 5) -> Image.Image:
    """Gradients with texture at two scales: compresses and resizes like a street photo."""
    light = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").resize(size),
            Image.radial_gradient("L").resize(size),
            Image.linear_gradient("L").transpose(Image.Transpose.ROTATE_90).resize(size),
        ),
    )
    half = (size[0] // 2, size[1] // 2)
    coarse = noise(half, seed=seed).filter(ImageFilter.GaussianBlur(1.5)).resize(size)
    return ImageChops.blend(ImageChops.blend(light, coarse, 0.45), noise(size, seed=seed), 0.08)


def difference(a: bytes, b: bytes) -> tuple[float, float]:
    """(PSNR in dB, mean absolute difference per channel) between two same-size JPEGs."""
    first, second = opened(a).convert("RGB"), opened(b).convert("RGB")
    assert first.size == second.size
    stat = ImageStat.Stat(ImageChops.difference(first, second))
    mse = sum(stat.sum2) / (3 * stat.count[0])
    psnr = math.inf if mse == 0 else 10 * math.log10(255**2 / mse)
    return psnr, sum(stat.mean) / 3


def assert_close_to_pillow(data: bytes) -> None:
    ours, theirs = render(data), reference(data)
    pairs = [(ours.display_jpeg, theirs.display_jpeg), (ours.thumbnail_jpeg, theirs.thumbnail_jpeg)]
    for mine, pillows in pairs:
        psnr, mean_diff = difference(mine, pillows)
        assert psnr >= PSNR_MIN_DB, psnr
        assert mean_diff <= MEAN_DIFF_MAX, mean_diff


def display_p3_profile() -> bytes:
    """Display P3, as iPhones embed it (libvips ships the profile)."""
    black = pyvips.Image.black(4, 4, bands=3).copy(interpretation="srgb")
    profile: bytes = black.icc_transform("p3").get("icc-profile-data")
    return profile


# --- Visually the same


@pytest.mark.parametrize(
    "params",
    [{"quality": 92}, {"quality": 92, "progressive": True}, {"quality": 75, "subsampling": 0}],
    ids=["baseline", "progressive", "4:4:4"],
)
def test_a_phone_sized_jpeg_renders_visually_as_pillow_does(params: dict[str, object]) -> None:
    data = encode(photo_like((4000, 3000)), "JPEG", **params)
    assert_close_to_pillow(data)


def test_a_jpeg_shrunk_by_an_odd_factor_is_close_too() -> None:
    # 2592 -> 1600 is under 1/2: decoded at full size, then Lanczos alone.
    assert_close_to_pillow(encode(photo_like((2592, 1944)), "JPEG", quality=90))


def test_a_small_jpeg_kept_at_its_size_is_close_too() -> None:
    assert_close_to_pillow(encode(photo_like((1200, 900)), "JPEG", quality=90))


def test_an_embedded_colour_profile_is_applied_as_pillow_applies_it() -> None:
    scene = photo_like((2400, 1800))
    tagged = encode(scene, "JPEG", quality=92, icc_profile=display_p3_profile())
    untagged = encode(scene, "JPEG", quality=92)

    assert_close_to_pillow(tagged)
    # And the profile did change the colours (P3 pixels read as sRGB look washed out).
    psnr, _mean = difference(render(tagged).display_jpeg, render(untagged).display_jpeg)
    assert psnr < 35


def test_a_greyscale_jpeg_comes_out_rgb_and_close() -> None:
    data = encode(photo_like((2400, 1800)).convert("L"), "JPEG", quality=90)
    rendered = render(data)
    assert opened(rendered.display_jpeg).mode == "RGB"
    assert_close_to_pillow(data)


# --- The same sizes


@pytest.mark.parametrize(
    "size",
    [
        (4000, 3000),
        (3000, 4000),
        (4032, 3024),
        (3000, 2000),
        (1601, 1199),
        (1600, 1200),
        (2000, 401),
        (8000, 9),
        (999, 333),
        (401, 401),
    ],
)
def test_display_and_thumbnail_sizes_are_pillows(size: tuple[int, int]) -> None:
    data = encode(quadrants(size), "JPEG", quality=85)
    ours, theirs = render(data), reference(data)
    assert ours.display_size == theirs.display_size
    assert ours.thumbnail_size == theirs.thumbnail_size
    assert opened(ours.display_jpeg).size == ours.display_size
    assert opened(ours.thumbnail_jpeg).size == ours.thumbnail_size


# --- Upright


@pytest.mark.parametrize("orientation", range(1, 9))
def test_every_orientation_is_upright_after_shrink_on_load(orientation: int) -> None:
    scene = quadrants((3200, 2000))
    transpose = STORE_FOR_ORIENTATION[orientation]
    stored = scene.transpose(transpose) if transpose is not None else scene
    data = encode(stored, "JPEG", quality=90, exif=exif_block(orientation=orientation))

    rendered = render(data)

    assert rendered.display_size == (1600, 1000)
    assert rendered.thumbnail_size == (400, 250)
    assert_upright_quadrants(opened(rendered.display_jpeg))
    assert_upright_quadrants(opened(rendered.thumbnail_jpeg))


# --- No metadata out, private EXIF still read


def test_a_large_jpeg_with_every_kind_of_metadata_loses_it_all() -> None:
    data = with_all_metadata("JPEG", size=(3200, 2400))
    rendered = render(data)
    assert_no_metadata(rendered.display_jpeg)
    assert_no_metadata(rendered.thumbnail_jpeg)
    for jpeg in (rendered.display_jpeg, rendered.thumbnail_jpeg):
        fields = pyvips.Image.new_from_buffer(jpeg, "").get_fields()
        assert not {"exif-data", "xmp-data", "icc-profile-data", "jpeg-comment-0"} & set(fields)
        assert b"home" not in jpeg  # the comment
    # What is kept privately is read as before.
    assert (rendered.taken_at, rendered.gps) == (reference(data).taken_at, reference(data).gps)
    assert rendered.gps is not None and rendered.taken_at is not None


def test_a_profile_tagged_jpeg_comes_out_without_the_profile() -> None:
    data = encode(photo_like((2400, 1800)), "JPEG", icc_profile=display_p3_profile())
    rendered = render(data)
    assert_no_metadata(rendered.display_jpeg)
    assert_no_metadata(rendered.thumbnail_jpeg)


# --- Bombs and damaged files: still refused


def jpeg_declaring(width: int, height: int) -> bytes:
    """A small JPEG whose frame header (SOF0) is rewritten to declare another size."""
    data = bytearray(encode(quadrants((64, 48)), "JPEG", quality=80))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def test_a_jpeg_bomb_is_refused_before_any_decoder_runs() -> None:
    with pytest.raises(Image.DecompressionBombError):
        render(jpeg_declaring(60_000, 60_000))


def test_a_truncated_large_jpeg_fails_to_render_with_the_upload_checks_words() -> None:
    whole = encode(photo_like((2400, 1800)), "JPEG", quality=90)
    cut = whole[: len(whole) // 2]
    with pytest.raises(OSError):
        reference(cut)
    with pytest.raises(PhotoRejected) as refused:
        render(cut)
    assert refused.value.message == "The image is damaged or truncated."


def test_non_jpeg_and_cmyk_are_still_rendered_by_pillow_exactly() -> None:
    for data in (
        encode(photo_like((2000, 1500)), "PNG"),
        encode(photo_like((2000, 1500)), "WEBP", quality=90),
        encode(photo_like((2000, 1500)).convert("CMYK"), "JPEG", quality=90),
    ):
        assert render(data) == reference(data)


def test_a_broken_profile_on_a_large_jpeg_is_dropped() -> None:
    data = encode(quadrants((3200, 2400)), "JPEG", icc_profile=b"not a profile at all")
    rendered = render(data)
    assert rendered.display_size == (1600, 1200)
    assert_no_metadata(rendered.display_jpeg)
    assert_upright_quadrants(opened(rendered.display_jpeg))
    assert_close_to_pillow(data)


def test_the_jpeg_bytes_are_valid_baseline_jpegs() -> None:
    rendered = render(encode(photo_like((4000, 3000)), "JPEG", quality=92))
    for jpeg in (rendered.display_jpeg, rendered.thumbnail_jpeg):
        assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
        assert Image.open(io.BytesIO(jpeg)).format == "JPEG"
