"""The admin's moderation of requests (``ServiceRequestAdmin`` takes it in as a mixin): list
actions that hide requests from the public or show them again, with the reason given in the
action bar, and a page per request to remove part of its description. Each calls the
moderation services (``backend.service_requests.moderation``); what they refuse comes back
naming the field (a message for the actions, the form's field at 400 for the page). Staff
with the permission to change requests moderate here; the original description is shown to
them on the request's page. Blurring a photo is on the photo's admin page
(``backend.photos.admin``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backend.errors import City311Error
from backend.service_requests.models import ServiceRequest
from backend.service_requests.moderation import (
    REASON_MAX,
    service_request_hide,
    service_request_redact,
    service_request_unhide,
)

# The action bar's field (``TransitionActionForm``) the hide/show actions read the reason from.
REASON_FIELD = "moderation_reason"


def moderation_reason_field() -> forms.CharField:
    return forms.CharField(
        required=False,
        max_length=REASON_MAX,
        label=gettext_lazy("Moderation reason:"),
        widget=forms.TextInput(
            attrs={"size": 30, "placeholder": gettext_lazy("for “hide” and “show again”")}
        ),
    )


class RedactForm(forms.Form):
    text = forms.CharField(
        max_length=4000,
        strip=False,
        label=gettext_lazy("Text to remove from the description"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy("Every occurrence is replaced by “[removed by moderator]”."),
    )
    reason = forms.CharField(max_length=REASON_MAX, label=gettext_lazy("Reason"))


def form_errors_add(form: forms.Form, exc: City311Error) -> None:
    """A service's refusal on the form: on its field when the form has it, else on top."""
    for field, errors in exc.errors.items():
        for message in errors:
            form.add_error(field if field in form.fields else None, message)


class ModerationAdminMixin:
    """Hide / show again (list actions) and the redaction page of a request."""

    moderation_actions = ("hide_from_public", "show_to_public")

    def _moderate(
        self,
        request: HttpRequest,
        queryset: QuerySet[ServiceRequest],
        *,
        apply: Any,
        done: str,
    ) -> None:
        reason = str(request.POST.get(REASON_FIELD, "")).strip()
        changed: list[str] = []
        for service_request in queryset.order_by("requested_at", "pk"):
            try:
                apply(service_request=service_request, reason=reason, actor=request.user)
            except City311Error as exc:
                self.message_user(  # type: ignore[attr-defined]
                    request, f"{exc.field}: {exc.message}", messages.ERROR
                )
                return
            changed.append(service_request.public_id)
            self.log_change(request, service_request, done)  # type: ignore[attr-defined]
        self.message_user(  # type: ignore[attr-defined]
            request, f"{done}: {', '.join(changed)}", messages.SUCCESS
        )

    @admin.action(description=gettext_lazy("Hide from the public"), permissions=["change"])
    def hide_from_public(self, request: HttpRequest, queryset: QuerySet[ServiceRequest]) -> None:
        self._moderate(
            request, queryset, apply=service_request_hide, done=_("Hidden from the public")
        )

    @admin.action(description=gettext_lazy("Show to the public again"), permissions=["change"])
    def show_to_public(self, request: HttpRequest, queryset: QuerySet[ServiceRequest]) -> None:
        self._moderate(
            request, queryset, apply=service_request_unhide, done=_("Shown to the public again")
        )

    @admin.display(description=gettext_lazy("Moderation"))
    def moderation_links(self, obj: ServiceRequest) -> SafeString | str:
        if obj.pk is None:
            return "—"
        url = reverse("admin:service_requests_servicerequest_redact", args=[obj.pk])
        state = (
            _("Hidden from the public since %(since)s: %(reason)s")
            % {"since": obj.hidden_at.strftime("%Y-%m-%d %H:%M"), "reason": obj.hidden_reason}
            if obj.hidden_at
            else _("Shown to the public")
        )
        return format_html(
            '{} — <a href="{}">{}</a>', state, url, _("Remove part of the description")
        )

    def moderation_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/redact/",
                self.admin_site.admin_view(self.redact_view),  # type: ignore[attr-defined]
                name="service_requests_servicerequest_redact",
            )
        ]

    def redact_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not self.has_change_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        service_request = ServiceRequest.objects.filter(pk=pk).first()
        if service_request is None:
            raise Http404(_("No request %(id)s.") % {"id": pk})

        def apply(data: dict[str, Any]) -> None:
            service_request_redact(
                service_request=service_request,
                text=data["text"],
                reason=data["reason"],
                actor=request.user,
            )

        texts = (_("Remove part of the description"), _("Removed from the description."))
        page = {"preview": service_request.description}
        return moderation_form_page(request, self, service_request, RedactForm, apply, texts, page)


def moderation_form_page(
    request: HttpRequest,
    model_admin: Any,
    original: Model,
    form_class: type[forms.Form],
    apply: Callable[[dict[str, Any]], None],
    texts: tuple[str, str],
    context: dict[str, Any],
) -> HttpResponse:
    """An admin page with a moderation form for ``original``: a valid form goes to
    ``apply`` (a moderation service), then back to the object's page with the second of
    ``texts`` (the first is the page's title); a refusal comes back on the form's fields,
    at 400."""
    title, done = texts
    status = 200
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            try:
                apply(form.cleaned_data)
            except City311Error as exc:
                form_errors_add(form, exc)
            else:
                model_admin.log_change(request, original, title)
                model_admin.message_user(request, done, messages.SUCCESS)
                opts = original._meta
                return redirect(f"admin:{opts.app_label}_{opts.model_name}_change", original.pk)
        status = 400
    else:
        form = form_class()
    page = {
        **model_admin.admin_site.each_context(request),
        **context,
        "opts": original._meta,
        "original": original,
        "title": title,
        "form": form,
    }
    return TemplateResponse(request, "admin/moderation_form.html", page, status=status)
