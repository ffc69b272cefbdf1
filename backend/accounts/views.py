"""Sign-in for everyone who is not admin staff, residents' sign-up, password reset by e-mail
and the residents' own page (``/me/``). Django's auth views underneath; the admin's log-in
(``/admin/login/``) stays as it is, for admins only."""

from __future__ import annotations

import math
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django.views.generic import FormView
from rest_framework.exceptions import Throttled

from backend.accounts.forms import SignInForm, SignupForm
from backend.accounts.landing import Role, account_role, landing_url, role_home
from backend.accounts.selectors import feedback_awaited, requests_followed, requests_of_resident
from backend.accounts.services import AccountError, account_signup
from backend.alerts.messages import FREQUENCY_WORDS, subscription_describe
from backend.alerts.models import Frequency
from backend.alerts.selectors import alert_subscriptions_of_user
from backend.ratelimit import client_address, rate_setting, signup_throttle, throttle
from backend.service_requests.models import OPEN_STATUSES, ServiceRequest, Status
from backend.web.turnaround import expected_date_words
from backend.web.views import STATUS_LABELS
from workorders.feedback import feedback_token_make
from workorders.selectors import staff_access_get

BACKEND = "backend.ratelimit.LockoutModelBackend"


def _next_url(request: HttpRequest) -> str:
    return str(request.POST.get("next") or request.GET.get("next") or "")


def _landing(request: HttpRequest, view: Any) -> str:
    return landing_url(
        user=request.user,
        next_url=_next_url(request),
        allowed_hosts=view.get_success_url_allowed_hosts(),
        require_https=request.is_secure(),
    )


def _too_many(wait: float | None) -> tuple[str, int]:
    seconds = max(1, math.ceil(float(wait or 60)))
    message = ngettext(
        "Too many attempts from your address. Please try again in %(n)d second.",
        "Too many attempts from your address. Please try again in %(n)d seconds.",
        seconds,
    ) % {"n": seconds}
    return message, seconds


def _throttled(response: HttpResponseBase, seconds: int) -> HttpResponseBase:
    response.status_code = 429
    response["Retry-After"] = str(seconds)
    return response


def _form_throttled(view: Any, exc: Throttled) -> HttpResponseBase:
    """The view's form again, carrying the throttle's message: a 429 with Retry-After."""
    message, seconds = _too_many(getattr(exc, "wait", None))
    form = view.get_form()
    form.add_error(None, message)
    return _throttled(view.form_invalid(form), seconds)


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    template_name = "accounts/login.html"

    def get_success_url(self) -> str:
        return _landing(self.request, self)

    def form_invalid(self, form: Any) -> HttpResponse:
        response = super().form_invalid(form)
        if form.retry_after is not None:
            _throttled(response, form.retry_after)
        return response


class SignOutView(auth_views.LogoutView):
    """POST only (Django's): a link cannot sign anyone out."""

    next_page = "web:report"

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().post(request, *args, **kwargs)
        messages.info(request, _("You have signed out."))
        return response


class SignupView(FormView):
    form_class = SignupForm
    template_name = "accounts/signup.html"

    # Django's views expose this; the landing check uses the same hosts as the sign-in's.
    def get_success_url_allowed_hosts(self) -> set[str]:
        return {self.request.get_host()}

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        return {**super().get_context_data(**kwargs), "next": _next_url(self.request)}

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            signup_throttle(request)
        except Throttled as exc:
            return _form_throttled(self, exc)  # type: ignore[return-value]
        return super().post(request, *args, **kwargs)

    def form_valid(self, form: SignupForm) -> HttpResponse:
        data = form.cleaned_data
        try:
            user = account_signup(email=data["email"], password=data["password"], name=data["name"])
        except AccountError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            return self.form_invalid(form)
        login(self.request, user, backend=BACKEND)
        messages.success(self.request, _("Welcome! Your account is ready."))
        return HttpResponseRedirect(_landing(self.request, self))


class PasswordResetView(auth_views.PasswordResetView):
    """Asks for the e-mail and sends the link (the same answer whether an account has that
    address or not). Limited per address like sign-ins: each one sends an e-mail."""

    template_name = "accounts/password_reset_form.html"
    email_template_name = "accounts/password_reset_email.txt"
    subject_template_name = "accounts/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password-reset-done")

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            throttle(
                scope="reset-ip",
                who=client_address(request),
                rate=rate_setting("RATELIMIT_LOGIN_IP"),
            )
        except Throttled as exc:
            return _form_throttled(self, exc)  # type: ignore[return-value]
        return super().post(request, *args, **kwargs)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "accounts/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


# --- The residents' page


def _row(service_request: ServiceRequest) -> dict[str, Any]:
    status = Status(service_request.status)
    is_open = status in OPEN_STATUSES
    return {
        "public_id": service_request.public_id,
        "service_name": service_request.service_type.localized_name(),
        "status": status.value,
        "status_label": STATUS_LABELS.get(status, status.label),
        "address": service_request.address,
        "requested_at": service_request.requested_at,
        "expected_date": (
            expected_date_words(service_request.expected_at)
            if is_open and service_request.expected_at
            else ""
        ),
        "closed_at": service_request.closed_at if not is_open else None,
        "track_url": reverse("web:track", args=[service_request.public_id]),
    }


@never_cache
@login_required
@require_GET
def me(request: HttpRequest) -> HttpResponse:
    """My requests, the ones I follow, and the closures waiting for my answer."""
    access = staff_access_get(user=request.user)
    role = account_role(user=request.user, access=access)
    feedback = [
        {
            **_row(item.service_request),
            "closed_at": item.close_event.created_at,
            "feedback_url": reverse(
                "workorders:feedback", args=[feedback_token_make(close_event=item.close_event)]
            ),
        }
        for item in feedback_awaited(user=request.user, now=timezone.now())
    ]
    context = {
        "requests": [_row(sr) for sr in requests_of_resident(user=request.user)],
        "following": [_row(sr) for sr in requests_followed(user=request.user)],
        "feedback": feedback,
        "alerts": [
            {
                "id": alert.pk,
                "description": subscription_describe(alert),
                "frequency": alert.frequency,
            }
            for alert in alert_subscriptions_of_user(user_id=int(request.user.pk or 0))
        ],
        "alert_frequencies": [
            (value, FREQUENCY_WORDS[Frequency(value)]) for value in Frequency.values
        ],
        "role": role.value,
        "role_home": role_home(role=role, access=access) if role is not Role.RESIDENT else "",
    }
    return render(request, "accounts/me.html", context)
