"""The outbox in the admin: read-only, to see what waits and why; one action hands chosen
pending rows on now (the dispatcher would anyway, after their backoff)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from backend.outbox.models import OutboxMessage
from backend.outbox.services import outbox_dispatch


class PendingFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("pending", "Waiting"),
            ("failed", "Waiting, after a failure"),
            ("done", "Handed on"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "pending":
            return queryset.filter(dispatched_at__isnull=True)
        if self.value() == "failed":
            return queryset.filter(dispatched_at__isnull=True, attempts__gt=0)
        if self.value() == "done":
            return queryset.filter(dispatched_at__isnull=False)
        return queryset


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "kind",
        "target",
        "created_at",
        "attempts",
        "available_at",
        "dispatched_at",
    )
    list_filter = (PendingFilter, "kind", "target")
    search_fields = ("target", "last_error")
    ordering = ("-id",)
    actions = ("hand_on_now",)
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Hand the selected waiting side effects on now")
    def hand_on_now(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        ids = list(queryset.filter(dispatched_at__isnull=True).values_list("pk", flat=True))
        done = outbox_dispatch(ids=ids)
        self.message_user(
            request,
            f"{done} of {len(ids)} handed on.",
            messages.SUCCESS if done == len(ids) else messages.WARNING,
        )
