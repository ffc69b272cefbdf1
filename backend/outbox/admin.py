"""The outbox in the admin: read-only, to see what waits and why; one action hands chosen
pending rows on now (the dispatcher would anyway, after their backoff)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest

from backend.admin_readonly import ConditionFilter, ReadOnlyAdmin
from backend.outbox.models import OutboxMessage
from backend.outbox.services import outbox_dispatch


class PendingFilter(ConditionFilter):
    title = "state"
    parameter_name = "state"
    conditions = {
        "pending": ("Waiting", Q(dispatched_at__isnull=True)),
        "failed": ("Waiting, after a failure", Q(dispatched_at__isnull=True, attempts__gt=0)),
        "done": ("Handed on", Q(dispatched_at__isnull=False)),
    }


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
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

    @admin.action(description="Hand the selected waiting side effects on now")
    def hand_on_now(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        ids = list(queryset.filter(dispatched_at__isnull=True).values_list("pk", flat=True))
        done = outbox_dispatch(ids=ids)
        self.message_user(
            request,
            f"{done} of {len(ids)} handed on.",
            messages.SUCCESS if done == len(ids) else messages.WARNING,
        )
