"""The console's moderation of a work order's request: hide it from the public, show it
again, remove part of its description, blur part of a report photo. The department's
supervisors only (``workorders.access``, ``Act.MODERATE``); each is a plain form POSTed here,
calling the request domain's moderation services (``backend.service_requests.moderation``,
``backend.photos.services.photo_blur``), then back to the order's page with a message. A
refusal is a page naming the field, at its status (400, 403, 409); another department's
order is a 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from backend.errors import City311Error
from backend.photos.models import Photo, PhotoKind
from backend.photos.services import BlurRect, photo_blur
from backend.service_requests.models import ServiceRequest
from backend.service_requests.moderation import (
    REASON_MAX,
    service_request_hide,
    service_request_redact,
    service_request_unhide,
)
from workorders.access import Act, service_request_access
from workorders.selectors import staff_access_get, work_order_get_for_user

LOGIN_URL = "accounts:login"


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=REASON_MAX, label=gettext_lazy("Reason"))


class RedactForm(ReasonForm):
    text = forms.CharField(
        max_length=4000, strip=False, label=gettext_lazy("Text to remove from the description")
    )


class BlurForm(ReasonForm):
    photo = forms.IntegerField(min_value=1, label=gettext_lazy("Photo"))
    x = forms.FloatField(label="x")
    y = forms.FloatField(label="y")
    w = forms.FloatField(label=gettext_lazy("width"))
    h = forms.FloatField(label=gettext_lazy("height"))


Run = Callable[[HttpRequest, ServiceRequest, dict[str, Any]], str]


def _hide(request: HttpRequest, sr: ServiceRequest, data: dict[str, Any]) -> str:
    service_request_hide(service_request=sr, reason=data["reason"], actor=request.user)
    return _("%(id)s is hidden from the public.") % {"id": sr.public_id}


def _unhide(request: HttpRequest, sr: ServiceRequest, data: dict[str, Any]) -> str:
    service_request_unhide(service_request=sr, reason=data["reason"], actor=request.user)
    return _("%(id)s is shown to the public again.") % {"id": sr.public_id}


def _redact(request: HttpRequest, sr: ServiceRequest, data: dict[str, Any]) -> str:
    service_request_redact(
        service_request=sr, text=data["text"], reason=data["reason"], actor=request.user
    )
    return _("Removed from the description of %(id)s.") % {"id": sr.public_id}


def _blur(request: HttpRequest, sr: ServiceRequest, data: dict[str, Any]) -> str:
    # Fractions of the image (0 to 1), as the page's form asks for them.
    photo = Photo.objects.filter(pk=data["photo"], service_request=sr, kind=PhotoKind.REPORT)
    found = photo.first()
    if found is None:
        raise City311Error(_("No such photo of this request."), field="photo")
    rect = BlurRect(x=data["x"], y=data["y"], w=data["w"], h=data["h"], fractions=True)
    photo_blur(photo=found, rect=rect, reason=data["reason"], actor=request.user)
    return _("The photo of %(id)s is blurred.") % {"id": sr.public_id}


ACTIONS: dict[str, tuple[type[forms.Form], Run]] = {
    "hide": (ReasonForm, _hide),
    "unhide": (ReasonForm, _unhide),
    "redact": (RedactForm, _redact),
    "blur": (BlurForm, _blur),
}


@login_required(login_url=LOGIN_URL)
@require_POST
def console_moderate(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    spec = ACTIONS.get(action)
    access = staff_access_get(user=request.user)
    order = work_order_get_for_user(access=access, pk=pk)
    if spec is None or order is None:
        raise Http404(_("No work order %(id)s.") % {"id": pk})
    form_class, run = spec
    try:
        service_request = service_request_access(
            access=access, public_id=order.service_request.public_id, act=Act.MODERATE
        )
        form = form_class(request.POST)
        if not form.is_valid():
            raise City311Error(
                {field: [str(e) for e in errors] for field, errors in form.errors.items()}
            )
        done = run(request, service_request, form.cleaned_data)
    except City311Error as exc:
        return render(
            request,
            "workorders/console/moderation_refused.html",
            {"order": order, "errors": exc.errors},
            status=exc.status_code,
        )
    messages.success(request, done)
    return redirect("workorders:console-detail", pk=order.pk)
