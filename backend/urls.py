import sys

from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path, re_path
from django.views import defaults
from django.views.static import serve
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView


def health(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


API_PREFIXES = ("/api/", "/mobile/")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """API paths that match no route (``/api/v1/workorders/null``) answer the API's JSON
    error shape; pages keep Django's HTML page."""
    if request.path.startswith(API_PREFIXES):
        return JsonResponse({"detail": "Not found.", "errors": {}}, status=404)
    return defaults.page_not_found(request, exception)


DATABASE_AWAY_RETRY_AFTER_S = 5


def _database_away() -> bool:
    """Is the exception being handled the database being away (restarting, unreachable, the
    pool unable to connect)? Django calls the 500 handler inside its ``except`` block."""
    from django.db import InterfaceError, OperationalError

    return isinstance(sys.exc_info()[1], OperationalError | InterfaceError)


def server_error(request: HttpRequest) -> HttpResponse:
    if _database_away():
        # Not the application's fault and soon over: 503 and when to come back, never a
        # trace. The pool reconnects by itself once the database is back.
        answer = JsonResponse(
            {
                "detail": "The service is briefly unavailable; please try again shortly.",
                "errors": {},
            },
            status=503,
        )
        answer["Retry-After"] = str(DATABASE_AWAY_RETRY_AFTER_S)
        return answer
    if request.path.startswith(API_PREFIXES):
        return JsonResponse({"detail": "Server error.", "errors": {}}, status=500)
    return defaults.server_error(request)


handler404 = not_found
handler500 = server_error


urlpatterns = [
    path("admin/", admin.site.urls),
    path("mobile/v1/", include("mobile_api.urls")),
    path("api/v1/analytics/", include("analytics.api.urls")),
    path("api/v1/", include("workorders.api.urls")),
    path("api/v1/", include("chatbot.urls")),
    path("crew/", include("workorders.crewapp.urls")),  # the crews' field app
    path("", include("workorders.web.urls")),
    path("", include("chatbot.inbox_urls")),  # the agent inbox (staff console)
    path("", include("analytics.web.urls")),
    path("open311/", include("backend.open311.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Swagger UI's start-up script as a file of its own (?script): no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("healthz", health, name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Sign-in for everyone who is not admin staff, residents' sign-up and /me/.
    path("", include("backend.accounts.urls")),
    # Area alerts (subscribe, confirm, unsubscribe, manage) and the public Atom feeds.
    path("", include("backend.alerts.urls")),
    path("", include("backend.web.urls")),
]
if settings.SERVE_MEDIA:
    urlpatterns += [
        re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}),
    ]
if "bench.baseline" in settings.INSTALLED_APPS:
    urlpatterns += [path("bench/", include("bench.baseline.urls"))]
