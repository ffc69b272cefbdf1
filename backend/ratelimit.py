"""Rate limits and the log-in lock-out, counted in Redis (docs/reliability.md, "Rate limits").

Fixed windows: one ``INCR`` + ``EXPIRE`` per counter and hit, keyed by scope, who (client
address, account, API key, conversation) and window number. Over the limit, the caller raises
DRF's ``Throttled`` (429, ``Retry-After``, the usual error shape, its ``detail`` naming what
was limited).

Limits are settings (``RATELIMIT_*``, "count/seconds") with defaults a city can run with
(``RATELIMIT_DEFAULTS`` in backend/settings.py); the benches and the test suite raise them
through their own settings. When Redis cannot be reached the limits let everything through
(logged): a 311 platform keeps taking reports when part of it fails.

Filings: residents (anonymous or signed in) per address, signed-in residents per account too;
an Open311 partner's key and a staff account have their own, higher limit and are not counted
per address (a call centre or a partner's server files for many people from one address).

Log-ins: every attempt per address (``RATELIMIT_LOGIN_IP``); the failed ones per address
whatever the account (``RATELIMIT_LOGIN_FAILED_IP``: password spraying); and the lock-out:
``LOGIN_LOCKOUT_FAILURES`` wrong passwords for one account from one address lock that pair for
``LOGIN_LOCKOUT_SECONDS``; a right password during the lock is refused too.
``LockoutModelBackend`` applies them to every log-in that passes a request to ``authenticate``;
the mobile API's, the staff console's and the admin's log-in call the same functions
themselves and answer 429.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_lazy
from rest_framework.exceptions import Throttled

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Rate:
    count: int
    seconds: int

    @classmethod
    def parse(cls, value: str, *, name: str) -> Rate:
        """``"30/60"``: 30 hits per 60 seconds."""
        try:
            count, seconds = (int(part) for part in value.split("/"))
        except ValueError as exc:
            raise ImproperlyConfigured(f"{name} must read count/seconds, got {value!r}") from exc
        if count < 1 or seconds < 1:
            raise ImproperlyConfigured(f"{name} needs a count and seconds of at least 1")
        return cls(count, seconds)


def rate_setting(name: str) -> Rate:
    return Rate.parse(str(getattr(settings, name)), name=name)


@lru_cache(maxsize=4)
def _client(url: str) -> redis.Redis:
    # Short timeouts: a slow or absent Redis must not hold up intake.
    return redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)


def _prefix() -> str:
    # The database name keeps a test run's counters (test_<name>) apart from the site's and
    # from other checkouts' test runs sharing the Redis.
    return f"city311:rl:{settings.DATABASES['default']['NAME']}:"


def _digest(value: str) -> str:
    """Keys never hold an e-mail address or an API key in clear."""
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def client_address(request: HttpRequest) -> str:
    """The peer's address. Behind a proxy, uvicorn's --proxy-headers (FORWARDED_ALLOW_IPS)
    puts the client's own address here; an X-Forwarded-For of anyone else is not trusted."""
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _key(scope: str, who: str, window: int) -> str:
    return f"{_prefix()}{scope}:{_digest(who)}:{window}"


