"""The sign-in and sign-up forms. Signing in applies the rate limit per address and the
lock-out per account and address (``backend/ratelimit.py``), once per attempt, and says
which of the two refused."""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, UsernameField
from django.contrib.auth.password_validation import password_validators_help_text_html
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from rest_framework.exceptions import Throttled

from backend.accounts.services import account_authenticate
from backend.ratelimit import login_failed, login_locked_for, login_succeeded, login_throttle


class LockoutAuthenticationForm(AuthenticationForm):
    """Django's sign-in form with the rate limits and the lock-out, checked once per attempt
    (the password is checked without the request: ``account_authenticate``)."""

    # Seconds to wait when the attempt was refused by the rate limit or the lock-out.
    retry_after: int | None = None

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is None or not password:
            return self.cleaned_data
        request = self.request
        assert request is not None, "the sign-in view passes its request"
        try:
            login_throttle(request, account=username)
        except Throttled as exc:
            self.retry_after = max(1, math.ceil(float(getattr(exc, "wait", None) or 60)))
            if login_locked_for(request, account=username) is not None:
                minutes = max(1, math.ceil(self.retry_after / 60))
                message = ngettext(
                    "Too many wrong passwords: signing in to this account from here is locked "
                    "for %(n)d minute. You can reset your password meanwhile.",
                    "Too many wrong passwords: signing in to this account from here is locked "
                    "for %(n)d minutes. You can reset your password meanwhile.",
                    minutes,
                ) % {"n": minutes}
                raise ValidationError(message, code="locked") from exc
            message = ngettext(
                "Too many sign-in attempts from your address. Please try again in %(n)d second.",
                "Too many sign-in attempts from your address. Please try again in %(n)d seconds.",
                self.retry_after,
            ) % {"n": self.retry_after}
            raise ValidationError(message, code="throttled") from exc
        self.user_cache = account_authenticate(identifier=username, password=password)
        if self.user_cache is None:
            login_failed(request, account=username)
            raise self.get_invalid_login_error()
        login_succeeded(request, account=username)
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class SignInForm(LockoutAuthenticationForm):
    username = UsernameField(
        label=_("E-mail or user name"),
        max_length=254,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "autocapitalize": "none"}
        ),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    error_messages = {
        "invalid_login": _("Wrong e-mail, user name or password."),
        "inactive": _("This account is inactive."),
    }


class AdminSignInForm(LockoutAuthenticationForm, AdminAuthenticationForm):
    """The admin's log-in form: staff only (Django's), with the rate limits and the
    lock-out; the admin site answers it 429 with Retry-After (``admin_site.py``)."""


class SignupForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"),
        max_length=150,  # it becomes the user name
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autocapitalize": "none"}),
    )
    name = forms.CharField(
        label=_("Name (optional)"),
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validators_help_text_html(),
    )
