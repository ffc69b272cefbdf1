"""Proof-photo verification: pure checks of a photo's private EXIF data against the request.

A proof photo passes when it was taken after the request was created and within
``PROOF_PHOTO_MAX_DISTANCE_M`` of the request's location. The EXIF block is read from the
uploaded bytes when the photo arrives (the processing task fills the photo's own EXIF columns
later, asynchronously)."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.gis.geos import Point
from django.utils import timezone
from PIL import Image

from backend.photos.processing import ExifData, exif_read

EARTH_RADIUS_M = 6_371_008.8


@dataclass(frozen=True)
class ProofCheck:
    verified: bool
    reasons: list[str] = field(default_factory=list)
    distance_m: float | None = None


def proof_exif_read(*, data: bytes, default_tz: str) -> ExifData:
    """Capture time and GPS of an upload that already passed ``photo_upload_check``."""
    with Image.open(io.BytesIO(data), formats=("JPEG", "PNG", "WEBP")) as img:
        return exif_read(img, default_tz=default_tz)


def distance_m(*, a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (longitude, latitude) points."""
    lon1, lat1, lon2, lat2 = (math.radians(v) for v in (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def proof_check(
    *,
    taken_at: datetime | None,
    gps: tuple[float, float] | None,
    requested_at: datetime,
    request_location: Point | None,
    max_distance_m: float,
) -> ProofCheck:
    """Every reason the photo does not prove the work; verified when there is none."""
    reasons: list[str] = []
    distance: float | None = None
    if taken_at is None:
        reasons.append("The photo has no capture time in its EXIF data.")
    elif taken_at <= requested_at:
        taken = timezone.localtime(taken_at).strftime("%Y-%m-%d %H:%M")
        created = timezone.localtime(requested_at).strftime("%Y-%m-%d %H:%M")
        reasons.append(f"The photo was taken ({taken}) before the request was created ({created}).")
    if gps is None:
        reasons.append("The photo has no GPS position in its EXIF data.")
    elif request_location is None:
        reasons.append("The request has no map location to compare the photo's position with.")
    else:
        distance = distance_m(a=gps, b=(request_location.x, request_location.y))
        if distance > max_distance_m:
            reasons.append(
                f"The photo was taken {distance:.0f} m from the request's location "
                f"(limit {max_distance_m:g} m)."
            )
    return ProofCheck(verified=not reasons, reasons=reasons, distance_m=distance)
