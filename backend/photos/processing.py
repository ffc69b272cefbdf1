"""Pure image work with Pillow: checking an upload, and rendering what is stored.

Uploads are recognised by their content, never by their name: JPEG, PNG and WebP only.
Stored images carry no metadata at all (EXIF, XMP, ICC comments...): residents' homes and
faces travel in EXIF. The capture time and GPS position are read out first and returned so
the caller can keep them privately.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

ACCEPTED_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class PhotoRejected(Exception):
    """An upload that cannot be accepted; ``status`` is the HTTP status to answer."""

    def __init__(self, message: str, *, status: int = 400) -> None:
        self.message = message
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class UploadInfo:
    format: str
    width: int
    height: int


@dataclass(frozen=True)
class Rendered:
    display_jpeg: bytes
    thumbnail_jpeg: bytes
    display_size: tuple[int, int]
    taken_at: datetime | None
    gps: tuple[float, float] | None  # (longitude, latitude)


def upload_inspect(data: bytes, *, max_bytes: int, max_pixels: int) -> UploadInfo:
    """Checks an upload by content and decodes it (cheaply) to catch truncated files."""
    if not data:
        raise PhotoRejected("The file is empty.")
    if len(data) > max_bytes:
        raise PhotoRejected(
            f"The photo is {len(data) / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB.",
            status=413,
        )
    try:
        with Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS)) as img:
            fmt = img.format or ""
            width, height = img.size
            if width * height > max_pixels:
                raise PhotoRejected(
                    f"The photo is {width}x{height} pixels; the limit is "
                    f"{max_pixels / 1e6:.0f} megapixels."
                )
            if fmt == "JPEG":
                # Decoding at 1/8 scale still reads every entropy-coded block.
                img.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            img.load()
    except PhotoRejected:
        raise
    except UnidentifiedImageError as exc:
        raise PhotoRejected("The file is not a JPEG, PNG or WebP image.") from exc
    except Image.DecompressionBombError as exc:
        raise PhotoRejected("The photo has too many pixels.") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise PhotoRejected("The image is damaged or truncated.") from exc
    if fmt not in ACCEPTED_FORMATS:
        raise PhotoRejected("The file is not a JPEG, PNG or WebP image.")
    return UploadInfo(format=fmt, width=width, height=height)


def _to_degrees(value: object) -> float:
    degrees, minutes, seconds = (float(part) for part in value)  # type: ignore[attr-defined]
    return degrees + minutes / 60 + seconds / 3600


def exif_read(img: Image.Image, *, default_tz: str) -> tuple[datetime | None, tuple[float, float] | None]:
    """Capture time (timezone-aware) and GPS (lon, lat) from EXIF, when present and sane."""
    exif = img.getexif()
    taken_at: datetime | None = None
    gps: tuple[float, float] | None = None
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    raw_time = sub.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
    if isinstance(raw_time, str):
        try:
            naive = datetime.strptime(raw_time.strip("\x00 "), "%Y:%m:%d %H:%M:%S")
            offset = sub.get(ExifTags.Base.OffsetTimeOriginal)
            if isinstance(offset, str) and len(offset.strip()) == 6:
                taken_at = datetime.strptime(
                    naive.strftime("%Y-%m-%d %H:%M:%S") + offset.strip(), "%Y-%m-%d %H:%M:%S%z"
                )
            else:
                taken_at = naive.replace(tzinfo=ZoneInfo(default_tz))
        except ValueError:
            taken_at = None
    gps_ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
    try:
        lat = _to_degrees(gps_ifd[ExifTags.GPS.GPSLatitude])
        lon = _to_degrees(gps_ifd[ExifTags.GPS.GPSLongitude])
        if str(gps_ifd.get(ExifTags.GPS.GPSLatitudeRef, "N")).upper().startswith("S"):
            lat = -lat
        if str(gps_ifd.get(ExifTags.GPS.GPSLongitudeRef, "E")).upper().startswith("W"):
            lon = -lon
        if -90 <= lat <= 90 and -180 <= lon <= 180:
            gps = (lon, lat)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        gps = None
    return taken_at, gps


def _fit(size: tuple[int, int], box: int) -> tuple[int, int]:
    w, h = size
    scale = min(1.0, box / max(w, h))
    return max(1, round(w * scale)), max(1, round(h * scale))


def _flatten(img: Image.Image) -> Image.Image:
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return img.convert("RGB") if img.mode != "RGB" else img


def _jpeg(img: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    # A fresh image with no info dict: no EXIF, XMP, ICC or comments are written.
    img.save(out, "JPEG", quality=quality, optimize=False, progressive=False)
    return out.getvalue()


def photo_render(
    data: bytes, *, display_px: int, thumbnail_px: int, default_tz: str
) -> Rendered:
    """Display size and thumbnail, upright and stripped of metadata, plus private EXIF."""
    with Image.open(io.BytesIO(data), formats=list(ACCEPTED_FORMATS)) as img:
        taken_at, gps = exif_read(img, default_tz=default_tz)
        orientation = img.getexif().get(ExifTags.Base.Orientation, 1)
        # The display box in the file's own (unrotated) orientation.
        target = _fit(img.size, display_px)
        if img.format == "JPEG":
            # Draft mode lets libjpeg decode straight to 1/2, 1/4 or 1/8 scale.
            img.draft("RGB", target)
        img.load()
        upright = ImageOps.exif_transpose(img) if orientation != 1 else img
        rgb = _flatten(upright)
        display = rgb.resize(
            _fit(rgb.size, display_px), Image.Resampling.LANCZOS, reducing_gap=2.0
        ) if max(rgb.size) > display_px else rgb.copy()
        display.info.clear()
        thumb = display.resize(
            _fit(display.size, thumbnail_px), Image.Resampling.LANCZOS, reducing_gap=2.0
        ) if max(display.size) > thumbnail_px else display.copy()
        thumb.info.clear()
        return Rendered(
            display_jpeg=_jpeg(display, 85),
            thumbnail_jpeg=_jpeg(thumb, 80),
            display_size=display.size,
            taken_at=taken_at,
            gps=gps,
        )
