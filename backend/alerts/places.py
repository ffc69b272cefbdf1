"""A point and a radius as alerts and feeds take them: checked, each wrong field named."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.geos import Point
from django.utils.translation import gettext as _

from backend.alerts.selectors import point_in_city
from backend.errors import Errors


def place_check(
    *,
    lat: float | None,
    long: float | None,
    radius_m: int | None,
    errors: Errors,
    in_city: bool = True,
) -> Point | None:
    """The point of ``lat``/``long`` with its radius checked (both or neither; the radius
    within ``ALERTS_RADIUS_MAX_M``; with ``in_city``, inside the city), or None; each wrong
    field named in ``errors``."""
    if lat is None and long is None:
        if radius_m is not None:
            errors["radius_m"] = [_("A radius needs a point: give lat and long too.")]
        return None
    if lat is None or not -90 <= lat <= 90:
        errors["lat"] = [_("Give a latitude between -90 and 90.")]
    if long is None or not -180 <= long <= 180:
        errors["long"] = [_("Give a longitude between -180 and 180.")]
    if radius_m is None or not 1 <= radius_m <= settings.ALERTS_RADIUS_MAX_M:
        errors["radius_m"] = [
            _("The radius must be 1 to %(max)d metres.") % {"max": settings.ALERTS_RADIUS_MAX_M}
        ]
    if "lat" in errors or "long" in errors:
        return None
    assert lat is not None and long is not None
    point = Point(long, lat, srid=4326)
    if in_city and not point_in_city(point=point):
        errors["location"] = [_("This point is outside the city.")]
    return point
