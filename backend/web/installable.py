"""The residents' installable app: the web app manifest (``/manifest.webmanifest``), the
service worker served from the root so its scope is the whole site (``/sw.js``), the page it
shows when offline (``/offline``), and what the report page needs to keep a report on the
phone while offline (``report_app_context``).

The worker's cache name carries a version: a hash of the files it precaches, so a deploy
that changes any of them installs a new worker, which deletes the old caches."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import get_template
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from backend.i18n import language_current

THEME_COLOR = "#0b5cad"
PUBLIC_ID_SLOT = "PUBLIC_ID"
BACKGROUND_COLOR = "#f6f8fa"

# The shell the worker keeps on the phone: the pages that must open offline and what they load.
SHELL_PAGES = ("web:report", "web:track-lookup", "web:offline")
SHELL_STATIC = (
    "web/web.css",
    "web/app.js",
    "web/lang.js",
    "web/report.js",
    "web/idb-store.js",
    "web/report-queue.js",
    "web/track.js",
    "web/shrink.js",
    "web/push.js",
    "web/icons.svg",
    "web/icons/icon-192.png",
    "web/icons/icon-512.png",
    "web/vendor/leaflet/leaflet.js",
    "web/vendor/leaflet/leaflet.css",
    "web/vendor/leaflet/images/marker-icon.png",
    "web/vendor/leaflet/images/marker-icon-2x.png",
    "web/vendor/leaflet/images/marker-shadow.png",
    "chatbot/chat.js",
    "chatbot/chat.css",
)
SHELL_TEMPLATES = (
    "document.html",
    "web/base.html",
    "web/_language_form.html",
    "web/report.html",
    "web/lookup.html",
    "web/offline.html",
)
# Requests the worker never handles (the network only): other apps, APIs, sockets, media.
# The crew app (/crew/) has a worker of its own.
NETWORK_ONLY = (
    "/crew/",
    "/staff/",
    "/admin/",
    "/api/",
    "/mobile/",
    "/open311/",
    "/ws/",
    "/media/",
    "/i18n/",
    "/healthz",
)
# Pages shown from the network only (never kept on the phone: personal), the offline page
# standing in when the network is away.
PRIVATE_PAGES = ("/me/", "/accounts/", "/feedback/")


def _static_files() -> list[tuple[str, Path]]:
    """The shell's static files that exist here (another part may not be installed)."""
    found = []
    for name in SHELL_STATIC:
        path = finders.find(name)
        if isinstance(path, str):
            found.append((name, Path(path)))
    return found


def shell_version() -> str:
    digest = hashlib.sha256()
    for name, path in _static_files():
        digest.update(name.encode())
        digest.update(path.read_bytes())
    for name in SHELL_TEMPLATES:
        origin = get_template(name).origin.name  # type: ignore[attr-defined]
        digest.update(Path(origin).read_bytes())
    return digest.hexdigest()[:12]


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    data: dict[str, Any] = {
        "id": "/",
        "name": "city311",
        "short_name": "city311",
        "description": _("Report a problem in the street and follow it until it is fixed."),
        "lang": language_current(),
        "dir": "ltr",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOR,
        "background_color": BACKGROUND_COLOR,
        "icons": [
            {
                "src": static("web/icons/icon-192.png"),
                "sizes": "192x192",
                "type": "image/png",
                "purpose": "any",
            },
            {
                "src": static("web/icons/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "any",
            },
            {
                "src": static("web/icons/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
        "shortcuts": [
            {"name": _("Report a problem"), "url": reverse("web:report")},
            {"name": _("My requests"), "url": reverse("accounts:me")},
        ],
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The worker's script, at the root of the site so that its scope is ``/``."""
    values = {
        "version": shell_version(),
        "shell": [reverse(name) for name in SHELL_PAGES]
        + [static(name) for name, _path in _static_files()],
        "network_only": list(NETWORK_ONLY),
        "private_pages": list(PRIVATE_PAGES),
        "offline_url": reverse("web:offline"),
        "report_url": reverse("web:report"),
        "icon": static("web/icons/icon-192.png"),
        "push_script": static("web/push-sw.js"),
        "store_script": static("web/idb-store.js"),
        "queue_script": static("web/report-queue.js"),
        "csrf_cookie": settings.CSRF_COOKIE_NAME,
    }
    # JSON literals in the script (the template does not escape them: they are ours).
    context = {name: json.dumps(value) for name, value in values.items()}
    response = render(request, "web/sw.js", context, content_type="text/javascript; charset=utf-8")
    # The browser checks for a new worker on navigations; never from a stale copy.
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    """What the worker shows for a page it has not kept while the phone is offline."""
    return render(request, "web/offline.html")


def report_app_context() -> dict[str, Any]:
    """What the report page's script needs to keep a report on the phone while offline and
    file it later (``report_app``, read from the page as JSON): the photo limits, where to
    file (the mobile API's intake, which takes an Idempotency-Key), the track pages, and its
    sentences in the page's language."""
    return {
        "report_app": {
            "photo_max_bytes": settings.PHOTO_MAX_BYTES,
            "photo_max_count": settings.PHOTO_MAX_PER_REQUEST,
            "submit_url": reverse("mobile_api:requests"),
            # Asked before an online filing: a phone that says "online" on a dead link keeps
            # the report instead of losing it to the browser's error page.
            "ping_url": reverse("health"),
            "ping_timeout_ms": 8000,
            "retry_ms": 30000,
            # The page fills in the request's id.
            "track_url": reverse("web:track", args=[PUBLIC_ID_SLOT]),
            "track_live_url": reverse("web:track-live", args=[PUBLIC_ID_SLOT]),
            "id_slot": PUBLIC_ID_SLOT,
            "csrf_cookie": settings.CSRF_COOKIE_NAME,
            "strings": {
                "saved": _(
                    "Saved on this phone: your report will be sent when you are back online."
                ),
                "sent": _("Your report has been sent."),
                "number": _("Your request number is %(id)s."),
                "follow": _("Follow it on its page"),
                "refused": _(
                    "Your saved report could not be filed. Please check it and send it again:"
                ),
                "edit": _("Put it back in the form"),
                "discard": _("Discard it"),
                "too_big": _(
                    "The photo %(name)s is too large (more than %(mb)s MB). "
                    "Please choose a smaller one."
                )
                % {"name": "%(name)s", "mb": settings.PHOTO_MAX_BYTES // 10**6},
                "too_many": _("At most %(n)s photos.") % {"n": settings.PHOTO_MAX_PER_REQUEST},
                "no_storage": _(
                    "You are offline and this browser cannot keep the report. "
                    "Please send it when you are back online."
                ),
            },
        }
    }
