"""Admin for departments and the service catalog.

The JSON fields (keywords, translations, list values) are edited as JSON text. The forms
check their shape before the model's own ``clean`` runs, so a wrong shape is a message on
the field, never a server error."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.gis import admin

from backend.catalog.models import LANGUAGES, Department, ServiceAttribute, ServiceType
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
