"""Test images built with Pillow in memory: good photos with chosen metadata, and the bad
files an upload endpoint gets sent (wrong formats, bombs, damaged files)."""

from __future__ import annotations

import io
import random
import struct
import zlib
from collections.abc import Callable
from typing import Any

from PIL import ExifTags, Image, ImageCms

# An upright scene with one colour per quadrant, to tell which way up an output is.
TOP_LEFT, TOP_RIGHT = (220, 20, 20), (20, 200, 20)
BOTTOM_LEFT, BOTTOM_RIGHT = (20, 20, 220), (230, 230, 30)

# How to store an upright scene so that a viewer applying EXIF orientation N shows it
# upright: the inverse of the transpose the orientation asks for.
STORE_FOR_ORIENTATION = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,  # the viewer turns it 90 degrees clockwise
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}

SRGB_ICC = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def quadrants(size: tuple[int, int]) -> Image.Image:
    w, h = size
    img = Image.new("RGB", size, TOP_LEFT)
    img.paste(TOP_RIGHT, (w // 2, 0, w, h // 2))
    img.paste(BOTTOM_LEFT, (0, h // 2, w // 2, h))
    img.paste(BOTTOM_RIGHT, (w // 2, h // 2, w, h))
    return img


def noise(size: tuple[int, int], *, seed: int = 1) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))


def exif_block(
    *,
    orientation: int | None = None,
    gps: tuple[float, float] | None = None,  # (lat, lon), signed
    taken: str | None = None,
    offset: str | None = None,
    digitized: str | None = None,
    modified: str | None = None,
) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "TestPhone"
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if modified is not None:
        exif[ExifTags.Base.DateTime] = modified
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    if taken is not None:
        sub[ExifTags.Base.DateTimeOriginal] = taken
    if offset is not None:
        sub[ExifTags.Base.OffsetTimeOriginal] = offset
    if digitized is not None:
        sub[ExifTags.Base.DateTimeDigitized] = digitized
    if gps is not None:
        lat, lon = gps
        ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
        ifd[ExifTags.GPS.GPSLatitudeRef] = "S" if lat < 0 else "N"
        ifd[ExifTags.GPS.GPSLatitude] = _dms(abs(lat))
        ifd[ExifTags.GPS.GPSLongitudeRef] = "W" if lon < 0 else "E"
        ifd[ExifTags.GPS.GPSLongitude] = _dms(abs(lon))
    return exif


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = round((value - degrees - minutes / 60) * 3600, 4)
    return float(degrees), float(minutes), seconds


def encode(img: Image.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    img.save(out, fmt, **params)
    return out.getvalue()


def oriented_jpeg(orientation: int, upright_size: tuple[int, int] = (600, 400)) -> bytes:
    """A JPEG whose pixels are stored turned, with the EXIF tag that turns them back."""
    scene = quadrants(upright_size)
    transpose = STORE_FOR_ORIENTATION[orientation]
    stored = scene.transpose(transpose) if transpose is not None else scene
    return encode(stored, "JPEG", quality=92, exif=exif_block(orientation=orientation))


def with_all_metadata(fmt: str = "JPEG", size: tuple[int, int] = (640, 480)) -> bytes:
    """EXIF (with GPS and time), ICC profile, XMP and a comment, all at once."""
    exif = exif_block(
        orientation=6, gps=(42.3601, -71.0589), taken="2025:03:04 10:11:12", offset="-05:00"
    )
    params: dict[str, Any] = {"exif": exif, "icc_profile": SRGB_ICC}
    if fmt == "JPEG":
        params.update(xmp=b"<x:xmpmeta><rdf:RDF>secret</rdf:RDF></x:xmpmeta>", comment=b"home")
    return encode(quadrants(size), fmt, **params)


# --- Bad files


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares a huge image (decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _png_chunk(b"IEND", b"")
    )


def gif_bomb() -> bytes:
    """A GIF declaring 65535 x 65535 pixels in a few bytes."""
    screen = struct.pack("<HHBBB", 0xFFFF, 0xFFFF, 0, 0, 0)
    descriptor = b"," + struct.pack("<HHHHB", 0, 0, 0xFFFF, 0xFFFF, 0)
    return b"GIF89a" + screen + descriptor + b"\x02\x02\x44\x01\x00;"


def truncated_jpeg() -> bytes:
    data = encode(noise((600, 400)), "JPEG", quality=90)
    return data[: len(data) // 2]


def jpeg_with_huge_exif() -> bytes:
    """Two APP1 EXIF segments of 60 kB each: Pillow joins them into one 120 kB block."""
    data = encode(quadrants((200, 150)), "JPEG")
    payload = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08" + b"\x00\x01" + b"\xab" * 60_000
    segment = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    return data[:2] + segment + segment + data[2:]


def png_with_huge_exif() -> bytes:
    exif = b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x00" + b"\xcd" * 2_000_000
    return encode(quadrants((200, 150)), "PNG", exif=exif)


BAD_FILES: dict[str, tuple[Callable[[], bytes], int]] = {
    # name: (builder, expected HTTP status)
    "gif": (lambda: encode(quadrants((64, 48)), "GIF"), 400),
    "gif_bomb": (gif_bomb, 400),
    "tiff": (lambda: encode(quadrants((64, 48)), "TIFF"), 400),
    "bmp": (lambda: encode(quadrants((64, 48)), "BMP"), 400),
    "pdf": (lambda: encode(quadrants((64, 48)), "PDF"), 400),
    "svg_renamed": (
        lambda: b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        400,
    ),
    "html_renamed": (lambda: b"<!doctype html><html><body>hi</body></html>", 400),
    "empty": (lambda: b"", 400),
    "jpeg_header_only": (lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", 400),
    "truncated_jpeg": (truncated_jpeg, 400),
    "png_bomb": (lambda: png_declaring(100_000, 100_000), 400),
    "png_60_megapixels": (lambda: png_declaring(10_000, 6_000), 400),
    "jpeg_huge_exif": (jpeg_with_huge_exif, 400),
    "png_huge_exif": (png_with_huge_exif, 400),
    # Over 15 MB: refused on size before any decoding, whatever the bytes.
    "over_15_mb": (lambda: b"\xff\xd8\xff" + b"\x00" * (15 * 1024 * 1024), 413),
}
