"""Areas get a stable slug when first loaded: from the name, else the kind and the name."""

from __future__ import annotations

import pytest

from workorders.areas import areas_load
from workorders.models import Area

pytestmark = pytest.mark.django_db

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[-71.07, 42.35], [-71.06, 42.35], [-71.06, 42.36], [-71.07, 42.35]]],
}


def _load(kind: str, *names: str) -> None:
    features = [
        {"type": "Feature", "properties": {"NAME": name}, "geometry": SQUARE} for name in names
    ]
    areas_load(
        data={"type": "FeatureCollection", "features": features}, name_property="NAME", kind=kind
    )


def test_slugs_are_made_once_and_never_collide(catalog: None) -> None:
    _load("ward", "Bow", "Ward 3 — South")
    _load("district", "Bow")
    assert Area.objects.get(kind="ward", name="Bow").slug == "bow"
    assert Area.objects.get(kind="district", name="Bow").slug == "district-bow"
    assert Area.objects.get(name="Ward 3 — South").slug == "ward-3-south"
    _load("ward", "Bow")  # loaded again: the slug stays
    assert Area.objects.get(kind="ward", name="Bow").slug == "bow"
