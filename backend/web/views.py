"""The residents' pages. Thin: parse the form, call the intake pipeline or a selector, render.

The report form is a plain multipart POST (CSRF-protected) that works without JavaScript;
errors come back next to their fields. The track page renders the request and serves the
same fragment as JSON for the live updates (websocket push, polling as the fallback)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods
from rest_framework.exceptions import Throttled

from backend.catalog.models import ServiceAttribute, ServiceType
from backend.catalog.selectors import emergency_state, service_type_list
from backend.i18n import language_current
from backend.intake.services import (
    IntakeError,
    PhotoUpload,
    duplicate_find,
    service_request_submit,
)
from backend.photos.models import PhotoKind, ProcessingState
from backend.ratelimit import intake_throttle
from backend.service_requests.models import Channel, ServiceRequest, Status
from backend.service_requests.selectors import service_request_get_public
from backend.web.edit import edit_offer, edit_token_remember
from backend.web.installable import report_app_context
from backend.web.selectors import service_requests_open_nearby
from backend.web.turnaround import expected_date_words, turnaround_sentence

STATUS_LABELS = {
    Status.SUBMITTED: gettext_lazy("Submitted"),
    Status.ACKNOWLEDGED: gettext_lazy("Acknowledged"),
    Status.IN_PROGRESS: gettext_lazy("In progress"),
    Status.CLOSED: gettext_lazy("Closed"),
}

# The catalog's icon names that have a drawing in static/web/icons.svg.
ICONS = frozenset(
    {"pothole", "streetlight", "graffiti", "dumping", "vehicle", "bin", "sidewalk", "tree"}
    | {"signal", "water", "rodent", "animal"}
)


@dataclass
class AttributeField:
    attribute: ServiceAttribute
    name: str
    label: str
    kind: str
    required: bool
    choices: list[tuple[str, str]]
    value: list[str]
    errors: list[str] = field(default_factory=list)


@dataclass
class ServiceChoice:
    service_type: ServiceType
    code: str
    name: str
    description: str
    icon: str
    fields: list[AttributeField]
    # Switched off for now (emergency mode): the staff's message, shown on the card.
    unavailable: str = ""


def _field_name(service_code: str, code: str) -> str:
    return f"attr-{service_code}-{code}"


def _choices(
    services: list[ServiceType], data: Any, errors: dict[str, list[str]], chosen: str
) -> list[ServiceChoice]:
    out = []
    state = emergency_state()
    for service_type in services:
        notice = state.suspension(service_type.service_code)
        fields = []
        for attribute in service_type.attributes.all():
            if not attribute.variable:
                continue
            name = _field_name(service_type.service_code, attribute.code)
            values = [
                (
                    str(v["key"]),
                    str(v.get("name_i18n", {}).get(language_current()) or v.get("name")),
                )
                for v in attribute.values
            ]
            mine = service_type.service_code == chosen
            fields.append(
                AttributeField(
                    attribute=attribute,
                    name=name,
                    label=attribute.localized_description(),
                    kind=attribute.datatype,
                    required=attribute.required,
                    choices=values,
                    value=data.getlist(name) if data is not None else [],
                    errors=errors.get(f"attribute[{attribute.code}]", []) if mine else [],
                )
            )
        out.append(
            ServiceChoice(
                service_type=service_type,
                code=service_type.service_code,
                name=service_type.localized_name(),
                description=service_type.localized_description(),
                icon=service_type.icon if service_type.icon in ICONS else "default",
                fields=fields,
                unavailable=notice.message_in() if notice is not None else "",
            )
        )
    return out


def _answers(service_type: ServiceType | None, data: Any) -> dict[str, Any]:
    if service_type is None:
        return {}
    answers: dict[str, Any] = {}
    for attribute in service_type.attributes.all():
        values = [v for v in data.getlist(_field_name(service_type.service_code, attribute.code))]
        if attribute.datatype == "multivaluelist":
            answers[attribute.code] = [v for v in values if v]
        elif values and values[0] != "":
            answers[attribute.code] = values[0]
    return answers


def _map_context() -> dict[str, Any]:
    lat, long = [*settings.WEB_MAP_CENTER, "", ""][:2]
    return {
        "tile_url": settings.WEB_MAP_TILE_URL,
        "attribution": settings.WEB_MAP_ATTRIBUTION,
        "center_lat": lat,
        "center_long": long,
    }


@require_http_methods(["GET", "POST"])
def report(request: HttpRequest) -> HttpResponse:
    services = list(service_type_list())
    errors: dict[str, list[str]] = {}
    data = request.POST if request.method == "POST" else None
    chosen = (data.get("service_code", "") if data is not None else "") or request.GET.get(
        "service", ""
    )
    if data is not None:
        try:
            intake_throttle(request)
        except Throttled as exc:
            wait = int(getattr(exc, "wait", None) or 60)
            message = _("Too many reports from your address. Please try again in %(n)d seconds.")
            response = HttpResponse(message % {"n": wait}, status=429, content_type="text/plain")
            response["Retry-After"] = str(wait)
            return response
        by_code = {s.service_code: s for s in services}
        photos = [
            PhotoUpload(data=upload.read()) for upload in request.FILES.getlist("photos") if upload
        ]
        try:
            result = service_request_submit(
                service_code=chosen,
                channel=Channel.WEB,
                lat=data.get("lat") or None,
                long=data.get("long") or None,
                address=data.get("address", ""),
                description=data.get("description", ""),
                attributes=_answers(by_code.get(chosen), data),
                language=language_current(),
                reporter=request.user,
                contact_name=data.get("contact_name", ""),
                contact_email=data.get("contact_email", ""),
                contact_phone=data.get("contact_phone", ""),
                photos=photos,
            )
        except IntakeError as exc:
            errors = exc.errors
        else:
            edit_token_remember(request, result.service_request.public_id)
            url = reverse("web:track", args=[result.service_request.public_id])
            return redirect(f"{url}?filed=1")
    if errors and "lat" not in errors and "long" not in errors and "address" in errors:
        errors.setdefault("location", errors["address"])
    location_errors = [*errors.get("lat", []), *errors.get("long", []), *errors.get("address", [])]
    context = {
        "services": _choices(services, data, errors, chosen),
        "chosen": chosen,
        "data": data or {},
        "errors": errors,
        "location_errors": location_errors,
        "error_count": sum(len(v) for v in errors.values()),
        **_map_context(),
        **report_app_context(),
    }
    return render(request, "web/report.html", context, status=400 if errors else 200)


@require_GET
def nearby(request: HttpRequest) -> JsonResponse:
    """Open requests of the service near the pin, offered before submitting."""
    try:
        lat, long = float(request.GET["lat"]), float(request.GET["long"])
    except (KeyError, ValueError):
        return JsonResponse({"detail": "lat and long are required.", "results": []}, status=400)
    if not (-90 <= lat <= 90 and -180 <= long <= 180):
        return JsonResponse({"detail": "lat/long out of range.", "results": []}, status=400)
    found = service_requests_open_nearby(
        service_code=request.GET.get("service_code", ""), lat=lat, long=long
    )
    results = [
        {
            "public_id": sr.public_id,
            "status": str(STATUS_LABELS.get(Status(sr.status), sr.status)),
            "requested_at": sr.requested_at.isoformat(),
            "url": reverse("web:track", args=[sr.public_id]),
        }
        for sr in found
    ]
    return JsonResponse({"results": results})


def _track_context(service_request: ServiceRequest) -> dict[str, Any]:
    photos = [
        p for p in service_request.photos.all() if p.state == ProcessingState.READY and p.display
    ]
    events = [
        {
            "at": event.created_at,
            "status": STATUS_LABELS.get(Status(event.to_status)) if event.to_status else "",
            "note": event.public_note,
        }
        for event in getattr(service_request, "public_event_list", [])
    ]
    # Residents' comments staff published (through a partner's front end), in time order.
    events += [
        {"at": comment.moderated_at, "status": "", "note": comment.text, "comment": True}
        for comment in getattr(service_request, "public_comment_list", [])
    ]
    events.sort(key=lambda entry: entry["at"])
    return {
        "sr": service_request,
        "status_label": STATUS_LABELS.get(Status(service_request.status), service_request.status),
        "service_name": service_request.service_type.localized_name(),
        "turnaround": turnaround_sentence(
            service_type=service_request.service_type, expected_at=service_request.expected_at
        ),
        "expected_date": (
            expected_date_words(service_request.expected_at) if service_request.expected_at else ""
        ),
        "events": events,
        "report_photos": [p for p in photos if p.kind == PhotoKind.REPORT],
        "proof_photos": [p for p in photos if p.kind == PhotoKind.PROOF],
        "pending_photos": sum(
            1 for p in service_request.photos.all() if p.state == ProcessingState.PENDING
        ),
    }


def _public_or_404(public_id: str) -> ServiceRequest:
    service_request = service_request_get_public(public_id=public_id)
    if service_request is None:
        raise Http404(_("There is no request %(id)s.") % {"id": public_id})
    return service_request


@require_GET
def track_lookup(request: HttpRequest) -> HttpResponse:
    """The "track a request" form: a GET that leads to the track page."""
    public_id = request.GET.get("id", "").strip().upper()
    if public_id:
        if service_request_get_public(public_id=public_id) is not None:
            return redirect("web:track", public_id=public_id)
        return render(
            request,
            "web/lookup.html",
            {"public_id": public_id, "error": _("There is no request %(id)s.") % {"id": public_id}},
            status=404,
        )
    return render(request, "web/lookup.html", {"public_id": ""})


@require_GET
def track(request: HttpRequest, public_id: str) -> HttpResponse:
    service_request = _public_or_404(public_id)
    duplicate = None
    if request.GET.get("filed") and service_request.location is not None:
        duplicate, _distance = duplicate_find(
            service_type=service_request.service_type,
            point=service_request.location,
            at=service_request.requested_at,
            exclude_pk=service_request.pk,
        )
    context = {
        **_track_context(service_request),
        "filed": bool(request.GET.get("filed")),
        "edit_offer": edit_offer(request, service_request),
        "duplicate": duplicate,
        "poll_seconds": settings.WEB_TRACK_POLL_SECONDS,
    }
    return render(request, "web/track.html", context)


@require_GET
def track_json(request: HttpRequest, public_id: str) -> JsonResponse:
    """The live part of the track page, for the websocket handler and the polling fallback."""
    service_request = _public_or_404(public_id)
    context = _track_context(service_request)
    html = render_to_string("web/_track_live.html", context, request=request)
    return JsonResponse(
        {
            "public_id": service_request.public_id,
            "status": service_request.status,
            "status_label": str(context["status_label"]),
            "expected_date": context["expected_date"],
            "turnaround": context["turnaround"],
            "supporters": service_request.supporters_count,
            "html": html,
        }
    )


def home(request: HttpRequest) -> HttpResponse:
    return redirect("web:report")
