"""``/open311/v2/``: every resource as ``.json`` and ``.xml``.

Around them: the base tolerated with a doubled slash or glued to the resource name (a client
concatenating ``services.xml`` onto ``.../open311/v2``), and an Open311-shaped 404 for any
other path under the base."""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, path, re_path

from backend.open311 import views

app_name = "open311"


def _formats(route: str, view: Any, name: str) -> list[URLPattern]:
    return [path(f"v2/{route}.{fmt}", view, {"format": fmt}, name=name) for fmt in ("json", "xml")]


urlpatterns = [
    *_formats("discovery", views.DiscoveryView.as_view(), "discovery"),
    *_formats("services", views.ServiceListView.as_view(), "services"),
    *_formats("services/<str:service_code>", views.ServiceDefinitionView.as_view(), "service"),
    *_formats("requests", views.RequestsView.as_view(), "requests"),
    *_formats("requests/<str:service_request_id>", views.RequestDetailView.as_view(), "request"),
    *_formats("tokens/<str:token>", views.TokenView.as_view(), "token"),
    *_formats("servicerequestupdates", views.RequestUpdatesView.as_view(), "updates"),
    re_path(r"^v2(?P<rest>/{2,}.+|[^/].*)$", views.base_tolerant),
    re_path(r"^v2/.*$", views.not_found),
]
