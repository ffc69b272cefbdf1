"""The intake's catalog cache: fewer queries per submission, edits seen within the TTL."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext

from backend.catalog.models import ServiceType
from backend.catalog.selectors import service_type_cache_clear, service_type_get_for_intake

pytestmark = pytest.mark.django_db


@pytest.fixture
def cache_on(settings: Any) -> Any:
    settings.CATALOG_CACHE_SECONDS = 60
    service_type_cache_clear()
    yield
    service_type_cache_clear()


def test_cached_service_needs_no_queries(catalog: None, cache_on: None) -> None:
    first = service_type_get_for_intake(service_code="pothole")
    assert first is not None
    with CaptureQueriesContext(connection) as ctx:
        again = service_type_get_for_intake(service_code="pothole")
        assert again is not None
        codes = [a.code for a in again.attributes.all()]
        assert again.department.name == "Public Works"
    assert len(ctx.captured_queries) == 0
    assert "size" in codes


def test_cache_off_reads_every_time_and_clear_forgets(catalog: None, cache_on: None) -> None:
    assert service_type_get_for_intake(service_code="graffiti") is not None
    ServiceType.objects.filter(service_code="graffiti").update(active=False)
    assert service_type_get_for_intake(service_code="graffiti") is not None  # still cached
    service_type_cache_clear()
    assert service_type_get_for_intake(service_code="graffiti") is None


def test_routing_rules_and_calendars_are_cached_too(catalog: None, cache_on: None) -> None:
    from backend.process_cache import process_caches_clear
    from workorders.routing import route_find
    from workorders.selectors import business_calendar_get

    process_caches_clear()
    service = service_type_get_for_intake(service_code="pothole")
    assert service is not None
    point = Point(-71.06, 42.36, srid=4326)
    first = route_find(service_type=service, location=point)
    business_calendar_get(department=first.department)
    with CaptureQueriesContext(connection) as ctx:
        again = route_find(service_type=service, location=point)
        business_calendar_get(department=again.department)
    assert len(ctx.captured_queries) == 0
    assert again.department == first.department
