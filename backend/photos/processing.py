"""Pure image work: checking an upload, and rendering what is stored.

Uploads are recognised by their content, never by their name: JPEG, PNG and WebP only.
Stored images carry no metadata at all (EXIF, XMP, ICC, comments): residents' homes and
faces travel in EXIF. The capture time and GPS position are read out first and returned so
the caller can keep them privately; an embedded colour profile is applied (to sRGB) before
it is dropped, so colours stay right.

Pillow checks every upload, reads its header and EXIF (format, size, pixel limit, capture
time, GPS, orientation) and renders PNG, WebP and CMYK JPEG (``photo_render_pillow``).
A colour or greyscale JPEG, which is what phones send, is decoded, shrunk and encoded by
libvips (``pyvips``, ADR 0022): it decodes straight at 1/2, 1/4 or 1/8 scale (shrink-on-
load), resizes in the file's own orientation, and only then turns the (much smaller) image
upright; the thumbnail is made from the display image, not from the original.
"""

from __future__ import annotations

import functools
import io
import logging
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from types import ModuleType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from PIL import ExifTags, Image, ImageCms, ImageFilter, UnidentifiedImageError

from backend.errors import City311Error

if TYPE_CHECKING:
    import pyvips

logger = logging.getLogger(__name__)

# Accepted formats and the extension their raw upload is kept under.
ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
# Pillow's plugins to try: no other decoder ever sees an upload (no GIF, TIFF, BMP, PDF...).
_PLUGINS = ("JPEG", "PNG", "WEBP")
# A JPEG APP1 segment holds at most 64 KiB, so no camera writes more EXIF than that. More
# (several APP1 segments, a PNG eXIf or WebP EXIF chunk of megabytes) is an attack on the
# parser, refused at upload.
EXIF_MAX_BYTES = 64 * 1024
DISPLAY_QUALITY = 85
THUMBNAIL_QUALITY = 80
# Resize in two steps (integer reduce, then Lanczos) when shrinking by this factor or more.
REDUCING_GAP = 2.0

