"""Admin for photos: read-only. Photos arrive through the intake pipeline and are rendered by
the processing task; staff look at them here (the EXIF data is private but staff may see it)."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import SafeString

from backend.photos.models import Photo, ProcessingState


def photo_thumbnail_html(photo: Photo) -> SafeString | str:
    """The processed thumbnail as an image linking to the display size, or why there is none."""
    if photo.state == ProcessingState.READY and photo.thumbnail:
        target = photo.display.url if photo.display else photo.thumbnail.url
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">'
            '<img src="{}" alt="Photo {}" style="max-height: 120px; max-width: 160px"></a>',
            target,
            photo.thumbnail.url,
            photo.pk,
        )
    if photo.state == ProcessingState.FAILED:
        return f"Processing failed: {photo.failure_reason or 'unknown reason'}"
    return "Waiting for processing"


@admin.register(Photo)
class PhotoAdmin(admin.ModelAdmin):
    list_display = ("thumbnail_preview", "service_request", "kind", "state", "created_at")
    list_filter = ("kind", "state")
    list_select_related = ("service_request",)
    search_fields = ("service_request__public_id", "content_hash")
    date_hierarchy = "created_at"
    fields = (
        "thumbnail_preview",
        "service_request",
        "kind",
        "state",
        "failure_reason",
        ("source_format", "width", "height", "byte_size"),
        "content_hash",
        "display",
        "thumbnail",
        "raw_path",
        ("exif_taken_at", "exif_location"),
        ("created_at", "processed_at"),
    )
    # View-only (no change permission), so every field shows read-only; the preview is not
    # a model field and has to be named here.
    readonly_fields = ("thumbnail_preview",)

    @admin.display(description="Photo")
    def thumbnail_preview(self, obj: Photo) -> SafeString | str:
        return photo_thumbnail_html(obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Photo | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Photo | None = None) -> bool:
        return False
