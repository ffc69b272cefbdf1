"""Admin for work orders: read-only. Work orders are created by the intake pipeline and move
through ``workorders.services``; the admin only shows them."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from workorders.models import WorkOrder


@admin.register(WorkOrder)
class WorkOrderAdmin(admin.ModelAdmin):
    list_display = ("__str__", "service_request", "department", "status", "due_at", "created_at")
    list_filter = ("status", "department")
    list_select_related = ("service_request", "department")
    search_fields = ("service_request__public_id",)
    date_hierarchy = "created_at"
    fields = ("service_request", "department", "status", "due_at", "created_at", "updated_at")
    # The status is not editable on the model; listing it here shows it on the page.
    readonly_fields = ("status",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: WorkOrder | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: WorkOrder | None = None) -> bool:
        return False
