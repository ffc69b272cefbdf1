"""Writes of the mobile API that belong to no other app: accounts and their tokens, devices,
browsers' Web Push subscriptions and push messages, unfollowing, and the kept answers of
idempotent crew actions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from backend.accounts import services as accounts
from backend.accounts.services import AccountError
from backend.errors import City311Error, ErrorCode
from backend.outbox.services import outbox_call
from backend.service_requests.models import RequestFollower, ServiceRequest
from mobile_api.models import ActionReplay, Device, Platform
from mobile_api.push import PushMessage, web_push_endpoint_problem


class ReplayConflict(City311Error):
    """The idempotency key was used before for another action or another body (422)."""

    code = ErrorCode.UNPROCESSABLE

    def __init__(self, key: str = "") -> None:
        self.key = key
        super().__init__(
            {"Idempotency-Key": ["This key was used for another action or with another body."]}
        )


def _user_id(user: AbstractBaseUser | AnonymousUser) -> int:
    if not user.is_authenticated:
        raise ValueError("A signed-in user is needed.")
    return int(user.pk)


# --- Accounts


def account_signup(*, email: str, password: str, name: str = "") -> tuple[AbstractBaseUser, str]:
    """A resident's account (``backend.accounts.services.account_signup``, the one sign-up of
    the web and the app) and its token, together or not at all."""
    with transaction.atomic():
        user = accounts.account_signup(email=email, password=password, name=name)
        token = Token.objects.create(user=user)
    return user, token.key


def account_login(*, email: str, password: str) -> tuple[AbstractBaseUser, str]:
    user = authenticate(username=email.strip().lower(), password=password)
    if user is None or not user.is_active:
        raise AccountError("Wrong e-mail or password.", field="password", status_code=401)
    token, _ = Token.objects.get_or_create(user=user)
    return user, token.key


# --- Devices and push messages


def device_register(
    *, user: AbstractBaseUser | AnonymousUser, platform: str, push_token: str
) -> Device:
    """Registers (or refreshes) the phone; the token moves to this user if it was another's."""
    now = timezone.now()
    device, _ = Device.objects.update_or_create(
        push_token=push_token,
        defaults={"user_id": _user_id(user), "platform": platform, "last_seen_at": now},
        create_defaults={
            "user_id": _user_id(user),
            "platform": platform,
            "created_at": now,
            "last_seen_at": now,
        },
    )
    return device


def push_send(*, user_id: int, message: PushMessage) -> int:
    """Queues the message for each of the user's devices, through the outbox (sent once the
    transaction commits); the number of devices."""
    devices = [
        [platform, push_token]
        for platform, push_token in Device.objects.filter(user_id=user_id).values_list(
            "platform", "push_token"
        )
    ]
    if devices:
        outbox_call("mobile_api.push.push_deliver", devices=devices, message=asdict(message))
    return len(devices)


class PushSubscriptionError(City311Error):
    """A browser's subscription refused, naming the field (400)."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__({field: [message]}, field=field)

    def __str__(self) -> str:
        return self.message


def web_push_subscribe(
    *,
    user: AbstractBaseUser | AnonymousUser,
    endpoint: str,
    p256dh: str,
    auth: str,
    service_request: ServiceRequest | None = None,
) -> Device:
    """Stores (or refreshes) a browser's Web Push subscription, keyed by its endpoint.

    A signed-in resident's hears about their requests and the ones they follow (and
    ``service_request`` too, when given). An anonymous one must name a request and is bound
    to it alone: status messages carry only what the request's public page shows, so this
    reveals nothing. Registering the endpoint again moves it to the latest caller and
    request (the endpoint is the browser's secret). The keys are checked by the caller's
    serializer; the endpoint here: https, on ``WEB_PUSH_ALLOWED_HOSTS`` only."""
    problem = web_push_endpoint_problem(endpoint)
    if problem is not None:
        raise PushSubscriptionError(problem, field="endpoint")
    if not user.is_authenticated and service_request is None:
        raise PushSubscriptionError(
            "Needed without an account: the request whose updates this browser gets.",
            field="service_request_id",
        )
    now = timezone.now()
    fields = {
        "user_id": user.pk if user.is_authenticated else None,
        "platform": Platform.WEB,
        "p256dh": p256dh,
        "auth": auth,
        "service_request": service_request,
        "last_seen_at": now,
    }
    device, _ = Device.objects.update_or_create(
        push_token=endpoint, defaults=fields, create_defaults={**fields, "created_at": now}
    )
    return device


def web_push_unsubscribe(*, endpoint: str) -> bool:
    """Forgets the browser's subscription; True if there was one. Knowing the endpoint is
    the proof of owning it (only the browser and its push service know it)."""
    deleted, _ = Device.objects.filter(platform=Platform.WEB, push_token=endpoint).delete()
    return deleted > 0


# --- Following


def service_request_unfollow(
    *, service_request: ServiceRequest, user: AbstractBaseUser | AnonymousUser
) -> int:
    """The user stops following the request (their account's follow, not e-mail ones)."""
    deleted, _ = RequestFollower.objects.filter(
        service_request=service_request, user_id=_user_id(user), email=""
    ).delete()
    return deleted


# --- Idempotent actions


@dataclass(frozen=True)
class ActionAnswer:
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


def _fingerprint(payload: dict[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def action_run_once(
    *,
    user: AbstractBaseUser | AnonymousUser,
    key: str,
    action: str,
    payload: dict[str, Any],
    run: Callable[[], ActionAnswer],
) -> ActionAnswer:
    """Runs the action once per (user, key): a retry with the same action and payload gets
    the first answer back; another action or payload under the same key is a conflict.
    Only successful answers (2xx) are kept, so a refused action may be sent again."""
    fingerprint = _fingerprint(payload)
    with transaction.atomic():
        # A retry after the first one committed finds its answer here; two at once are
        # serialised by the service's row lock on the work order (see below).
        kept = (
            ActionReplay.objects.select_for_update().filter(user_id=_user_id(user), key=key).first()
        )
        if kept is not None:
            if kept.action != action or kept.fingerprint != fingerprint:
                raise ReplayConflict(key)
            return ActionAnswer(status_code=kept.status_code, body=kept.body, replayed=True)
        answer = run()
        if not 200 <= answer.status_code < 300:
            # A concurrent retry with the key may have acted first (the service waited for its
            # row lock, then refused): its kept answer is the one to give.
            kept = ActionReplay.objects.filter(user_id=_user_id(user), key=key).first()
            if kept is not None and (kept.action, kept.fingerprint) == (action, fingerprint):
                return ActionAnswer(status_code=kept.status_code, body=kept.body, replayed=True)
        else:
            try:
                with transaction.atomic():
                    ActionReplay.objects.create(
                        user_id=_user_id(user),
                        key=key,
                        action=action,
                        fingerprint=fingerprint,
                        status_code=answer.status_code,
                        body=answer.body,
                        created_at=timezone.now(),
                    )
            except IntegrityError:
                # Another retry finished first and its answer was kept: ours is the same action.
                pass
    return answer


def client_time(value: datetime | None, *, not_before: datetime | None = None) -> datetime:
    """The moment the crew acted, as their phone says: never in the future, nor before the
    order's last change (history stays in order even when a phone's clock is wrong)."""
    now = timezone.now()
    if value is None or value > now:
        return now
    if not_before is not None and value < not_before:
        return not_before
    return value
