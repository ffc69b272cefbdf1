"""The reporter's corrections on the web: after filing, the track page offers "Edit" while
the edit window is open (backend/intake/edit.py).

The browser that filed is recognised by the request's edit token, a signed, single-purpose
token the report view keeps in its session (``edit_token_remember``); a signed-in reporter by
their account. Anyone else gets a 404, as if there were nothing to edit."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from backend.errors import City311Error, ErrorCode
from backend.intake.edit import (
    edit_token_make,
    edit_window_ends,
    edit_window_open,
    service_request_edit,
    service_request_for_reporter_edit,
)
from backend.photos.uploads import photos_read
from backend.service_requests.models import Channel, ServiceRequest

SESSION_KEY = "city311_edit_tokens"
# The requests a browser filed last that it may still correct: more would only be expired.
SESSION_KEEP = 10


def edit_token_remember(request: HttpRequest, public_id: str) -> None:
    """After filing: this browser may correct ``public_id`` during the window."""
    tokens = dict(request.session.get(SESSION_KEY) or {})
    tokens[public_id] = edit_token_make(public_id=public_id)
    request.session[SESSION_KEY] = dict(list(tokens.items())[-SESSION_KEEP:])


def _session_token(request: HttpRequest, public_id: str) -> str:
    tokens = request.session.get(SESSION_KEY) or {}
    return str(tokens.get(public_id, "")) if isinstance(tokens, dict) else ""


def _reporter_request(request: HttpRequest, public_id: str) -> ServiceRequest:
    try:
        return service_request_for_reporter_edit(
            public_id=public_id, user=request.user, edit_token=_session_token(request, public_id)
        )
    except City311Error as exc:
        raise Http404(exc.message) from exc


def edit_offer(request: HttpRequest, service_request: ServiceRequest) -> bool:
    """Whether the track page offers this visitor "Edit": they filed it, and it may still
    change."""
    if not edit_window_open(service_request):
        return False
    mine = request.user.is_authenticated and service_request.reporter_id == request.user.pk
    return mine or bool(_session_token(request, service_request.public_id))


@require_http_methods(["GET", "POST"])
def track_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    service_request = _reporter_request(request, public_id)
    errors: dict[str, list[str]] = {}
    status = 200
    description = service_request.description
    if request.method == "POST":
        description = request.POST.get("description", "")
        try:
            result = service_request_edit(
                service_request=service_request,
                actor=request.user,
                channel=Channel.WEB,
                description=description,
                photos=photos_read(request.FILES.getlist("photos"), field="photos"),
            )
        except City311Error as exc:
            errors, status = exc.errors, exc.status_code
        else:
            if result.changed:
                messages.success(request, _("Your changes are saved."))
            return redirect("web:track", public_id=public_id)
    elif not edit_window_open(service_request):
        status = ErrorCode.CONFLICT.http_status
    context = {
        "sr": service_request,
        "description": description,
        "errors": errors,
        "error_count": sum(len(v) for v in errors.values()),
        "open": edit_window_open(service_request),
        "until": timezone.localtime(edit_window_ends(service_request)),
    }
    return render(request, "web/edit.html", context, status=status)
