"""Admin pages that show records and never write them: histories, messages, the outbox.
Those records are written by the services alone. And list filters given as a table."""

from __future__ import annotations

from typing import Any, ClassVar

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest


class ReadOnlyPermissions:
    """No adding, changing or deleting through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyAdmin(ReadOnlyPermissions, admin.ModelAdmin):
    """A model's admin pages that list and show, never write."""


class ReadOnlyInlineMixin(ReadOnlyPermissions):
    """An inline that shows the rows only: no empty forms, no delete boxes."""

    extra: int = 0
    max_num: int | None = 0
    can_delete: bool = False


class HistoryInline(ReadOnlyInlineMixin, admin.TabularInline):
    """An append-only history (events) on its record's page: shown in order, with who acted,
    never added to, changed or deleted here."""

    verbose_name_plural = "History"
    ordering = ("created_at", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).select_related("actor")


class ConditionFilter(admin.SimpleListFilter):
    """A list filter whose choices are a table: value -> (label, condition)."""

    conditions: ClassVar[dict[str, tuple[str, Q]]] = {}

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(value, label) for value, (label, _condition) in self.conditions.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        chosen = self.conditions.get(self.value() or "")
        return queryset if chosen is None else queryset.filter(chosen[1])
