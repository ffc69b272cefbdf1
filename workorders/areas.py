"""Loading areas (wards, districts) from GeoJSON: a FeatureCollection of Polygon or
MultiPolygon features in WGS 84 longitude/latitude (RFC 7946), named by one property.

An area is keyed by (kind, name): loading the same file again updates the polygons in place,
so routing rules that name the areas keep working."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.contrib.gis.geos import (
    GeometryCollection,
    GEOSException,
    GEOSGeometry,
    MultiPolygon,
    Polygon,
)
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from workorders.models import Area


class AreasFileError(Exception):
    """The file cannot be loaded; the message names the feature and what is wrong."""


@dataclass
class AreasLoadReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)


def _polygons(geom: GEOSGeometry) -> list[Polygon]:
    """The polygons in a geometry (a repaired one may be a collection with lines in it)."""
    if isinstance(geom, Polygon):
        return [geom] if not geom.empty else []
    if isinstance(geom, GeometryCollection):  # MultiPolygon included
        return [polygon for part in geom for polygon in _polygons(part)]
    return []


def _multipolygon(geometry: Any, where: str) -> tuple[MultiPolygon, bool]:
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
        raise AreasFileError(f"{where}: geometry must be a Polygon or MultiPolygon, not {kind}.")
    try:
        geom = GEOSGeometry(json.dumps(geometry), srid=4326)
    except (GEOSException, ValueError, TypeError) as exc:
        raise AreasFileError(f"{where}: the geometry cannot be read ({exc}).") from exc
    repaired = False
    if not geom.valid:
        geom = geom.make_valid()
        repaired = True
    polygons = _polygons(geom)
    if not polygons:
        raise AreasFileError(f"{where}: the geometry is invalid and cannot be repaired.")
    multi = MultiPolygon(*polygons, srid=4326)
    west, south, east, north = multi.extent
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise AreasFileError(
            f"{where}: coordinates must be longitude/latitude in degrees (WGS 84), "
            f"got a box from {west}, {south} to {east}, {north}."
        )
    return multi, repaired


def area_slug_make(*, kind: str, name: str, taken: set[str]) -> str:
    """A slug for a new area: its name's (``ward-3``), else with its kind before it
    (``district-bow``), else numbered; never one in ``taken``."""
    base = slugify(name)[:200] or "area"
    for candidate in (base, f"{slugify(kind)[:32]}-{base}"):
        if candidate not in taken:
            return candidate
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"


def areas_load(*, data: Any, name_property: str, kind: str = "ward") -> AreasLoadReport:
    """Creates or updates one area per feature; all or nothing."""
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise AreasFileError("The file must be a GeoJSON FeatureCollection.")
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise AreasFileError("The FeatureCollection has no features.")
    kind = kind.strip()
    if not kind or len(kind) > 32:
        raise AreasFileError("--kind must be 1 to 32 characters.")
    parsed: list[tuple[str, MultiPolygon, dict[str, Any], bool]] = []
    seen: set[str] = set()
    for index, feature in enumerate(features, start=1):
        where = f"feature {index}"
        if not isinstance(feature, dict) or feature.get("type") != "Feature":
            raise AreasFileError(f"{where}: not a GeoJSON Feature.")
        properties = feature.get("properties") or {}
        name = (
            str(properties.get(name_property, "")).strip() if isinstance(properties, dict) else ""
        )
        if not name:
            raise AreasFileError(f"{where}: no {name_property!r} property to name it by.")
        if len(name) > 200:
            raise AreasFileError(f"{where}: the name is longer than 200 characters.")
        if name in seen:
            raise AreasFileError(f"{where}: the name {name!r} appears twice.")
        seen.add(name)
        geometry, repaired = _multipolygon(feature.get("geometry"), f"{where} ({name})")
        parsed.append((name, geometry, properties, repaired))
    report = AreasLoadReport()
    now = timezone.now()
    with transaction.atomic():
        taken = set(Area.objects.values_list("slug", flat=True))
        for name, geometry, properties, repaired in parsed:
            defaults = {"geometry": geometry, "properties": properties, "loaded_at": now}
            slug = area_slug_make(kind=kind, name=name, taken=taken)
            _, created = Area.objects.update_or_create(
                kind=kind, name=name, defaults=defaults, create_defaults={**defaults, "slug": slug}
            )
            if created:
                taken.add(slug)
            (report.created if created else report.updated).append(name)
            if repaired:
                report.repaired.append(name)
    return report