_SRGB = ImageCms.createProfile("sRGB")
# JPEG modes libvips renders; CMYK (rare: print workflows, never a phone) stays with Pillow.
_VIPS_JPEG_MODES = ("RGB", "L")
_ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
_EXIF_TIME = re.compile(r"^\s*(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_EXIF_OFFSET = re.compile(r"^\s*([+-])(\d{2}):(\d{2})\s*$")


class PhotoRejected(City311Error):
    """An upload that cannot be accepted; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        super().__init__({"photo": [message]}, field="photo", status_code=status)

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class UploadInfo:
    format: str  # a key of ACCEPTED_FORMATS
    width: int
    height: int


@dataclass(frozen=True)
class ExifData:
    taken_at: datetime | None
    gps: tuple[float, float] | None  # (longitude, latitude)
    orientation: int  # 1..8; 1 is upright


@dataclass(frozen=True)
class Rendered:
    display_jpeg: bytes
    thumbnail_jpeg: bytes
    display_size: tuple[int, int]
    thumbnail_size: tuple[int, int]
    taken_at: datetime | None
    gps: tuple[float, float] | None  # (longitude, latitude)


def _format_of(img: Image.Image) -> str:
    # Phones' multi-picture JPEGs (depth maps, previews) open as MPO: still a JPEG.
    return "JPEG" if img.format == "MPO" else (img.format or "")


def _megabytes(n: int, *, rounding: str) -> str:
    # Rounded up for the photo's size, down for the limit: never "15 MB; the limit is 15 MB".
    tenths = n * 10 / (1024 * 1024)
    value = (math.ceil(tenths) if rounding == "up" else math.floor(tenths)) / 10
    return f"{value:g}"


def upload_inspect(data: bytes, *, max_bytes: int, max_pixels: int) -> UploadInfo:
    """Checks an upload by content and decodes it (JPEG at 1/8 scale) to catch damaged files.

    Raises ``PhotoRejected`` (400, or 413 when too large) and nothing else, whatever the bytes.
    """
    if not data:
        raise PhotoRejected("The file is empty.")
    if len(data) > max_bytes:
        raise PhotoRejected(
            f"The photo is {_megabytes(len(data), rounding='up')} MB; "
            f"the limit is {_megabytes(max_bytes, rounding='down')} MB.",
            status=413,
        )
    try:
        with Image.open(io.BytesIO(data), formats=_PLUGINS) as img:
            fmt = _format_of(img)
            width, height = img.size
            if fmt not in ACCEPTED_FORMATS:
                raise PhotoRejected("The file is not a JPEG, PNG or WebP image.")
            if width * height > max_pixels:
                raise PhotoRejected(
                    f"The photo is {width}x{height} pixels; the limit is "
                    f"{max_pixels / 1e6:g} megapixels."
                )
            if fmt == "JPEG":
                # Decoding at 1/8 scale still reads every entropy-coded block.
                img.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            img.load()
            # After load(): a PNG's eXIf chunk may follow the image data.
            if len(img.info.get("exif") or b"") > EXIF_MAX_BYTES:
                raise PhotoRejected("The photo's metadata (EXIF) is too large.")
    except PhotoRejected:
        raise
    except UnidentifiedImageError as exc:
        raise PhotoRejected("The file is not a JPEG, PNG or WebP image.") from exc
    except Image.DecompressionBombError as exc:
        raise PhotoRejected(
            f"The photo has too many pixels; the limit is {max_pixels / 1e6:g} megapixels."
        ) from exc
    except Exception as exc:
        # Pillow's decoders answer hostile bytes with many exception types (OSError,
        # SyntaxError, ValueError, struct.error, EOFError, IndexError...) that vary between
        # versions. Any of them means the upload cannot be read: the client's fault, a 400.
        logger.info("upload refused as damaged: %r", exc)
        raise PhotoRejected("The image is damaged or truncated.") from exc
    return UploadInfo(format=fmt, width=width, height=height)


def _text(value: object) -> str:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    return value.strip("\x00 ") if isinstance(value, str) else ""


def _exif_time(value: object, offset: object, *, default_tz: str) -> datetime | None:
    match = _EXIF_TIME.match(_text(value))
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    try:
        naive = datetime(year, month, day, hour, minute, second)
    except ValueError:  # 0000:00:00 00:00:00 and the like
        return None
    offset_match = _EXIF_OFFSET.match(_text(offset))
    if offset_match is not None:
        sign, hours, minutes = offset_match.groups()
        delta = timedelta(hours=int(hours), minutes=int(minutes))
        if delta < timedelta(hours=15):
            return naive.replace(tzinfo=timezone(-delta if sign == "-" else delta))
    # No offset recorded: the camera's clock is taken to be in the city's time zone.
    return naive.replace(tzinfo=ZoneInfo(default_tz))


def _degrees(value: object) -> float | None:
    if not isinstance(value, tuple | list) or len(value) != 3:
        return None
    degrees, minutes, seconds = (float(part) for part in value)
    result = degrees + minutes / 60 + seconds / 3600
    return result if math.isfinite(result) else None


def _gps(gps_ifd: dict[int, object]) -> tuple[float, float] | None:
    lat = _degrees(gps_ifd.get(ExifTags.GPS.GPSLatitude))
    lon = _degrees(gps_ifd.get(ExifTags.GPS.GPSLongitude))
    if lat is None or lon is None:
        return None
    if _text(gps_ifd.get(ExifTags.GPS.GPSLatitudeRef)).upper().startswith("S"):
        lat = -lat
    if _text(gps_ifd.get(ExifTags.GPS.GPSLongitudeRef)).upper().startswith("W"):
        lon = -lon
    if not (-90 <= lat <= 90 and -180 <= lon <= 180) or (lat == 0 and lon == 0):
        return None  # out of range, or the 0,0 some phones write without a fix
    return lon, lat


def exif_read(img: Image.Image, *, default_tz: str) -> ExifData:
    """Capture time (timezone-aware), GPS (lon, lat) and orientation, when present and sane.

    EXIF is untrusted input parsed by Pillow: a block it cannot parse counts as no EXIF,
    never as a failure of the photo."""
    try:
        exif = img.getexif()
        orientation = exif.get(ExifTags.Base.Orientation, 1)
        sub = exif.get_ifd(ExifTags.IFD.Exif)
        taken_at = _exif_time(
            sub.get(ExifTags.Base.DateTimeOriginal),
            sub.get(ExifTags.Base.OffsetTimeOriginal),
            default_tz=default_tz,
        ) or _exif_time(
            sub.get(ExifTags.Base.DateTimeDigitized),
            sub.get(ExifTags.Base.OffsetTimeDigitized),
            default_tz=default_tz,
        )
        # IFD0 DateTime is when the file was last changed, not when it was taken: unused.
        gps = _gps(exif.get_ifd(ExifTags.IFD.GPSInfo))
    except Exception as exc:  # see upload_inspect: Pillow's parsers raise many types
        logger.info("unreadable EXIF ignored: %r", exc)
        return ExifData(taken_at=None, gps=None, orientation=1)
    if not isinstance(orientation, int) or orientation not in range(1, 9):
        orientation = 1
    return ExifData(taken_at=taken_at, gps=gps, orientation=orientation)


def _fit(size: tuple[int, int], box: int) -> tuple[int, int]:
    w, h = size
    scale = min(1.0, box / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _shrink(img: Image.Image, box: int) -> Image.Image:
    if max(img.size) <= box:
        return img
    return img.resize(_fit(img.size, box), Image.Resampling.LANCZOS, reducing_gap=REDUCING_GAP)


def _flatten(img: Image.Image) -> Image.Image:
    """RGB, L or CMYK pixels: transparency composed on white, 16-bit scaled to 8-bit."""
    if img.has_transparency_data:
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if img.mode in ("RGB", "L", "CMYK"):
        return img
    if img.mode.startswith(("I", "F")):  # 16-bit greyscale PNG: 0..65535
        return img.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    return img.convert("RGB")


def _to_srgb(img: Image.Image, icc_profile: bytes | None) -> Image.Image:
    if icc_profile:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
            converted = ImageCms.profileToProfile(img, source, _SRGB, outputMode="RGB")
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
            logger.info("colour profile ignored: %r", exc)
        else:
            if converted is not None:
                return converted
    return img if img.mode == "RGB" else img.convert("RGB")


def _jpeg(img: Image.Image, *, quality: int) -> bytes:
    # Only pixels are written: no exif=, icc_profile= or comment=, and the info dict (which
    # JPEG saving reads the comment from) is emptied.
    img.info = {}
    out = io.BytesIO()
    img.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


def photo_render(data: bytes, *, display_px: int, thumbnail_px: int, default_tz: str) -> Rendered:
    """Display size and thumbnail, upright and stripped of metadata, plus private EXIF.

    Pillow opens the file (header only: the format, the size, its pixel limit, EXIF); a
    colour or greyscale JPEG is then rendered by libvips, anything else by Pillow."""
    with Image.open(io.BytesIO(data), formats=_PLUGINS) as img:
        exif = exif_read(img, default_tz=default_tz)
        vips_renders = _format_of(img) == "JPEG" and img.mode in _VIPS_JPEG_MODES
        size = img.size
        icc_profile = img.info.get("icc_profile")
    if not vips_renders:
        return photo_render_pillow(
            data, display_px=display_px, thumbnail_px=thumbnail_px, default_tz=default_tz
        )
    try:
        return _vips_render(
            data,
            size=size,
            display_px=display_px,
            thumbnail_px=thumbnail_px,
            exif=exif,
            icc_profile=bool(icc_profile),
        )
    except _libvips().Error as exc:
        # libvips says what went wrong in its log text; the photo's failure reason gets the
        # words the upload check uses.
        logger.info("JPEG not rendered: %s", getattr(exc, "detail", "") or exc)
        raise PhotoRejected("The image is damaged or truncated.") from exc


@functools.cache
def _libvips() -> ModuleType:
    """pyvips, loaded on first use: libvips (about 17 MB and 40 ms to load) only in the
    processes that render JPEGs (the Celery workers), not in every process that checks
    uploads."""
    import pyvips

    # libvips keeps recent operations and their images for reuse. Every upload is rendered
    # once, so that cache would only hold memory.
    pyvips.cache_set_max(0)
    return pyvips


def _vips_render(
    data: bytes,
    *,
    size: tuple[int, int],
    display_px: int,
    thumbnail_px: int,
    exif: ExifData,
    icc_profile: bool,
) -> Rendered:
    """A JPEG's display image and thumbnail, rendered by libvips."""
    # Both variants are made in the file's own orientation and turned as they are encoded:
    # the thumbnail is still made from the display image, turning loses nothing, and no
    # turned copy of the display image is ever held in memory.
    display = _vips_display(data, size=size, display_px=display_px, icc_profile=icc_profile)
    thumbnail_size = _fit((display.width, display.height), thumbnail_px)
    thumbnail = display
    if thumbnail_size != (display.width, display.height):
        thumbnail = display.thumbnail_image(
            thumbnail_size[0], height=thumbnail_size[1], size="force", no_rotate=True
        ).copy_memory()
    display, thumbnail = (_vips_upright(i, exif.orientation) for i in (display, thumbnail))
    return Rendered(
        display_jpeg=_vips_jpeg(display, quality=DISPLAY_QUALITY),
        thumbnail_jpeg=_vips_jpeg(thumbnail, quality=THUMBNAIL_QUALITY),
        display_size=(display.width, display.height),
        thumbnail_size=(thumbnail.width, thumbnail.height),
        taken_at=exif.taken_at,
        gps=exif.gps,
    )


def _vips_display(
    data: bytes, *, size: tuple[int, int], display_px: int, icc_profile: bool
) -> pyvips.Image:
    """The sRGB display image of a JPEG in the file's own orientation, in memory.

    The output size is Pillow's (``_fit``), forced, so both renderers agree to the pixel.
    A decoding error or a truncated file fails the render, as in Pillow (stray bytes do not);
    a profile libvips cannot use is dropped and logged, as in ``_to_srgb``."""
    width, height = _fit(size, display_px)
    # Shrink-on-load: libjpeg decodes at 1/2, 1/4 or 1/8 scale, then Lanczos makes the
    # exact size, streaming (the decoded image is never held whole). The loader is named:
    # no other decoder ever sees an upload.
    image = _libvips().Image.jpegload_buffer(
        data, shrink=_jpeg_shrink(size, (width, height)), fail_on="error", access="sequential"
    )
    if (image.width, image.height) != (width, height):
        image = image.thumbnail_image(width, height=height, size="force", no_rotate=True)
    image = image.copy_memory()
    if icc_profile:
        try:
            image = image.icc_transform("srgb", embedded=True, intent="perceptual").copy_memory()
        except _libvips().Error as exc:
            logger.info("colour profile ignored: %r", exc)
    if image.bands < 3:
        image = image.colourspace("srgb").copy_memory()
    return image


def _vips_upright(image: pyvips.Image, orientation: int) -> pyvips.Image:
    """The image turned as the EXIF orientation Pillow read says (libvips' own table of the
    eight), computed as it is encoded."""
    if orientation == 1:
        return image
    image = image.copy()
    image.set_type(_libvips().GValue.gint_type, "orientation", orientation)
    return image.autorot()


def _jpeg_shrink(size: tuple[int, int], target: tuple[int, int]) -> int:
    """The largest scale libjpeg can decode at (1/2, 1/4, 1/8) that still gives at least the
    target size: what Pillow's draft mode picks."""
    for shrink in (8, 4, 2):
        if all(math.ceil(side / shrink) >= want for side, want in zip(size, target, strict=True)):
            return shrink
    return 1


def _vips_jpeg(image: pyvips.Image, *, quality: int) -> bytes:
    # keep="none": pixels only, no EXIF, XMP, IPTC, ICC or comment.
    data: bytes = image.jpegsave_buffer(Q=quality, optimize_coding=True, keep="none")
    return data


def photo_render_pillow(
    data: bytes, *, display_px: int, thumbnail_px: int, default_tz: str
) -> Rendered:
    """``photo_render`` all in Pillow, for every accepted format: what renders PNG, WebP and
    CMYK JPEG, and the reference the libvips rendering is held to (visually the same:
    tests/photos/test_render_quality.py; bench/photos.py times both)."""
    with Image.open(io.BytesIO(data), formats=_PLUGINS) as img:
        exif = exif_read(img, default_tz=default_tz)
        icc_profile = img.info.get("icc_profile")
        if _format_of(img) == "JPEG":
            # libjpeg decodes straight to 1/2, 1/4 or 1/8 scale, never below the display
            # box (in the file's own orientation: turning does not change the long side).
            img.draft("RGB", _fit(img.size, display_px))
        img.load()
        # Shrink first, then colour-convert and turn the (much smaller) display image.
        display = _to_srgb(_shrink(_flatten(img), display_px), icc_profile)
        transpose = _ORIENTATION_TRANSPOSE.get(exif.orientation)
        if transpose is not None:
            display = display.transpose(transpose)
        elif display is img:
            display = img.copy()  # the file's image is unusable once closed
    return _rendered(display, thumbnail_px=thumbnail_px, exif=exif)


def _rendered(display: Image.Image, *, thumbnail_px: int, exif: ExifData | None) -> Rendered:
    """The stored variants of an upright sRGB display image: it and its thumbnail (made from
    it), as stripped JPEGs."""
    thumbnail = _shrink(display, thumbnail_px)
    if thumbnail is display:
        thumbnail = display.copy()
    return Rendered(
        display_jpeg=_jpeg(display, quality=DISPLAY_QUALITY),
        thumbnail_jpeg=_jpeg(thumbnail, quality=THUMBNAIL_QUALITY),
        display_size=display.size,
        thumbnail_size=thumbnail.size,
        taken_at=exif.taken_at if exif else None,
        gps=exif.gps if exif else None,
    )


@dataclass(frozen=True)
class BlurBox:
    """A region of the display image, in its pixels (clipped to it by ``blur_box``)."""

    left: int
    top: int
    right: int
    bottom: int


# How strongly a region is blurred: the Gaussian radius is this share of the region's longer
# side (at least BLUR_RADIUS_MIN px), applied twice, so a face or a number plate keeps no
# readable detail, only its average colours.
BLUR_RADIUS_SHARE = 0.25
BLUR_RADIUS_MIN = 12


def blur_box(
    *, size: tuple[int, int], x: float, y: float, w: float, h: float, fractions: bool
) -> BlurBox:
    """The rectangle (x, y, width, height), in pixels of an image of ``size`` or, with
    ``fractions``, as shares of its width and height (0 to 1), clipped to the image.
    Raises ``City311Error`` naming the field for a rectangle that is empty or outside."""
    width, height = size
    values = {"x": x, "y": y, "w": w, "h": h}
    for name, value in values.items():
        if not math.isfinite(value) or value < 0:
            raise City311Error({name: [_("Give a number of 0 or more.")]}, field=name)
        if fractions and value > 1:
            raise City311Error({name: [_("As a fraction: between 0 and 1.")]}, field=name)
    for name in ("w", "h"):
        if values[name] <= 0:
            raise City311Error({name: [_("The rectangle must not be empty.")]}, field=name)
    sx, sy = (width, height) if fractions else (1, 1)
    left, top = math.floor(x * sx), math.floor(y * sy)
    right, bottom = min(width, math.ceil((x + w) * sx)), min(height, math.ceil((y + h) * sy))
    if left >= width:
        raise City311Error({"x": [_("The image is %(n)s pixels wide.") % {"n": width}]}, field="x")
    if top >= height:
        raise City311Error({"y": [_("The image is %(n)s pixels high.") % {"n": height}]}, field="y")
    return BlurBox(left=left, top=top, right=max(right, left + 1), bottom=max(bottom, top + 1))


def photo_blur_render(display: bytes, *, box: BlurBox, thumbnail_px: int) -> Rendered:
    """The stored display image with the region blurred beyond reading, and its thumbnail
    made from it as ``photo_render`` makes it (same sizes, same stripped JPEGs). No EXIF:
    the display image never had any."""
    with Image.open(io.BytesIO(display), formats=("JPEG",)) as img:
        img.load()
        image = img.convert("RGB")
    region = (box.left, box.top, box.right, box.bottom)
    radius = max(
        BLUR_RADIUS_MIN, BLUR_RADIUS_SHARE * max(box.right - box.left, box.bottom - box.top)
    )
    # Blurred with a margin around it (the filter reads past the edge), then cut to the box.
    margin = math.ceil(radius * 2)
    outer = (
        max(0, box.left - margin),
        max(0, box.top - margin),
        min(image.width, box.right + margin),
        min(image.height, box.bottom + margin),
    )
    patch = image.crop(outer)
    for _pass in range(2):
        patch = patch.filter(ImageFilter.GaussianBlur(radius))
    inner = (box.left - outer[0], box.top - outer[1], box.right - outer[0], box.bottom - outer[1])
    image.paste(patch.crop(inner), region)
    return _rendered(image, thumbnail_px=thumbnail_px, exif=None)
