"""Admin for Open311 API keys. Adding a key issues it through ``api_key_create`` and shows
the raw key once, in a message: only its SHA-256 digest is stored. Keys are revoked with the
list action, never deleted (tokens refer to them)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from backend.open311.models import ApiKey, IntakeToken
from backend.open311.services import api_key_create, api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ("name", "prefix", "channel", "active", "created_at", "last_used_at")
    list_filter = ("active", "channel")
    search_fields = ("name", "prefix")
    actions = ["revoke"]

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("name", "channel")
        return ("name", "channel", "prefix", "active", "created_at", "last_used_at")

    def get_readonly_fields(
        self, request: HttpRequest, obj: ApiKey | None = None
    ) -> tuple[str, ...]:
        if obj is None:
            return ()
        return ("name", "channel", "prefix", "active", "created_at", "last_used_at")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApiKey, form: ModelForm, change: bool) -> None:
        if change:
            return  # nothing on an issued key is edited here; revoke with the list action
        issued = api_key_create(name=obj.name, channel=obj.channel)
        obj.pk = issued.api_key.pk
        obj.key_hash, obj.prefix = issued.api_key.key_hash, issued.api_key.prefix
        obj.created_at = issued.api_key.created_at
        messages.warning(
            request,
            f"The API key for {obj.name!r} is {issued.raw} — copy it now: it is stored hashed "
            "and will not be shown again.",
        )

    @admin.action(description="Revoke the selected keys")
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        keys = list(queryset.filter(active=True))
        for api_key in keys:
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"Revoked {len(keys)} key(s).")


@admin.register(IntakeToken)
class IntakeTokenAdmin(admin.ModelAdmin):
    list_display = ("token", "api_key", "state", "service_request", "created_at", "processed_at")
    list_filter = ("state",)
    fields = (
        "token",
        "api_key",
        "channel",
        "state",
        "service_request",
        "errors",
        "created_at",
        "processed_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
