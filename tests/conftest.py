"""Shared fixtures. Tests run against the real PostGIS database and Redis of the checkout
(``make test`` starts them); nothing of the ORM is mocked."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from PIL import Image
from rest_framework.test import APIClient

from backend.catalog.models import ServiceType
from backend.catalog.services import catalog_load_file
from backend.ratelimit import counters_clear
from tests.stack import RATE_LIMITS_UNTHROTTLED

pytest_plugins = ("tests.people",)

# A point in Boston (lat, long) used as the default location.
BOSTON = (42.3601, -71.0589)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        catalog_load_file()
    counters_clear()  # rate-limit counters and log-in lock-outs left by an earlier run


@pytest.fixture
def catalog(db: None) -> None:
    """The default catalog (reloaded when a transactional test emptied the tables)."""
    if not ServiceType.objects.exists():
        catalog_load_file()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture(autouse=True)
def _rate_limits_unthrottled(settings: Any) -> None:
    """Tests not about the rate limits are never throttled (they file, sign in and chat far
    faster than a resident does, from one address); the limits' own tests put the site's
    defaults back (tests/security/test_rate_limits.py)."""
    for name, value in RATE_LIMITS_UNTHROTTLED.items():
        setattr(settings, name, value)


@pytest.fixture(autouse=True)
def _media_dirs(tmp_path: Any, settings: Any) -> Iterator[None]:
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_UPLOAD_ROOT = tmp_path / "private"
    yield


def jpeg_bytes(
    size: tuple[int, int] = (800, 600),
    color: tuple[int, int, int] = (200, 30, 30),
    exif: Image.Exif | None = None,
    quality: int = 90,
) -> bytes:
    out = io.BytesIO()
    img = Image.new("RGB", size, color)
    kwargs: dict[str, Any] = {"quality": quality}
    if exif is not None:
        kwargs["exif"] = exif
    img.save(out, "JPEG", **kwargs)
    return out.getvalue()


def png_bytes(size: tuple[int, int] = (300, 200), mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (10, 200, 10, 128) if mode == "RGBA" else (10, 200, 10)).save(out, "PNG")
    return out.getvalue()


def pothole_payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "service_code": "pothole",
        "lat": BOSTON[0],
        "long": BOSTON[1],
        "description": "Deep hole in the right lane",
        "attributes": {"size": "large"},
    }
    payload.update(overrides)
    return payload


def web_report_form(**fields: Any) -> dict[str, Any]:
    """A large pothole at this point as the web report form posts it, with ``fields``."""
    return {
        "service_code": "pothole",
        "lat": str(BOSTON[0]),
        "long": str(BOSTON[1]),
        "attr-pothole-size": "large",
        **fields,
    }


__all__ = ["BOSTON", "jpeg_bytes", "png_bytes", "pothole_payload", "settings", "web_report_form"]
