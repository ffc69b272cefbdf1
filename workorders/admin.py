"""Admin for work orders and what shapes them.

Data staff edit here: routing rules, teams and their members, each department's business
calendar (opening hours, public holidays) and the names of areas. Work orders themselves
are read-only: they move through ``workorders.services`` (the supervisor console at
/staff/workorders/ and the API). Areas are added with ``manage.py areas_load``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from backend.admin_readonly import (
    ConditionFilter,
    HistoryInline,
    ReadOnlyAdmin,
    ReadOnlyInlineMixin,
)
from backend.catalog.models import ResponseTemplate
from backend.process_cache import ClearsProcessCachesAdmin
from workorders.live import memberships_changed
from workorders.models import (
    Area,
    DepartmentCalendar,
    Feedback,
    OpeningHours,
    ProofPhoto,
    PublicHoliday,
    RoutingRule,
    Team,
    TeamMember,
    WorkOrder,
    WorkOrderEvent,
    WorkOrderHold,
    WorkOrderStatus,
)


class WorkOrderEventInline(HistoryInline):
    model = WorkOrderEvent
    fields = ("created_at", "kind", "from_status", "to_status", "actor", "note", "data")
    readonly_fields = fields


class WorkOrderHoldInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = WorkOrderHold
    fields = ("reason", "note", "from_status", "started_at", "ended_at", "paused_seconds")
    readonly_fields = fields


class ProofPhotoInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = ProofPhoto
    fields = ("photo", "uploaded_by", "created_at", "verified", "reasons", "distance_m")
    readonly_fields = fields


class OverdueFilter(ConditionFilter):
    title = "overdue"
    parameter_name = "overdue"
    conditions = {
        "yes": ("Marked overdue", Q(overdue_at__isnull=False)),
        "again": ("Past twice the turnaround", Q(escalated_again_at__isnull=False)),
    }


@admin.register(WorkOrder)
class WorkOrderAdmin(ReadOnlyAdmin):
    list_display = (
        "__str__",
        "service_request",
        "department",
        "team",
        "status",
        "due_at",
        "on_time",
        "review_required",
        "created_at",
    )
    list_filter = ("status", "department", OverdueFilter, "review_required", "on_time")
    list_select_related = ("service_request", "department", "team")
    search_fields = ("service_request__public_id",)
    date_hierarchy = "created_at"
    inlines = (WorkOrderEventInline, WorkOrderHoldInline, ProofPhotoInline)
    fieldsets = (
        (
            None,
            {
                "fields": (
                    ("service_request", "console_link"),
                    ("department", "team", "assignee"),
                    ("status", "routing_rule"),
                )
            },
        ),
        (
            "SLA",
            {
                "fields": (
                    ("turnaround_hours", "turnaround_business_hours"),
                    ("due_at", "escalate_again_at", "on_time"),
                    ("overdue_at", "escalated_again_at"),
                )
            },
        ),
        (
            "Dates",
            {
                "fields": (
                    ("created_at", "updated_at"),
                    ("assigned_at", "started_at"),
                    ("completed_at", "cancelled_at"),
                    "completion_note",
                )
            },
        ),
        (
            "Proof review",
            {
                "fields": (
                    "review_required",
                    "review_reasons",
                    ("reviewed_at", "reviewed_by", "review_decision"),
                )
            },
        ),
    )
    readonly_fields = ("console_link", "status")

    @admin.display(description="Console")
    def console_link(self, obj: WorkOrder) -> SafeString:
        url = reverse("workorders:console-detail", args=[obj.pk])
        return format_html('<a href="{}">Open in the supervisor console</a>', url)


@admin.register(RoutingRule)
class RoutingRuleAdmin(ClearsProcessCachesAdmin, admin.ModelAdmin):
    list_display = (
        "order",
        "name",
        "service_type",
        "area",
        "department",
        "team",
        "assign_automatically",
        "active",
    )
    list_display_links = ("name",)
    list_editable = ("order", "active")
    list_filter = ("active", "department", "service_type")
    list_select_related = ("service_type", "area", "department", "team__department")
    search_fields = ("name",)
    ordering = ("order", "id")
    autocomplete_fields = ("area",)


@admin.register(Area)
class AreaAdmin(ClearsProcessCachesAdmin, admin.ModelAdmin):
    list_display = ("name", "kind", "slug", "loaded_at")
    list_filter = ("kind",)
    search_fields = ("name", "slug")
    fields = ("name", "kind", "slug", "bounds", "properties", "loaded_at")
    readonly_fields = ("slug", "bounds", "properties", "loaded_at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # `manage.py areas_load file.geojson --name-property NAME`

    @admin.display(description="Bounds (lon/lat)")
    def bounds(self, obj: Area) -> str:
        west, south, east, north = obj.geometry.extent
        return f"{west:.4f}, {south:.4f} — {east:.4f}, {north:.4f}"


class TeamMemberInline(admin.TabularInline):
    model = TeamMember
    extra = 1
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(ClearsProcessCachesAdmin, admin.ModelAdmin):
    list_display = ("name", "department", "active")
    list_filter = ("active", "department")
    list_select_related = ("department",)
    search_fields = ("name", "department__name")
    inlines = (TeamMemberInline,)

    def save_related(self, request: object, form: Any, formsets: object, change: bool) -> None:
        """Members added, removed or given another role, or the team switched on or off:
        their open crew sockets are told to read their teams again."""
        team = form.instance
        before = set(TeamMember.objects.filter(team=team).values_list("user_id", "role"))
        super().save_related(request, form, formsets, change)
        after = set(TeamMember.objects.filter(team=team).values_list("user_id", "role"))
        changed = before ^ after
        if "active" in form.changed_data:
            changed |= after
        memberships_changed(user_ids={user_id for user_id, _role in changed})


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0
    ordering = ("weekday", "opens")


class PublicHolidayInline(admin.TabularInline):
    model = PublicHoliday
    extra = 0
    ordering = ("date",)


@admin.register(DepartmentCalendar)
class DepartmentCalendarAdmin(ClearsProcessCachesAdmin, admin.ModelAdmin):
    """A department's opening hours and holidays. Without opening hours it works Monday
    to Friday, 08:00-17:00; city-wide holidays are under Public holidays."""

    list_display = ("name", "time_zone", "hours_summary")
    fields = ("name", "time_zone")
    readonly_fields = ("name", "time_zone")
    inlines = (OpeningHoursInline, PublicHolidayInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).prefetch_related("opening_hours")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Opening hours")
    def hours_summary(self, obj: DepartmentCalendar) -> str:
        rows = list(obj.opening_hours.all())
        return ", ".join(str(row) for row in rows) if rows else "Mon-Fri 08:00-17:00 (default)"


@admin.register(PublicHoliday)
class PublicHolidayAdmin(ClearsProcessCachesAdmin, admin.ModelAdmin):
    list_display = ("date", "name", "department")
    list_filter = ("department",)
    list_select_related = ("department",)
    date_hierarchy = "date"
    ordering = ("-date",)


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdmin):
    list_display = ("service_request", "fixed", "rating", "reopened", "created_at")
    list_filter = ("fixed", "rating", "reopened")
    list_select_related = ("service_request",)
    search_fields = ("service_request__public_id", "comment")
    fields = (
        "service_request",
        "close_event",
        "fixed",
        "rating",
        "comment",
        "reopened",
        "created_at",
    )


# --- Response templates (backend.catalog.models.ResponseTemplate): registered here, where
# the work orders' statuses are known, so the status is a choice of them. The model's
# ``clean`` refuses an unknown placeholder, a message on the text field.


class ResponseTemplateForm(forms.ModelForm):
    status = forms.ChoiceField(
        choices=[("", "Any status"), *WorkOrderStatus.choices],
        required=False,
        help_text="The work order status the note goes with (Completed: a closing note)",
    )

    class Meta:
        model = ResponseTemplate
        fields = ("name", "service_type", "status", "language", "text", "active")


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(admin.ModelAdmin):
    form = ResponseTemplateForm
    list_display = ("name", "service_type", "status", "language", "active")
    list_filter = ("active", "language", "status", "service_type")
    list_select_related = ("service_type",)
    search_fields = ("name", "text", "service_type__service_code", "service_type__name")
    autocomplete_fields = ("service_type",)
