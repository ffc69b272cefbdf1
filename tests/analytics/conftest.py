"""Analytics test helpers: requests with exact histories, written like the importers write
them (COPY, events included), and the real state machine for later changes."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any

import pytest

from analytics.loading import LoadRow, requests_load
from analytics.measures import city_zone, local_today
from backend.catalog.models import ServiceType


def local(days_ago: int, hour: float = 0.0) -> datetime:
    """A moment in the city's time zone: ``days_ago`` days before today, at ``hour``."""
    day = local_today() - timedelta(days=days_ago)
    return datetime.combine(day, time(0), tzinfo=city_zone()) + timedelta(hours=hour)


def type_id(code: str) -> int:
    return int(ServiceType.objects.values_list("id", flat=True).get(service_code=code))


_counter = {"n": 0}


def row(
    code: str = "pothole",
    *,
    requested: datetime,
    lat: float = 42.3601,
    lon: float = -71.0589,
    **fields: Any,
) -> LoadRow:
    _counter["n"] += 1
    return LoadRow(
        public_id=f"T-{_counter['n']}",
        service_type_id=type_id(code),
        requested_at=requested,
        lat=lat,
        lon=lon,
        **fields,
    )


def load(*rows: LoadRow) -> None:
    report = requests_load(list(rows))
    assert report.inserted == len(rows)


@pytest.fixture
def analytics_db(catalog: None, settings: Any) -> None:
    settings.ANALYTICS_AREA_KIND = "district"
