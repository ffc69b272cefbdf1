"""Admin for service requests.

Status is never a form field. Staff move requests with the list actions, which call the
transition services (``backend.service_requests.services``); closing and reopening go through
the use cases of ``backend.cases``, so the request's work order is cancelled or made anew with
it, and "change the service" and "merge into" re-route and merge (``backend.cases``). New
requests come in through the "Enter a phone report" view, which calls the intake pipeline
with channel ``phone``. The history (events), photos and work orders show read-only on the
request's page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.contrib.admin.utils import flatten_fieldsets
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from backend.admin_readonly import HistoryInline, ReadOnlyInlineMixin
from backend.cases.change_type import service_request_change_type
from backend.cases.close import service_request_close_for_staff
from backend.cases.merge import service_request_merge
from backend.cases.reopen import service_request_reopen_for_work
from backend.catalog.models import ServiceType
from backend.catalog.selectors import service_type_list
from backend.errors import City311Error
from backend.intake.services import IdempotencyConflict, IntakeError, service_request_submit
from backend.photos.admin import photo_thumbnail_html
from backend.photos.models import Photo
from backend.service_requests.forms import PhoneReportForm
from backend.service_requests.models import (
    Channel,
    CloseReason,
    ServiceRequest,
    ServiceRequestEvent,
    Status,
)
from backend.service_requests.moderation_admin import (
    ModerationAdminMixin,
    moderation_reason_field,
)
from backend.service_requests.retention import service_request_legal_hold_set
from backend.service_requests.services import (
    IllegalTransition,
    service_request_acknowledge,
    service_request_start,
)
from workorders.models import WorkOrder

# The only fields staff may edit on a request's page: private contact data, priority and the
# legal hold (which retention_apply respects; set through its service, with an event).
# Everything else comes from intake or from the transition services.
EDITABLE_FIELDS = (
    "priority",
    "contact_name",
    "contact_email",
    "contact_phone",
    "legal_hold",
    "legal_hold_reason",
)
# How many public ids an action's message lists before "and N more".
MESSAGE_IDS_MAX = 20


class EventInline(HistoryInline):
    model = ServiceRequestEvent
    fields = (
        "created_at",
        "kind",
        "from_status",
        "to_status",
        "close_reason",
        "actor",
        "channel",
        "public_note",
        "internal_note",
    )
    readonly_fields = fields


class PhotoInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = Photo
    fields = ("thumbnail_preview", "kind", "state", "created_at")
    readonly_fields = fields
    show_change_link = True

    @admin.display(description="Photo")
    def thumbnail_preview(self, obj: Photo) -> SafeString | str:
        return photo_thumbnail_html(obj)


class WorkOrderInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = WorkOrder
    fields = ("department", "status", "due_at", "created_at", "updated_at")
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorkOrder]:
        return super().get_queryset(request).select_related("department")


class TransitionActionForm(ActionForm):
    public_note = forms.CharField(
        required=False,
        label="Public note:",
        widget=forms.TextInput(attrs={"size": 40, "placeholder": "optional, residents see it"}),
    )
    service_type = forms.ModelChoiceField(
        queryset=ServiceType.objects.filter(active=True).order_by("name"),
        required=False,
        label="New service:",
        empty_label="(for “change the service”)",
    )
    original = forms.CharField(
        required=False,
        label="Original:",
        max_length=32,
        widget=forms.TextInput(attrs={"size": 16, "placeholder": "SR-…, for “merge into”"}),
    )
    moderation_reason = moderation_reason_field()


def _id_list(public_ids: list[str]) -> str:
    shown = ", ".join(public_ids[:MESSAGE_IDS_MAX])
    more = len(public_ids) - MESSAGE_IDS_MAX
    return f"{shown} and {more} more" if more > 0 else shown


def _requests(count: int) -> str:
    return f"{count} request" if count == 1 else f"{count} requests"


# An action that moves each selected request with one service, called with the request, the
# acting user, the public note and the action's own arguments.
TransitionAction = Callable[["ServiceRequestAdmin", HttpRequest, QuerySet[ServiceRequest]], None]


def _transition_action(
    description: str, service: Callable[..., object], *, action: str, done: str, **arguments: Any
) -> TransitionAction:
    @admin.action(description=description, permissions=["change"])
    def run(
        model_admin: ServiceRequestAdmin, request: HttpRequest, queryset: QuerySet[ServiceRequest]
    ) -> None:
        model_admin._run_transition(
            request,
            queryset,
            action=action,
            done=done,
            apply=lambda sr, note: service(
                service_request=sr, actor=request.user, public_note=note, **arguments
            ),
        )

    return run


def _close_action(description: str, reason: CloseReason) -> TransitionAction:
    return _transition_action(
        description,
        service_request_close_for_staff,
        action="closed",
        done=f"Closed {{requests}} as {reason.label[0].lower()}{reason.label[1:]}",
        reason=reason,
    )


@admin.register(ServiceRequest)
class ServiceRequestAdmin(ModerationAdminMixin, admin.ModelAdmin):
    list_display = (
        "public_id",
        "service_type",
        "status",
        "channel",
        "requested_at",
        "expected_at",
        "priority",
    )
    list_display_links = ("public_id",)
    list_filter = (
        "status",
        "channel",
        "priority",
        "close_reason",
        ("service_type__department", admin.RelatedOnlyFieldListFilter),
        ("service_type", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("service_type",)
    search_fields = ("public_id", "address", "description")
    date_hierarchy = "requested_at"
    ordering = ("-requested_at",)
    inlines = (EventInline, PhotoInline, WorkOrderInline)
    action_form = TransitionActionForm
    actions = (
        "acknowledge",
        "start",
        "close_resolved",
        "close_not_city_responsibility",
        "close_cannot_locate",
        "reopen",
        "change_service",
        "merge_into",
        *ModerationAdminMixin.moderation_actions,
    )
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("public_id", "status"),
                    ("service_type", "priority"),
                    ("channel", "language"),
                )
            },
        ),
        (
            "Where and what",
            {"fields": ("location_display", "address", "description", "attributes")},
        ),
        (
            "Dates",
            {
                "fields": (
                    ("requested_at", "expected_at"),
                    ("updated_at", "closed_at"),
                    ("close_reason", "duplicate_of"),
                )
            },
        ),
        (
            "Reporter (private)",
            {"fields": ("reporter", "contact_name", "contact_email", "contact_phone")},
        ),
        (
            # docs/reliability.md, "Privacy": a request on legal hold keeps its contact data
            # past RETENTION_CLOSED_DAYS.
            "Retention",
            {"fields": (("legal_hold", "legal_hold_reason"), "contact_erased_at")},
        ),
        (
            # backend/service_requests/moderation.py: the description as filed is staff-only.
            "Moderation",
            {"fields": ("moderation_links", "hidden_reason", "description_original")},
        ),
        (
            "Idempotency",
            {"classes": ("collapse",), "fields": ("idempotency_key", "idempotency_fingerprint")},
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [name for name in flatten_fieldsets(self.fieldsets) if name not in EDITABLE_FIELDS]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceRequest]:
        return (
            super()
            .get_queryset(request)
            .select_related("service_type", "service_type__department", "reporter")
        )

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # A request and its history stay; a request filed in error is closed as cancelled.
        return False

    def save_model(
        self, request: HttpRequest, obj: ServiceRequest, form: forms.ModelForm[Any], change: bool
    ) -> None:
        if change and {"legal_hold", "legal_hold_reason"} & set(form.changed_data):
            service_request_legal_hold_set(
                service_request=obj,
                hold=obj.legal_hold,
                reason=obj.legal_hold_reason,
                actor=request.user,
            )
        super().save_model(request, obj, form, change)

    @admin.display(description="Location")
    def location_display(self, obj: ServiceRequest) -> SafeString | str:
        if obj.location is None:
            return "— (address only)"
        lat, long = obj.location.y, obj.location.x
        return format_html(
            '{}, {} (<a href="https://www.openstreetmap.org/?mlat={}&amp;mlon={}#map=18/{}/{}" '
            'target="_blank" rel="noopener">map</a>)',
            f"{lat:.6f}",
            f"{long:.6f}",
            lat,
            long,
            lat,
            long,
        )

    # --- The phone report: the admin's way to add a request.

    def get_urls(self) -> list[URLPattern]:
        info = (self.opts.app_label, self.opts.model_name)
        return [
            path(
                "phone-report/",
                self.admin_site.admin_view(self.phone_report_view),
                name="{}_{}_phone_report".format(*info),
            ),
            *self.moderation_urls(),
            *super().get_urls(),
        ]

    def add_view(
        self,
        request: HttpRequest,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # Requests are never created by saving a model form: adding means a phone report.
        return redirect("admin:service_requests_servicerequest_phone_report")

    def phone_report_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = PhoneReportForm(request.POST)
            if form.is_valid():
                response = self._phone_report_submit(request, form)
                if response is not None:
                    return response
        else:
            form = PhoneReportForm()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Enter a phone report",
            "form": form,
            "services": service_type_list(),
            "has_view_permission": self.has_view_permission(request),
        }
        return TemplateResponse(
            request, "admin/service_requests/servicerequest/phone_report.html", context
        )

    def _phone_report_submit(
        self, request: HttpRequest, form: PhoneReportForm
    ) -> HttpResponse | None:
        """Files the report; the redirect to the new request, or None with the errors on
        the form."""
        try:
            result = service_request_submit(
                channel=Channel.PHONE, actor=request.user, **form.intake_arguments()
            )
        except IntakeError as exc:
            form.add_intake_errors(exc.errors)
            return None
        except IdempotencyConflict as exc:
            form.add_error(
                None,
                f"This form was already used to enter {exc.service_request.public_id}. "
                "Open a new form to enter another report.",
            )
            return None
        service_request = result.service_request
        if result.replayed:
            self.message_user(
                request,
                f"This report was already entered as {service_request.public_id}; "
                "no second request was created.",
                messages.WARNING,
            )
        else:
            self.log_addition(request, service_request, "Entered as a phone report.")
            self.message_user(
                request,
                format_html(
                    "Phone report {} entered.{}",
                    service_request.public_id,
                    self._duplicate_note(result.possible_duplicate, result.duplicate_distance_m),
                ),
                messages.SUCCESS,
            )
        return HttpResponseRedirect(
            reverse("admin:service_requests_servicerequest_change", args=[service_request.pk])
        )

    def _duplicate_note(
        self, duplicate: ServiceRequest | None, distance_m: float | None
    ) -> SafeString | str:
        if duplicate is None:
            return ""
        url = reverse("admin:service_requests_servicerequest_change", args=[duplicate.pk])
        return format_html(
            ' Possible duplicate of <a href="{}">{}</a> ({} m away, {}).',
            url,
            duplicate.public_id,
            round(distance_m or 0),
            duplicate.get_status_display(),
        )

    # --- Actions: each calls a transition service per request and reports what it skipped.

    def _run_transition(
        self,
        request: HttpRequest,
        queryset: QuerySet[ServiceRequest],
        *,
        action: str,
        done: str,
        apply: Callable[[ServiceRequest, str], object],
    ) -> None:
        """``done`` is the summary, with ``{requests}`` for the count; ``action`` the past
        participle for the skipped ones ("cannot be {action}")."""
        note = str(request.POST.get("public_note", "")).strip()
        changed: list[str] = []
        skipped: list[str] = []
        for service_request in queryset.order_by("requested_at", "pk"):
            try:
                apply(service_request, note)
            except City311Error as exc:
                # The request state machine's refusal names the status; others say why.
                reason = (
                    Status(exc.current_status).label.lower()
                    if isinstance(exc, IllegalTransition) and exc.raw
                    else exc.message.rstrip(".")
                )
                skipped.append(f"{service_request.public_id} ({reason})")
            except ServiceRequest.DoesNotExist:
                skipped.append(f"{service_request.public_id} (no longer exists)")
            else:
                changed.append(service_request.public_id)
                self.log_change(request, service_request, done.format(requests="the request") + ".")
        if changed:
            self.message_user(
                request,
                f"{done.format(requests=_requests(len(changed)))}: {_id_list(changed)}.",
                messages.SUCCESS,
            )
        if skipped:
            self.message_user(
                request,
                f"Skipped {_requests(len(skipped))} that cannot be {action}: {_id_list(skipped)}.",
                messages.WARNING,
            )

    acknowledge = _transition_action(
        "Acknowledge the selected requests",
        service_request_acknowledge,
        action="acknowledged",
        done="Acknowledged {requests}",
    )
    start = _transition_action(
        "Start work on the selected requests",
        service_request_start,
        action="started",
        done="Started work on {requests}",
    )
    close_resolved = _close_action("Close as resolved", CloseReason.RESOLVED)
    close_not_city_responsibility = _close_action(
        "Close as not the city's responsibility", CloseReason.NOT_CITY_RESPONSIBILITY
    )
    close_cannot_locate = _close_action("Close as cannot locate", CloseReason.CANNOT_LOCATE)
    reopen = _transition_action(
        "Reopen the selected requests",
        service_request_reopen_for_work,
        action="reopened",
        done="Reopened {requests}",
    )

    @admin.action(
        description="Change the service (re-route to a new work order)", permissions=["change"]
    )
    def change_service(self, request: HttpRequest, queryset: QuerySet[ServiceRequest]) -> None:
        form = TransitionActionForm(request.POST)
        service_type = form.fields["service_type"].clean(request.POST.get("service_type"))
        if service_type is None:
            self.message_user(
                request, "Choose the new service in “New service” first.", messages.ERROR
            )
            return

        def apply(sr: ServiceRequest, note: str) -> ServiceRequest:
            service_request_change_type(
                service_request=sr, service_type=service_type, actor=request.user, note=note
            )
            return sr

        self._run_transition(
            request,
            queryset,
            action="re-routed",
            done=f"Re-routed {{requests}} as {service_type.name}",
            apply=apply,
        )

    @admin.action(
        description="Merge into the original (close as duplicate)", permissions=["change"]
    )
    def merge_into(self, request: HttpRequest, queryset: QuerySet[ServiceRequest]) -> None:
        public_id = str(request.POST.get("original", "")).strip()
        original = ServiceRequest.objects.filter(public_id=public_id).first()
        if original is None:
            self.message_user(
                request,
                f"Original: no request {public_id!r}. Give the original's id (SR-…).",
                messages.ERROR,
            )
            return
        self._run_transition(
            request,
            queryset.exclude(pk=original.pk),
            action="merged",
            done=f"Merged {{requests}} into {original.public_id}",
            apply=lambda sr, note: service_request_merge(
                service_request=sr, into=original, actor=request.user, note=note
            ),
        )
