"""The call-centre form: a report taken over the phone, entered by staff in the admin.

The form only collects input. The intake pipeline (``service_request_submit``) validates it
against the catalog exactly as for every other channel; its errors are put back on the form
fields with ``add_intake_errors``."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.conf import settings

from backend.catalog.models import ServiceType
from backend.intake.validation import Errors

# Intake error keys that are not the form field of the same name.
_INTAKE_FIELDS = {
    "service_code": "service_type",
    "name": "contact_name",
    "email": "contact_email",
    "phone": "contact_phone",
}


class ServiceTypeChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.service_code}) — {obj.department.name}"


class PhoneReportForm(forms.Form):
    service_type = ServiceTypeChoiceField(
        queryset=ServiceType.objects.filter(active=True)
        .select_related("department")
        .order_by("name"),
        empty_label="Choose the service…",
    )
    lat = forms.FloatField(
        required=False, label="Latitude", help_text="Decimal degrees, e.g. 42.3601"
    )
    long = forms.FloatField(
        required=False, label="Longitude", help_text="Decimal degrees, e.g. -71.0589"
    )
    address = forms.CharField(
        required=False,
        help_text="The street address or a description of the place. "
        "Give an address, a latitude and longitude, or both.",
        widget=forms.TextInput(attrs={"size": 60}),
    )
    description = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 4, "cols": 60})
    )
    attributes = forms.JSONField(
        required=False,
        label="Answers",
        help_text='The answers to the service\'s questions as JSON, e.g. {"size": "large"} or '
        '{"items": ["furniture", "bags"]}. The questions of each service are listed below.',
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )
    language = forms.ChoiceField(
        choices=settings.LANGUAGES,
        initial="en",
        help_text="The caller's language, for the messages they receive.",
    )
    contact_name = forms.CharField(required=False, label="Caller's name")
    contact_email = forms.CharField(required=False, label="Caller's e-mail")
    contact_phone = forms.CharField(required=False, label="Caller's phone")
    # A key per form: a double submission of the same form files one request, not two.
    submission_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("submission_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)

    def intake_arguments(self) -> dict[str, Any]:
        """The keyword arguments of ``service_request_submit`` for the cleaned input."""
        data = self.cleaned_data
        return {
            "service_code": data["service_type"].service_code,
            "lat": data.get("lat"),
            "long": data.get("long"),
            "address": data.get("address") or "",
            "description": data.get("description") or "",
            "attributes": data.get("attributes"),
            "language": data.get("language") or "en",
            "contact_name": data.get("contact_name") or "",
            "contact_email": data.get("contact_email") or "",
            "contact_phone": data.get("contact_phone") or "",
            "idempotency_key": f"phone-form-{data['submission_key']}",
        }

    def add_intake_errors(self, errors: Errors) -> None:
        """Shows the intake's errors on the fields they are about (``attribute[size]`` on the
        answers); the rest above the form."""
        for key, messages in errors.items():
            field: str | None = _INTAKE_FIELDS.get(key, key)
            label = ""
            if key.startswith("attribute[") and key.endswith("]"):
                field, label = "attributes", key[len("attribute[") : -1]
            if field not in self.fields:
                field, label = None, key
            for message in messages:
                if label and not message.startswith(label):
                    message = f"{label}: {message}"
                self.add_error(field, message)
