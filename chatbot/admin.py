"""The conversation log in the admin, read-only (it is an audit trail)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from backend.admin_readonly import ReadOnlyAdmin
from chatbot.models import ChatMessage, Conversation, GatewayContact


class ChatMessageInline(admin.TabularInline):
    model = ChatMessage
    fields = ("at", "direction", "text", "language", "buttons", "meta")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Conversation)
class ConversationAdmin(ReadOnlyAdmin):
    list_display = ("public_id", "created_at", "language", "source", "user")
    list_filter = ("language", "source")
    date_hierarchy = "created_at"
    inlines = [ChatMessageInline]


@admin.register(GatewayContact)
class GatewayContactAdmin(ReadOnlyAdmin):
    """The phones the SMS and WhatsApp gateways brought, by their keyed hash (never the
    number), and who opted out."""

    list_display = ("channel", "address_key", "last_inbound_at", "opted_out_at")
    list_filter = ("channel", ("opted_out_at", admin.EmptyFieldListFilter))
    search_fields = ("address_key",)
