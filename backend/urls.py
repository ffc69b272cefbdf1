from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.urls import include, path, re_path
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    path("mobile/v1/", include("mobile_api.urls")),
    path("api/v1/", include("workorders.api.urls")),
    path("", include("workorders.web.urls")),
    path("open311/", include("backend.open311.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", health, name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("backend.web.urls")),
]
if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]
if "bench.baseline" in settings.INSTALLED_APPS:
    urlpatterns += [path("bench/", include("bench.baseline.urls"))]
