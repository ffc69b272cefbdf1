"""The admin site with the log-in's rate limits and lock-out (``backend/ratelimit.py``): its
log-in form says when signing in is locked or throttled, answered 429 with Retry-After as the
staff console's sign-in is. ``backend.accounts.admin_app.AdminConfig`` in INSTALLED_APPS
makes it ``admin.site``.

Every map in the admin (a GeoDjango geometry field, in a ``GISModelAdmin`` or not) is a
``CityMapWidget``: GeoDjango's OpenLayers widget with OpenLayers vendored (no CDN), the
site's tile server and no inline script, so the admin works under the
Content-Security-Policy (``CONTENT_SECURITY_POLICY``, ``script-src 'self'``)."""

from __future__ import annotations

from typing import Any, cast

from django.conf import settings
from django.contrib import admin
from django.contrib.gis.admin import GISModelAdmin
from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.forms.widgets import OSMWidget
from django.db.models import Model
from django.http import HttpRequest, HttpResponse

from backend.accounts.forms import AdminSignInForm


def _tile_url_for_openlayers(url: str) -> str:
    """Leaflet's tile URL template as OpenLayers reads it: ``{s}`` becomes the usual three
    subdomains, the retina marker ``{r}`` goes."""
    return url.replace("{s}", "{a-c}").replace("{r}", "")


class CityMapWidget(OSMWidget):
    template_name = "gis/city311_map.html"

    class Media:
        extend = False  # not GeoDjango's: OpenLayers from a CDN
        css = {"all": ("web/vendor/ol/ol.css", "gis/css/ol3.css")}
        js = ("web/vendor/ol/ol.js", "gis/js/OLMapWidget.js", "web/admin-map.js")

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        center = [float(part) for part in settings.WEB_MAP_CENTER]
        super().__init__({"default_lat": center[0], "default_lon": center[1], **(attrs or {})})

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        context["map_options_id"] = f"{context['id']}_map_options"
        context["map_options"] = {
            "id": context["id"],
            "map_id": f"{context['id']}_map",
            "name": context["name"],
            "module": context["module"],
            "geom_name": context["geom_type"],
            "map_srid": context["map_srid"],
            "default_lat": context["default_lat"],
            "default_lon": context["default_lon"],
            "default_zoom": context["default_zoom"],
            "tile_url": _tile_url_for_openlayers(settings.WEB_MAP_TILE_URL),
            "attribution": settings.WEB_MAP_ATTRIBUTION,
        }
        return context


class City311AdminSite(admin.AdminSite):
    login_form = AdminSignInForm

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        response: HttpResponse = super().login(request, extra_context)
        context = getattr(response, "context_data", None) or {}
        retry_after = getattr(context.get("form"), "retry_after", None)
        if retry_after is not None:
            response.status_code = 429
            response["Retry-After"] = str(retry_after)
        return response

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        super().register(model_or_iterable, admin_class, **options)
        models = [model_or_iterable] if isinstance(model_or_iterable, type) else model_or_iterable
        for model in models:
            self._maps_use_city_widget(self._registry[model])

    @staticmethod
    def _maps_use_city_widget(model_admin: admin.ModelAdmin[Model]) -> None:
        if isinstance(model_admin, GISModelAdmin):
            model_admin.gis_widget = CityMapWidget
        # ModelAdmin.__init__ made the instance its own copy of the overrides (a dict).
        overrides = cast(dict[type[Any], dict[str, Any]], model_admin.formfield_overrides)
        overrides.setdefault(GeometryField, {"widget": CityMapWidget})
