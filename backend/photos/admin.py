"""Admin for photos: read-only. Photos arrive through the intake pipeline and are rendered by
the processing task; staff look at them here (the EXIF data is private but staff may see it).
Staff who may change requests blur a region of one (moderation: ``photo_blur``) on its page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from backend.photos.models import Photo, ProcessingState
from backend.photos.services import BlurRect, photo_blur
from backend.service_requests.moderation import REASON_MAX
from backend.service_requests.moderation_admin import moderation_form_page

# Blurring is moderation of a request: staff who may change requests may do it.
MODERATE_PERMISSION = "service_requests.change_servicerequest"


class BlurForm(forms.Form):
    x = forms.FloatField(label="x", min_value=0)
    y = forms.FloatField(label="y", min_value=0)
    w = forms.FloatField(label=gettext_lazy("width"), min_value=0)
    h = forms.FloatField(label=gettext_lazy("height"), min_value=0)
    fractions = forms.BooleanField(
        required=False,
        label=gettext_lazy("As fractions"),
        help_text=gettext_lazy(
            "Ticked: x, y, width and height are shares of the photo's width and height (0 to "
            "1); else pixels of the display image."
        ),
    )
    reason = forms.CharField(max_length=REASON_MAX, label=gettext_lazy("Reason"))


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
        ("blur_link", "blurred_at", "original_path"),
    )
    # View-only (no change permission), so every field shows read-only; the preview and the
    # link are not model fields and have to be named here.
    readonly_fields = ("thumbnail_preview", "blur_link")

    @admin.display(description=gettext_lazy("Moderation"))
    def blur_link(self, obj: Photo) -> SafeString | str:
        if obj.pk is None or obj.state != ProcessingState.READY:
            return "—"
        url = reverse("admin:photos_photo_blur", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, _("Blur part of this photo"))

    def get_urls(self) -> list[URLPattern]:
        return [
            path(
                "<int:pk>/blur/",
                self.admin_site.admin_view(self.blur_view),
                name="photos_photo_blur",
            ),
            *super().get_urls(),
        ]

    def blur_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        if not request.user.has_perm(MODERATE_PERMISSION):
            raise PermissionDenied
        photo = Photo.objects.filter(pk=pk).first()
        if photo is None:
            raise Http404(_("No photo %(id)s.") % {"id": pk})

        def apply(data: dict[str, Any]) -> None:
            rect = BlurRect(
                x=data["x"], y=data["y"], w=data["w"], h=data["h"], fractions=data["fractions"]
            )
            photo_blur(photo=photo, rect=rect, reason=data["reason"], actor=request.user)

        size = f"{photo.display.width}x{photo.display.height}" if photo.display else ""
        texts = (_("Blur part of this photo"), _("The photo is blurred."))
        page = {"preview": photo_thumbnail_html(photo), "size": size}
        return moderation_form_page(request, self, photo, BlurForm, apply, texts, page)

    @admin.display(description="Photo")
    def thumbnail_preview(self, obj: Photo) -> SafeString | str:
        return photo_thumbnail_html(obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Photo | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Photo | None = None) -> bool:
        return False
