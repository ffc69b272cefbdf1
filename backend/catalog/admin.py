"""Admin for departments and the service catalog.

The JSON fields (keywords, translations, list values) are edited as JSON text. The forms
check their shape before the model's own ``clean`` runs, so a wrong shape is a message on
the field, never a server error."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.gis import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils import timezone

from backend.admin_readonly import ReadOnlyAdmin
from backend.catalog.emergency import (
    EmergencyError,
    emergency_window_check,
    service_suspension_clear,
    service_suspension_set,
    site_banner_clear,
    site_banner_set,
)
from backend.catalog.models import (
    LANGUAGES,
    Department,
    EmergencyEvent,
    ServiceAttribute,
    ServiceSuspension,
    ServiceType,
    SiteBanner,
)
from backend.process_cache import ClearsProcessCachesAdmin

I18N_HELP = 'Translations by language, e.g. {"es": "...", "vi": "..."}. Languages: ' + ", ".join(
    LANGUAGES
)


def translations_check(value: Any) -> dict[str, str]:
    """A ``{"es": "...", "vi": "..."}`` object of known languages and non-empty texts."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise forms.ValidationError('Enter an object such as {"es": "...", "vi": "..."}.')
    unknown = sorted(str(k) for k in value if k not in LANGUAGES)
    if unknown:
        raise forms.ValidationError(
            f"Unknown language(s): {', '.join(unknown)}. Use {', '.join(LANGUAGES)}."
        )
    if any(not isinstance(v, str) or not v.strip() for v in value.values()):
        raise forms.ValidationError("Each translation must be a non-empty text.")
    return value


class ServiceTypeForm(forms.ModelForm):
    class Meta:
        model = ServiceType
        fields = (
            "service_code",
            "name",
            "description",
            "group",
            "department",
            "active",
            "turnaround_hours",
            "turnaround_business_hours",
            "default_priority",
            "keywords",
            "icon",
            "sensitive_location",
            "name_i18n",
            "description_i18n",
            "service_area",
        )
        help_texts = {"name_i18n": I18N_HELP, "description_i18n": I18N_HELP}

    def clean_keywords(self) -> list[str]:
        value = self.cleaned_data.get("keywords")
        if value in (None, ""):
            return []
        if not isinstance(value, list) or any(
            not isinstance(k, str) or not k.strip() for k in value
        ):
            raise forms.ValidationError('Enter a list of words, e.g. ["pothole", "hole"].')
        return value

    def clean_name_i18n(self) -> dict[str, str]:
        return translations_check(self.cleaned_data.get("name_i18n"))

    def clean_description_i18n(self) -> dict[str, str]:
        return translations_check(self.cleaned_data.get("description_i18n"))


class ServiceAttributeForm(forms.ModelForm):
    class Meta:
        model = ServiceAttribute
        fields = (
            "code",
            "datatype",
            "order",
            "required",
            "variable",
            "description",
            "datatype_description",
            "values",
            "description_i18n",
        )
        help_texts = {
            "values": 'For list attributes: [{"key": "small", "name": "Small", '
            '"name_i18n": {"es": "Pequeño"}}, ...]',
            "description_i18n": I18N_HELP,
        }

    def clean_values(self) -> list[Any]:
        # The shape of each entry is checked by ServiceAttribute.clean; here only that it is
        # a list, which that check needs.
        value = self.cleaned_data.get("values")
        if value in (None, ""):
            return []
        if not isinstance(value, list):
            raise forms.ValidationError('Enter a list: [{"key": "...", "name": "..."}, ...].')
        for entry in value:
            if isinstance(entry, dict) and "name_i18n" in entry:
                translations_check(entry["name_i18n"])
        return value

    def clean_description_i18n(self) -> dict[str, str]:
        return translations_check(self.cleaned_data.get("description_i18n"))


class ServiceAttributeInline(admin.StackedInline):
    model = ServiceAttribute
    form = ServiceAttributeForm
    extra = 0
    fields = (
        ("code", "datatype", "order"),
        ("required", "variable"),
        "description",
        "datatype_description",
        "values",
        "description_i18n",
    )


@admin.register(Department)
class DepartmentAdmin(ClearsProcessCachesAdmin, admin.ModelAdmin):
    list_display = ("name", "code", "contact_email", "time_zone")
    search_fields = ("name", "code", "contact_email")
    ordering = ("name",)


@admin.register(ServiceType)
class ServiceTypeAdmin(ClearsProcessCachesAdmin, admin.GISModelAdmin):
    form = ServiceTypeForm
    inlines = (ServiceAttributeInline,)
    list_display = (
        "name",
        "service_code",
        "group",
        "department",
        "turnaround_hours",
        "default_priority",
        "active",
    )
    list_filter = ("active", "group", "department", "default_priority")
    list_select_related = ("department",)
    search_fields = ("name", "service_code", "description", "group")
    fieldsets = (
        (
            None,
            {"fields": ("service_code", "name", "description", "group", "department", "active")},
        ),
        (
            "Turnaround and priority",
            {"fields": ("turnaround_hours", "turnaround_business_hours", "default_priority")},
        ),
        ("Search and display", {"fields": ("keywords", "icon", "sensitive_location")}),
        ("Translations", {"fields": ("name_i18n", "description_i18n")}),
        (
            "Service area",
            {
                "classes": ("collapse",),
                "description": "Requests must fall inside this area when it is set.",
                "fields": ("service_area",),
            },
        ),
    )


