"""Admin for Open311 API keys. Adding a key issues it through ``api_key_create`` and shows
the raw key once, in a message: only its SHA-256 digest is stored. Keys are revoked with the
list action, never deleted (tokens refer to them); the "updates" permission (posting
residents' updates) is granted and withdrawn with list actions too.

Residents' comments posted by partners wait here for moderation: staff publish or reject
them with the list actions (``backend.service_requests.comments``); the flag says what the
resident claimed ("it is fixed", "not fixed" too late to reopen)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from backend.errors import City311Error
from backend.open311.models import ApiKey, IntakeToken, PartnerUpdate
from backend.open311.services import api_key_create, api_key_revoke, api_key_updates_allow
from backend.service_requests.comments import resident_comment_publish, resident_comment_reject
from backend.service_requests.models import CommentState, ResidentComment

# What an issued key's page shows, all read-only.
ISSUED_KEY_FIELDS = (
    "name",
    "channel",
    "prefix",
    "active",
    "may_post_updates",
    "created_at",
    "last_used_at",
)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "prefix",
        "channel",
        "active",
        "may_post_updates",
        "created_at",
        "last_used_at",
    )
    list_filter = ("active", "channel", "may_post_updates")
    search_fields = ("name", "prefix")
    actions = ["revoke", "allow_updates", "forbid_updates"]

    def get_fields(self, request: HttpRequest, obj: ApiKey | None = None) -> tuple[str, ...]:
        if obj is None:
            return ("name", "channel", "may_post_updates")
        return ISSUED_KEY_FIELDS

    def get_readonly_fields(
        self, request: HttpRequest, obj: ApiKey | None = None
    ) -> tuple[str, ...]:
        if obj is None:
            return ()
        return ISSUED_KEY_FIELDS

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: ApiKey, form: ModelForm, change: bool) -> None:
        if change:
            return  # nothing on an issued key is edited here; revoke with the list action
        issued = api_key_create(
            name=obj.name, channel=obj.channel, may_post_updates=obj.may_post_updates
        )
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

    @admin.action(description="Allow the selected keys to post residents' updates")
    def allow_updates(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            api_key_updates_allow(api_key=api_key, allowed=True)
        self.message_user(request, "Done.")

    @admin.action(description="Stop the selected keys from posting residents' updates")
    def forbid_updates(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for api_key in queryset:
            api_key_updates_allow(api_key=api_key, allowed=False)
        self.message_user(request, "Done.")


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


@admin.register(ResidentComment)
class ResidentCommentAdmin(admin.ModelAdmin):
    """The moderation queue of residents' comments (pending first). Nothing is edited here:
    a comment is published or rejected as it was sent."""

    list_display = (
        "id",
        "service_request",
        "state",
        "flag",
        "claimed_status",
        "reopened",
        "channel",
        "created_at",
    )
    list_filter = ("state", "flag", "reopened", "channel")
    search_fields = ("service_request__public_id", "text")
    list_select_related = ("service_request",)
    actions = ["publish", "reject"]
    fields = (
        "service_request",
        "state",
        "flag",
        "claimed_status",
        "reopened",
        "text",
        "media_url",
        "author_name",
        "author_email",
        "channel",
        "created_at",
        "moderated_at",
        "moderated_by",
    )
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[ResidentComment]:
        return super().get_queryset(request).order_by("state", "-created_at")  # pending first

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def _moderate(
        self, request: HttpRequest, queryset: QuerySet[ResidentComment], *, publish: bool
    ) -> None:
        done = 0
        for comment in queryset.filter(state=CommentState.PENDING):
            try:
                if publish:
                    resident_comment_publish(comment=comment, actor=request.user)
                else:
                    resident_comment_reject(comment=comment, actor=request.user)
            except City311Error as exc:  # moderated meanwhile by someone else
                self.message_user(request, f"#{comment.pk}: {exc.message}", messages.WARNING)
            else:
                done += 1
        verb = "Published" if publish else "Rejected"
        self.message_user(request, f"{verb} {done} comment(s).")

    @admin.action(description="Publish the selected comments")
    def publish(self, request: HttpRequest, queryset: QuerySet[ResidentComment]) -> None:
        self._moderate(request, queryset, publish=True)

    @admin.action(description="Reject the selected comments")
    def reject(self, request: HttpRequest, queryset: QuerySet[ResidentComment]) -> None:
        self._moderate(request, queryset, publish=False)


@admin.register(PartnerUpdate)
class PartnerUpdateAdmin(admin.ModelAdmin):
    list_display = ("update_id", "api_key", "comment", "partner_updated_at", "created_at")
    search_fields = ("update_id",)
    fields = ("update_id", "api_key", "comment", "partner_updated_at", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
