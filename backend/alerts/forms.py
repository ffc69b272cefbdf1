"""The subscribe form: plain HTML, works without JavaScript, errors tied to their fields."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from backend.alerts.messages import FREQUENCY_WORDS
from backend.alerts.models import Frequency


class SubscribeForm(forms.Form):
    email = forms.EmailField(
        label=_("Your e-mail address"),
        required=False,
        help_text=_("We send a link to confirm it first; nothing else is sent before."),
    )
    lat = forms.FloatField(label=_("Latitude"), required=False, min_value=-90, max_value=90)
    long = forms.FloatField(label=_("Longitude"), required=False, min_value=-180, max_value=180)
    radius_m = forms.IntegerField(
        label=_("Radius in metres"),
        required=False,
        min_value=1,
        max_value=settings.ALERTS_RADIUS_MAX_M,
        initial=500,
    )
    area = forms.ChoiceField(label=_("Or an area"), required=False)
    service_code = forms.ChoiceField(label=_("Only this kind of problem"), required=False)
    notify_new = forms.BooleanField(label=_("New requests"), required=False, initial=True)
    notify_updates = forms.BooleanField(label=_("Updates of these requests"), required=False)
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=[(value, FREQUENCY_WORDS[Frequency(value)]) for value in Frequency.values],
        initial=Frequency.IMMEDIATE,
        widget=forms.RadioSelect,
    )
    by_email = forms.BooleanField(label=_("By e-mail"), required=False, initial=True)
    by_push = forms.BooleanField(label=_("By push to my phones and browsers"), required=False)

    def __init__(
        self,
        *args: Any,
        areas: list[tuple[str, str]],
        services: list[tuple[str, str]],
        signed_in: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        area_field = self.fields["area"]
        service_field = self.fields["service_code"]
        assert isinstance(area_field, forms.ChoiceField)
        assert isinstance(service_field, forms.ChoiceField)
        area_field.choices = [("", _("No area")), *areas]
        service_field.choices = [("", _("Every kind")), *services]
        if signed_in:
            del self.fields["email"]
        else:
            del self.fields["by_push"]
            self.fields["email"].required = True
