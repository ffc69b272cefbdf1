"""Test data through the real services (never by writing status fields directly)."""

from __future__ import annotations

from typing import Any

from backend.intake.services import IntakeResult, service_request_submit
from backend.service_requests.models import ServiceRequest
from tests.conftest import BOSTON

DEFAULT_ANSWERS: dict[str, dict[str, Any]] = {
    "pothole": {"size": "large"},
    "streetlight": {"problem": "out"},
    "graffiti": {"surface": "public", "offensive": "no"},
    "illegal_dumping": {"items": ["furniture"]},
    "abandoned_vehicle": {"colour": "blue"},
    "missed_collection": {"stream": "trash"},
    "sidewalk_damage": {"hazard": "raised"},
    "tree_hazard": {"blocking": "road"},
    "traffic_signal": {"problem": "dark"},
    "water_leak": {"source": "hydrant"},
    "rodents": {"location_type": "street"},
    "dead_animal": {"animal": "small"},
}


def submit_result(
    service_code: str = "pothole",
    *,
    lat: float = BOSTON[0],
    long: float = BOSTON[1],
    channel: str = "app",
    **kwargs: Any,
) -> IntakeResult:
    """``service_request_submit`` at City Hall from the app, with the service's default
    answers unless given."""
    kwargs.setdefault("attributes", DEFAULT_ANSWERS[service_code])
    return service_request_submit(
        service_code=service_code, channel=channel, lat=lat, long=long, **kwargs
    )


def submit(service_code: str = "pothole", **kwargs: Any) -> ServiceRequest:
    return submit_result(service_code, **kwargs).service_request
