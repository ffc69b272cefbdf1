"""The crew app's page, manifest, service worker and CSRF token.

The page is one HTML shell: the app's translated strings and settings travel in it as
``json_script`` blocks; ``static/crewapp/crew.js`` draws the queue and the orders from the
crew API and ``static/crewapp/outbox.js`` keeps the actions taken on the phone (IndexedDB)
until the server has them. The service worker (``templates/crewapp/sw.js``, served from
``/crew/sw.js`` so that its scope is ``/crew/``) precaches the shell, answers the API's GETs
network-first with the last copy as fallback, and never touches a POST."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import render, resolve_url
from django.template.loader import get_template, render_to_string
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from backend.catalog.selectors import service_type_list
from backend.i18n import language_current
from workorders.models import HoldReason, WorkOrderStatus
from workorders.selectors import staff_access_get
from workorders.web import labels

SCOPE = "/crew/"
LOGOUT_URL = "/accounts/logout/"
# The statuses of the queue the app shows: a team's orders still to do.
QUEUE_STATUSES = (WorkOrderStatus.ASSIGNED, WorkOrderStatus.IN_PROGRESS, WorkOrderStatus.ON_HOLD)
# Cache Storage names: the user's data (orders, photos; wiped at sign-out) and the shell
# (versioned: a new version replaces the old one).
DATA_CACHE = "city311-crew-data"
SHELL_CACHE_PREFIX = "city311-crew-shell-"
# The files the service worker precaches besides the page and the manifest.
APP_STATIC = (
    "crewapp/crew.css",
    "web/idb-store.js",
    "crewapp/outbox.js",
    "crewapp/crew.js",
    "web/shrink.js",
    "web/vendor/leaflet/leaflet.css",
    "web/vendor/leaflet/leaflet.js",
    "web/vendor/leaflet/images/marker-icon.png",
    "web/vendor/leaflet/images/marker-icon-2x.png",
    "web/vendor/leaflet/images/marker-shadow.png",
    "crewapp/icons/icon-192.png",
    "crewapp/icons/icon-512.png",
)
TEMPLATES = (
    "crewapp/app.html",
    "document.html",
    "crewapp/_message_action.html",
    "crewapp/_textarea.html",
    "crewapp/sw.js",
    "web/_language_form.html",
)
ICON_SIZES = (192, 512)

# The console's labels; "other" asks the crew to write the note it refers to.
HOLD_REASON_LABELS: dict[str, Any] = {
    **labels.HOLD_REASON_LABELS,
    HoldReason.OTHER: gettext_lazy("Other (write a note)"),
}


def _strings() -> dict[str, str]:
    """What crew.js shows, translated; ``{name}`` marks a value it fills in."""
    return {
        "loading": _("Loading…"),
        "updated": _("Updated {time}."),
        "offlineCopy": _("Offline: shown as last seen on this phone."),
        "noCopy": _("Offline, and this phone has no copy of it yet."),
        "empty": _("Nothing in your team's queue."),
        "overdue": _("Overdue"),
        "due": _("Due {time}"),
        "noDue": _("No due time"),
        "supporters": _("Me too: {count}"),
        "away": _("{distance} away"),
        "heldFor": _("On hold: {reason}, since {time}"),
        "noDescription": _("No description."),
        "position": _("{lat}, {long}"),
        "photoAlt": _("Photo of the reported problem"),
        "proofAlt": _("Photo of the finished work"),
        "youAreHere": _("You are here"),
        "templatePick": _("Response template"),
        "templateNone": _("None: write my own"),
        "waitingHere": _("{count} waiting to send"),
        "offline": _(
            "You are offline. Actions are kept on this phone and sent when you are back online."
        ),
        "queued": _("Saved on this phone: waiting to send."),
        "sent": _("Sent: the server has it."),
        "waiting": _("Waiting to send"),
        "failed": _("Not sent: {message}"),
        "failedStatus": _("the server refused it (error {status})."),
        "nothingWaiting": _("Nothing is waiting to send."),
        "photoTooBig": _(
            "Photo {number} is over {size} MB even after shrinking: it cannot be sent."
        ),
        "signoutWaiting": _(
            "Actions still waiting to send: {count}. Signing out deletes them from this "
            "phone. Sign out anyway?"
        ),
        "signoutOffline": _("You are offline: signing out needs a connection."),
        "start": _("Start"),
        "hold": _("Hold"),
        "resume": _("Resume"),
        "complete": _("Complete"),
        "note": _("Note"),
        "dismiss": _("Dismiss"),
    }


def _config(request: HttpRequest) -> dict[str, Any]:
    api = reverse("mobile_api:crew-workorders")
    lat, long = [*settings.WEB_MAP_CENTER, "", ""][:2]
    language = language_current()
    return {
        "user": request.user.pk,
        "api": api,
        "queue": api + "?" + "&".join(f"status={status}" for status in QUEUE_STATUSES),
        "csrfUrl": reverse("crewapp:csrf"),
        "csrfCookie": settings.CSRF_COOKIE_NAME,
        "sw": reverse("crewapp:service-worker"),
        "scope": SCOPE,
        "caches": {"data": DATA_CACHE, "shell": SHELL_CACHE_PREFIX},
        "ws": "/ws/crew/",
        "tileUrl": settings.WEB_MAP_TILE_URL,
        "attribution": settings.WEB_MAP_ATTRIBUTION,
        "center": [float(lat or 0), float(long or 0)],
        "leafletImages": static("web/vendor/leaflet/images/"),
        "photoMaxBytes": settings.PHOTO_MAX_BYTES,
        "photoMaxCount": settings.PHOTO_MAX_PER_REQUEST,
        "statuses": {status: str(label) for status, label in labels.STATUS_LABELS.items()},
        "holdReasons": {reason: str(label) for reason, label in _hold_reasons()},
        "services": {
            service.service_code: service.localized_name(language)
            for service in service_type_list(include_inactive=True)
        },
    }


def _hold_reasons() -> list[tuple[str, str]]:
    """The reasons the API accepts (``HoldReason``), with their translated labels."""
    return [
        (value, str(HOLD_REASON_LABELS.get(value, label))) for value, label in HoldReason.choices
    ]


@login_required
@require_GET
def app(request: HttpRequest) -> HttpResponse:
    access = staff_access_get(user=request.user)
    if not (access.is_superuser or access.teams):
        return render(request, "crewapp/forbidden.html", {"logout_url": LOGOUT_URL}, status=403)
    get_token(request)  # the csrftoken cookie, which the app reads when it sends
    context = {
        "strings": _strings(),
        "config": _config(request),
        "hold_reasons": _hold_reasons(),
        "logout_url": LOGOUT_URL,
        "login_url": f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': SCOPE}, safe='/')}",
        "photo_max_count": settings.PHOTO_MAX_PER_REQUEST,
    }
    response = render(request, "crewapp/app.html", context)
    response["Cache-Control"] = "private, no-cache"
    return response


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    data = {
        "name": _("city311 Crew"),
        "short_name": _("Crew"),
        "description": _("Your team's work orders, on the phone, also offline."),
        "lang": get_language() or settings.LANGUAGE_CODE,
        "id": SCOPE,
        "start_url": SCOPE,
        "scope": SCOPE,
        "display": "standalone",
        "background_color": "#f6f8fa",
        "theme_color": "#0b5cad",
        "icons": [
            {
                "src": static(f"crewapp/icons/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any",
            }
            for size in ICON_SIZES
        ],
    }
    return JsonResponse(
        data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False}
    )


def _sources() -> list[Path]:
    found = [finders.find(name) for name in APP_STATIC]
    paths = [Path(str(path)) for path in found if path]
    for name in TEMPLATES:
        origin = get_template(name).origin.name  # type: ignore[attr-defined]
        paths.append(Path(str(origin)))
    return paths


_version_memo: dict[tuple[tuple[str, float], ...], str] = {}


def shell_version() -> str:
    """A hash of the shell's files: any change makes a new service worker, which installs the
    new shell and drops the old. Recomputed only when a file's modification time changes."""
    paths = _sources()
    key = tuple((str(path), path.stat().st_mtime) for path in paths)
    if key not in _version_memo:
        digest = hashlib.sha256()
        for path in paths:
            digest.update(path.read_bytes())
        _version_memo.clear()
        _version_memo[key] = digest.hexdigest()[:16]
    return _version_memo[key]


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    config = {
        "version": shell_version(),
        "scope": SCOPE,
        "page": SCOPE,
        "precache": [reverse("crewapp:manifest"), *(static(name) for name in APP_STATIC)],
        "storeJs": static("web/idb-store.js"),
        "outboxJs": static("crewapp/outbox.js"),
        "api": reverse("mobile_api:crew-workorders"),
        "media": settings.MEDIA_URL,
        "csrfUrl": reverse("crewapp:csrf"),
        "caches": {"data": DATA_CACHE, "shell": SHELL_CACHE_PREFIX},
    }
    body = render_to_string("crewapp/sw.js", {"config": json.dumps(config)})
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@never_cache
@require_GET
def csrf(request: HttpRequest) -> JsonResponse:
    """A CSRF token for the queued actions, read when they are sent (the token rotates when
    the crew signs in again; the service worker cannot read cookies)."""
    return JsonResponse({"token": get_token(request)})
