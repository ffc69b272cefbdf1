"""The alerts' pages: subscribe, confirm (the double opt-in's link), one-click unsubscribe,
manage by the link in each message, and a signed-in resident's changes from ``/me/``. Thin:
parse, call a service, render; a refusal is shown on the page with its status (400, 404)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from rest_framework.exceptions import Throttled

from backend.alerts.forms import SubscribeForm
from backend.alerts.messages import FREQUENCY_WORDS, subscription_describe
from backend.alerts.models import AlertSubscription, Frequency
from backend.alerts.selectors import alert_subscription_of_user, area_choices
from backend.alerts.services import (
    AlertError,
    alert_subscription_confirm,
    alert_subscription_create,
    alert_subscription_delete,
    alert_subscription_frequency_set,
    alert_subscription_unsubscribe,
)
from backend.alerts.tokens import CONFIRM, MANAGE, UNSUBSCRIBE, alert_token_make, alert_token_read
from backend.catalog.selectors import service_type_list
from backend.errors import City311Error
from backend.i18n import language_current
from backend.ratelimit import client_address, rate_setting, throttle

FORM_FIELDS = ("email", "lat", "long", "radius_m", "area", "service_code")


def _refusal(request: HttpRequest, exc: City311Error) -> HttpResponse:
    return render(
        request,
        "alerts/message.html",
        {"title": _("This link does not work"), "errors": exc.errors},
        status=exc.status_code,
    )


def _form(request: HttpRequest) -> SubscribeForm:
    areas = area_choices()
    language = language_current()
    services = [(s.service_code, s.localized_name(language)) for s in service_type_list()]
    signed_in = request.user.is_authenticated
    if request.method == "POST":
        return SubscribeForm(request.POST, areas=areas, services=services, signed_in=signed_in)
    initial = {name: request.GET[name] for name in FORM_FIELDS if request.GET.get(name)}
    return SubscribeForm(initial=initial, areas=areas, services=services, signed_in=signed_in)


@require_http_methods(["GET", "POST"])
def subscribe(request: HttpRequest) -> HttpResponse:
    if request.method == "POST" and not request.user.is_authenticated:
        # Each sends an e-mail to the address given: limited per client like password resets.
        try:
            throttle(
                scope="alert-ip",
                who=client_address(request),
                rate=rate_setting("RATELIMIT_LOGIN_IP"),
            )
        except Throttled as exc:
            answer = render(
                request,
                "alerts/message.html",
                {"title": _("Too many tries"), "text": _("Please try again in a minute.")},
                status=429,
            )
            answer["Retry-After"] = str(getattr(exc, "wait", None) or 60)
            return answer
    form = _form(request)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            subscription = alert_subscription_create(
                user=request.user,
                email=data.get("email") or "",
                lat=data["lat"],
                long=data["long"],
                radius_m=data["radius_m"] if data["lat"] is not None else None,
                area_slug=data["area"],
                service_code=data["service_code"],
                notify_new=data["notify_new"],
                notify_updates=data["notify_updates"],
                frequency=data["frequency"],
                by_email=data["by_email"],
                by_push=data.get("by_push", False),
                language=language_current(),
            )
        except AlertError as exc:
            for field, errors in exc.errors.items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            if subscription.user_id is not None:
                messages.success(request, _("Your alert is on."))
                return redirect(reverse("accounts:me") + "#alerts")
            return render(
                request,
                "alerts/message.html",
                {
                    "title": _("Check your e-mail"),
                    "text": _(
                        "We sent a link to %(email)s. Open it to start your alert; until "
                        "then nothing is sent."
                    )
                    % {"email": subscription.email},
                },
            )
    status = 400 if form.is_bound and form.errors else 200
    return render(request, "alerts/subscribe.html", {"form": form}, status=status)


@require_http_methods(["GET"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        subscription = alert_subscription_confirm(
            subscription_id=alert_token_read(token=token, purpose=CONFIRM)
        )
    except City311Error as exc:
        return _refusal(request, exc)
    return render(
        request,
        "alerts/message.html",
        {
            "title": _("Your alert is on"),
            "text": subscription_describe(subscription),
            "manage_url": reverse(
                "alerts:manage",
                args=[alert_token_make(subscription_id=subscription.pk, purpose=MANAGE)],
            ),
        },
    )


@csrf_exempt  # RFC 8058: mail programs POST the link itself; the signed token is the proof
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows a button (link checkers must not unsubscribe anyone); POST unsubscribes."""
    try:
        subscription_id = alert_token_read(token=token, purpose=UNSUBSCRIBE)
        if request.method == "POST":
            alert_subscription_unsubscribe(subscription_id=subscription_id)
            return render(
                request,
                "alerts/message.html",
                {"title": _("You are unsubscribed"), "text": _("No more of these alerts.")},
            )
        subscription = AlertSubscription.objects.filter(pk=subscription_id).first()
        if subscription is None:
            raise Http404
    except City311Error as exc:
        return _refusal(request, exc)
    return render(
        request,
        "alerts/unsubscribe.html",
        {"description": subscription_describe(subscription), "token": token},
    )


def _frequencies() -> list[tuple[str, str]]:
    return [(value, str(FREQUENCY_WORDS[Frequency(value)])) for value in Frequency.values]


@require_http_methods(["GET", "POST"])
def manage(request: HttpRequest, token: str) -> HttpResponse:
    """An e-mail subscriber's page, reached by the link in each message."""
    status = 200
    errors: dict[str, list[str]] = {}
    try:
        subscription = AlertSubscription.objects.filter(
            pk=alert_token_read(token=token, purpose=MANAGE)
        ).first()
        if subscription is None:
            raise Http404
        if request.method == "POST":
            try:
                alert_subscription_frequency_set(
                    subscription=subscription, frequency=request.POST.get("frequency", "")
                )
                messages.success(request, _("Saved."))
                return redirect(request.path)
            except AlertError as exc:
                errors, status = exc.errors, exc.status_code
    except City311Error as exc:
        return _refusal(request, exc)
    context = {
        "subscription": subscription,
        "description": subscription_describe(subscription),
        "frequencies": _frequencies(),
        "errors": errors,
        "unsubscribe_url": reverse(
            "alerts:unsubscribe",
            args=[alert_token_make(subscription_id=subscription.pk, purpose=UNSUBSCRIBE)],
        ),
    }
    return render(request, "alerts/manage.html", context, status=status)


def _own(request: HttpRequest, subscription_id: int) -> AlertSubscription:
    subscription = alert_subscription_of_user(
        user_id=int(request.user.pk or 0), subscription_id=subscription_id
    )
    if subscription is None:
        raise Http404(_("No such alert."))
    return subscription


@login_required
@require_POST
def me_delete(request: HttpRequest, subscription_id: int) -> HttpResponse:
    alert_subscription_delete(subscription=_own(request, subscription_id))
    messages.success(request, _("The alert is deleted."))
    return redirect(reverse("accounts:me") + "#alerts")


@login_required
@require_POST
def me_frequency(request: HttpRequest, subscription_id: int) -> HttpResponse:
    subscription = _own(request, subscription_id)
    try:
        alert_subscription_frequency_set(
            subscription=subscription, frequency=request.POST.get("frequency", "")
        )
    except AlertError as exc:
        return render(
            request,
            "alerts/message.html",
            {"title": _("Not saved"), "errors": exc.errors},
            status=exc.status_code,
        )
    messages.success(request, _("Saved."))
    return redirect(reverse("accounts:me") + "#alerts")