def hit(*, scope: str, who: str, rate: Rate) -> float | None:
    """Counts one hit; the seconds to wait when it is over the limit, else None."""
    if not settings.RATELIMIT_ENABLED:
        return None
    now = time.time()
    window = int(now // rate.seconds)
    key = _key(scope, who, window)
    try:
        pipe = _client(settings.RATELIMIT_REDIS_URL).pipeline()
        pipe.incr(key)
        pipe.expire(key, rate.seconds + 1)
        count = int(pipe.execute()[0])
    except redis.RedisError as exc:
        logger.warning("rate limit %s not counted, Redis unavailable: %s", scope, exc)
        return None
    if count <= rate.count:
        return None
    return max(1.0, (window + 1) * rate.seconds - now)


def spent(*, scope: str, who: str, rate: Rate) -> float | None:
    """Without counting: the seconds to wait when ``rate.count`` hits were already counted
    in this window, else None."""
    if not settings.RATELIMIT_ENABLED:
        return None
    now = time.time()
    window = int(now // rate.seconds)
    try:
        count = int(_client(settings.RATELIMIT_REDIS_URL).get(_key(scope, who, window)) or 0)
    except redis.RedisError as exc:
        logger.warning("rate limit %s not read, Redis unavailable: %s", scope, exc)
        return None
    if count < rate.count:
        return None
    return max(1.0, (window + 1) * rate.seconds - now)


def throttle(*, scope: str, who: str, rate: Rate, detail: str = "") -> None:
    """Raises ``Throttled`` (429 with Retry-After) when this hit is over the limit; its
    ``detail`` says what was limited."""
    wait = hit(scope=scope, who=who, rate=rate)
    if wait is not None:
        raise Throttled(wait=math.ceil(wait), detail=detail or None)


# --- What the views call


def intake_throttle(request: HttpRequest, *, client_key: str = "", partner: bool = False) -> None:
    """Filings (mobile, web, Open311). A partner's API key (``partner``) or a staff account:
    per key or account at ``RATELIMIT_INTAKE_PARTNER``, not per address. Anyone else: per
    address, and per account when signed in."""
    user = getattr(request, "user", None)
    if partner or (user is not None and user.is_authenticated and user.is_staff):
        throttle(
            scope="intake-partner",
            who=client_key or f"user:{user.pk if user is not None else ''}",
            rate=rate_setting("RATELIMIT_INTAKE_PARTNER"),
            detail=gettext("Too many reports from this API key or staff account."),
        )
        return
    _address_then_key("intake", address=client_address(request), client_key=client_key)


# The limits counted per address (``<scope>-ip``) and per key (``<scope>-key``): their
# settings and what the 429 says of each.
_PER_ADDRESS_AND_KEY = {
    "intake": (
        ("RATELIMIT_INTAKE_IP", gettext_lazy("Too many reports from this address.")),
        ("RATELIMIT_INTAKE_KEY", gettext_lazy("Too many reports from this account.")),
    ),
    "chat": (
        ("RATELIMIT_CHAT_IP", gettext_lazy("Too many chat messages from this address.")),
        ("RATELIMIT_CHAT_KEY", gettext_lazy("Too many messages in this conversation.")),
    ),
    "push": (
        ("RATELIMIT_INTAKE_IP", gettext_lazy("Too many push subscriptions from this address.")),
        ("RATELIMIT_INTAKE_KEY", gettext_lazy("Too many push subscriptions from this account.")),
    ),
}


def _address_then_key(scope: str, *, address: str, client_key: str) -> None:
    """One hit of ``scope`` per address, then per key when there is one."""
    (address_rate, address_detail), (key_rate, key_detail) = _PER_ADDRESS_AND_KEY[scope]
    throttle(
        scope=f"{scope}-ip",
        who=address,
        rate=rate_setting(address_rate),
        detail=str(address_detail),
    )
    if client_key:
        throttle(
            scope=f"{scope}-key",
            who=client_key,
            rate=rate_setting(key_rate),
            detail=str(key_detail),
        )


def chat_message_throttle(*, address: str, client_key: str = "") -> None:
    """One chat message (HTTP and websocket): per address, and per conversation or account."""
    _address_then_key("chat", address=address, client_key=client_key)


def chat_throttle(request: HttpRequest, *, client_key: str = "") -> None:
    """The chat endpoints: per address, and per conversation, account or API key."""
    chat_message_throttle(address=client_address(request), client_key=client_key)


def gateway_throttle(*, sender_key: str) -> None:
    """An SMS or WhatsApp message, per sender's number (the gateways all call from their own
    few addresses): the rate of one conversation."""
    throttle(
        scope="chat-key",
        who=f"gateway:{sender_key}",
        rate=rate_setting("RATELIMIT_CHAT_KEY"),
        detail=gettext("Too many messages from this number."),
    )


def push_subscription_throttle(request: HttpRequest, *, client_key: str = "") -> None:
    """Web Push subscriptions (made and removed, anonymous too): at the intake rates, counted
    apart, per address and per account."""
    _address_then_key("push", address=client_address(request), client_key=client_key)


def _lock_key(request: HttpRequest, account: str) -> str:
    who = _digest(f"{account.strip().lower()}|{client_address(request)}")
    return f"{_prefix()}login-fail:{who}"


def login_locked_for(request: HttpRequest, *, account: str) -> int | None:
    """Seconds left of the lock of this account from this address, or None."""
    if not settings.RATELIMIT_ENABLED:
        return None
    try:
        client = _client(settings.RATELIMIT_REDIS_URL)
        failures = int(client.get(_lock_key(request, account)) or 0)
        if failures < settings.LOGIN_LOCKOUT_FAILURES:
            return None
        ttl = int(client.ttl(_lock_key(request, account)))
    except redis.RedisError as exc:
        logger.warning("log-in lock-out not checked, Redis unavailable: %s", exc)
        return None
    return max(1, ttl)


def signup_throttle(request: HttpRequest) -> None:
    """New accounts per address count against the log-in rate: both guess at accounts."""
    throttle(
        scope="signup-ip",
        who=client_address(request),
        rate=rate_setting("RATELIMIT_LOGIN_IP"),
        detail=gettext("Too many new accounts from this address."),
    )


def login_throttle(request: HttpRequest, *, account: str) -> None:
    """Before checking a password: the per-address rate of attempts, the failed log-ins from
    this address whatever the account, then the lock-out of this account."""
    address = client_address(request)
    throttle(
        scope="login-ip",
        who=address,
        rate=rate_setting("RATELIMIT_LOGIN_IP"),
        detail=gettext("Too many log-in attempts from this address."),
    )
    wait = spent(scope="login-fail-ip", who=address, rate=rate_setting("RATELIMIT_LOGIN_FAILED_IP"))
    if wait is not None:
        raise Throttled(
            wait=math.ceil(wait),
            detail=gettext("Too many failed log-ins from this address, whatever the account."),
        )
    locked = login_locked_for(request, account=account)
    if locked is not None:
        raise Throttled(
            wait=locked,
            detail=gettext("Too many wrong passwords: log-in locked for this account."),
        )


def login_failed(request: HttpRequest, *, account: str) -> None:
    """One more wrong password: counted for the address whatever the account, and for the
    pair's lock, which lasts LOGIN_LOCKOUT_SECONDS from the last one."""
    if not settings.RATELIMIT_ENABLED:
        return
    hit(
        scope="login-fail-ip",
        who=client_address(request),
        rate=rate_setting("RATELIMIT_LOGIN_FAILED_IP"),
    )
    key = _lock_key(request, account)
    try:
        pipe = _client(settings.RATELIMIT_REDIS_URL).pipeline()
        pipe.incr(key)
        pipe.expire(key, settings.LOGIN_LOCKOUT_SECONDS)
        pipe.execute()
    except redis.RedisError as exc:
        logger.warning("log-in failure not counted, Redis unavailable: %s", exc)


def login_succeeded(request: HttpRequest, *, account: str) -> None:
    if not settings.RATELIMIT_ENABLED:
        return
    try:
        _client(settings.RATELIMIT_REDIS_URL).delete(_lock_key(request, account))
    except redis.RedisError as exc:
        logger.warning("log-in failures not cleared, Redis unavailable: %s", exc)


def counters_clear() -> int:
    """Deletes every counter of this database's prefix (tests start from zero); 0 when Redis
    cannot be reached (there is nothing to clear that could be counted)."""
    try:
        client = _client(settings.RATELIMIT_REDIS_URL)
        keys = list(client.scan_iter(match=f"{_prefix()}*", count=1000))
        return int(client.delete(*keys)) if keys else 0
    except redis.RedisError as exc:
        logger.warning("rate-limit counters not cleared, Redis unavailable: %s", exc)
        return 0


class LockoutModelBackend(ModelBackend):
    """Django's model backend with the lock-out, for log-ins that pass their request (the
    admin's and staff console's form). A locked pair is refused like a wrong password."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if request is None or username is None:
            return super().authenticate(request, username=username, password=password, **kwargs)
        try:
            login_throttle(request, account=username)
        except Throttled as exc:
            # Stops authenticate() from trying other backends.
            raise PermissionDenied(str(exc.detail)) from exc
        user = super().authenticate(request, username=username, password=password, **kwargs)
        if user is None:
            login_failed(request, account=username)
        else:
            login_succeeded(request, account=username)
        return user