# --- Emergency mode: the site banner and services switched off for a while. Adding one goes
# through backend.catalog.emergency (which writes the audit event); a set one is read-only,
# cleared by the list's action, never deleted.


class EmergencyNoticeForm(forms.ModelForm):
    """Checks the message and the time window as the service will, so a wrong one is a
    message on the field."""

    def clean_message_i18n(self) -> dict[str, str]:
        return translations_check(self.cleaned_data.get("message_i18n"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        errors = emergency_window_check(
            message=data.get("message") or "",
            starts_at=data.get("starts_at"),
            ends_at=data.get("ends_at"),
            now=timezone.now(),
        )
        for name, texts in errors.items():
            for text in texts:
                self.add_error(name if name in self.fields else None, text)
        return data


class SiteBannerForm(EmergencyNoticeForm):
    class Meta:
        model = SiteBanner
        fields = ("message", "message_i18n", "starts_at", "ends_at")
        help_texts = {
            "message_i18n": I18N_HELP,
            "starts_at": "Empty: now.",
            "ends_at": "Empty: until cleared.",
        }


class ServiceSuspensionForm(EmergencyNoticeForm):
    class Meta:
        model = ServiceSuspension
        fields = ("service_type", "message", "message_i18n", "starts_at", "ends_at")
        help_texts = {
            "message_i18n": I18N_HELP,
            "starts_at": "Empty: now.",
            "ends_at": "Empty: until switched back on.",
        }


class EmergencyNoticeAdmin(admin.ModelAdmin):
    """Add through the service; a set notice is shown read-only and cleared by the action."""

    add_fields: tuple[str, ...] = ()
    readonly_fields = ("set_by", "set_at", "cleared_by", "cleared_at")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The list's "clear" action needs the change permission; the rows stay read-only.
        return obj is None and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.add_fields if obj is None else (*self.add_fields, *self.readonly_fields)

    cleared_words = ""  # what the "end now" action says it did

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: Any = None
    ) -> HttpResponse:
        """A notice set by someone else at the same moment (the service's 409) is said on the
        add page, with nothing stored, instead of a server error."""
        try:
            return super().add_view(request, form_url, extra_context)
        except EmergencyError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def notice_set(self, obj: Any, *, actor: Any, **window: Any) -> Any:
        raise NotImplementedError

    def notice_clear(self, obj: Any, *, actor: Any) -> Any:
        raise NotImplementedError

    @admin.action(description="End the selected ones now", permissions=["change"])
    def notices_clear(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        cleared = [self.notice_clear(obj, actor=request.user) for obj in queryset]
        self.message_user(request, f"{len(cleared)} {self.cleared_words}.", messages.SUCCESS)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:  # pragma: no cover - a set notice is read-only (has_change_permission)
            return
        created = self.notice_set(
            obj,
            actor=request.user,
            message=obj.message,
            message_i18n=obj.message_i18n,
            starts_at=obj.starts_at,
            ends_at=obj.ends_at,
        )
        obj.__dict__.update(created.__dict__)  # the admin's redirect and log name it

    @admin.display(boolean=True, description="In effect now")
    def in_effect(self, obj: SiteBanner | ServiceSuspension) -> bool:
        now = timezone.now()
        return (
            obj.cleared_at is None
            and obj.starts_at <= now
            and (obj.ends_at is None or now < obj.ends_at)
        )


@admin.register(SiteBanner)
class SiteBannerAdmin(EmergencyNoticeAdmin):
    form = SiteBannerForm
    add_fields = SiteBannerForm.Meta.fields
    list_display = ("message", "in_effect", "starts_at", "ends_at", "set_by", "cleared_at")
    list_select_related = ("set_by",)
    actions = ("notices_clear",)
    cleared_words = "banner(s) taken down"

    def notice_set(self, obj: SiteBanner, *, actor: Any, **window: Any) -> SiteBanner:
        return site_banner_set(actor=actor, **window)

    def notice_clear(self, obj: SiteBanner, *, actor: Any) -> SiteBanner:
        return site_banner_clear(banner=obj, actor=actor)


@admin.register(ServiceSuspension)
class ServiceSuspensionAdmin(EmergencyNoticeAdmin):
    form = ServiceSuspensionForm
    add_fields = ServiceSuspensionForm.Meta.fields
    autocomplete_fields = ("service_type",)
    list_display = (
        "service_type",
        "message",
        "in_effect",
        "starts_at",
        "ends_at",
        "set_by",
        "cleared_at",
    )
    list_select_related = ("service_type", "set_by")
    search_fields = ("service_type__service_code", "service_type__name", "message")
    actions = ("notices_clear",)
    cleared_words = "service(s) switched back on"

    def notice_set(self, obj: ServiceSuspension, *, actor: Any, **window: Any) -> ServiceSuspension:
        return service_suspension_set(service_type=obj.service_type, actor=actor, **window)

    def notice_clear(self, obj: ServiceSuspension, *, actor: Any) -> ServiceSuspension:
        return service_suspension_clear(suspension=obj, actor=actor)


@admin.register(EmergencyEvent)
class EmergencyEventAdmin(ReadOnlyAdmin):
    """The audit of emergency mode: who set or cleared what, when, until when."""

    list_display = ("created_at", "kind", "service_type", "message", "ends_at", "actor")
    list_filter = ("kind",)
    list_select_related = ("service_type", "actor")
    search_fields = ("message", "service_type__service_code")
