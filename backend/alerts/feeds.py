"""Public Atom feeds of new requests: ``/feeds/requests.atom`` with ``lat``, ``long`` and
``radius_m`` (at most ``ALERTS_RADIUS_MAX_M``), ``area=<slug>`` and ``service_code``, which
combine; the newest ``ALERTS_FEED_LIMIT`` first. Public fields only, ``visible()`` requests
only, no imported history (``backend.alerts.selectors.feed_requests``). A wrong parameter is
400 naming it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.gis.geos import MultiPolygon
from django.contrib.syndication.views import Feed
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed
from django.utils.html import escape
from django.utils.translation import gettext as _

from backend.alerts.messages import STATUS_WORDS, public_address
from backend.alerts.places import place_check
from backend.alerts.selectors import area_by_slug, circle_make, feed_requests
from backend.catalog.models import ServiceType
from backend.errors import City311Error, Errors
from backend.service_requests.models import ServiceRequest, Status
from workorders.models import Area

PARAMETERS = ("lat", "long", "radius_m", "area", "service_code")


@dataclass(frozen=True)
class FeedQuery:
    circle: MultiPolygon | None
    area: Area | None
    service_type: ServiceType | None
    query: str


def _number(raw: str, field: str, kind: type[float] | type[int], errors: Errors) -> float | None:
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        errors[field] = [_("%(field)s must be a number.") % {"field": field}]
        return None


def feed_query_parse(params: dict[str, str]) -> FeedQuery:
    errors: Errors = {}
    lat = _number(params.get("lat", ""), "lat", float, errors)
    long = _number(params.get("long", ""), "long", float, errors)
    radius = _number(params.get("radius_m", ""), "radius_m", int, errors)
    circle = None
    if not errors:
        point = place_check(
            lat=lat,
            long=long,
            radius_m=int(radius) if radius is not None else None,
            errors=errors,
            in_city=False,
        )
        if point is not None and not errors:
            circle = circle_make(point=point, radius_m=int(radius or 1))
    area = None
    if params.get("area"):
        area = area_by_slug(slug=params["area"])
        if area is None:
            errors["area"] = [_("No area %(slug)s.") % {"slug": params["area"]}]
    service_type = None
    if params.get("service_code"):
        service_type = ServiceType.objects.filter(service_code=params["service_code"]).first()
        if service_type is None:
            errors["service_code"] = [_("No service %(code)s.") % {"code": params["service_code"]}]
    if errors:
        raise City311Error(errors)
    query = urlencode([(name, params[name]) for name in PARAMETERS if params.get(name)])
    return FeedQuery(circle, area, service_type, query)


class RequestsFeed(Feed):
    feed_type = Atom1Feed

    def __init__(self, query: FeedQuery) -> None:
        super().__init__()
        self.query = query

    def title(self) -> str:
        parts = [_("city311: new requests")]
        if self.query.area is not None:
            parts.append(self.query.area.name)
        if self.query.service_type is not None:
            parts.append(self.query.service_type.localized_name())
        return " · ".join(parts)

    def link(self) -> str:
        return reverse("web:report")

    def feed_url(self) -> str:
        path = reverse("alerts:feed")
        return f"{path}?{self.query.query}" if self.query.query else path

    def subtitle(self) -> str:
        return _("The newest public reports, newest first.")

    def items(self) -> list[ServiceRequest]:
        return feed_requests(
            circle=self.query.circle,
            area=self.query.area,
            service_type_id=self.query.service_type.pk if self.query.service_type else None,
            limit=settings.ALERTS_FEED_LIMIT,
        )

    def item_title(self, item: ServiceRequest) -> str:
        return "%s, %s: %s" % (  # noqa: UP031
            item.service_type.localized_name(),
            item.public_id,
            STATUS_WORDS[Status(item.status)],
        )

    def item_description(self, item: ServiceRequest) -> str:
        # Atom's summary is HTML: the resident's words escaped, one line each.
        lines = (public_address(item), item.description)
        return "<br>".join(escape(line) for line in lines if line)

    def item_link(self, item: ServiceRequest) -> str:
        return reverse("web:track", kwargs={"public_id": item.public_id})

    def item_guid(self, item: ServiceRequest) -> str:
        return f"urn:city311:request:{item.public_id}"

    def item_guid_is_permalink(self, item: ServiceRequest) -> bool:
        return False

    def item_pubdate(self, item: ServiceRequest) -> datetime:
        return item.requested_at

    def item_updateddate(self, item: ServiceRequest) -> datetime:
        return item.updated_at


def requests_feed(request: HttpRequest) -> HttpResponse:
    try:
        query = feed_query_parse({name: request.GET.get(name, "") for name in PARAMETERS})
    except City311Error as exc:
        text = "\n".join(f"{field}: {' '.join(messages)}" for field, messages in exc.errors.items())
        return HttpResponse(text, status=400, content_type="text/plain; charset=utf-8")
    return RequestsFeed(query)(request)
