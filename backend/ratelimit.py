"""Rate limits and the log-in lock-out, counted in Redis (docs/reliability.md, "Rate limits").

Fixed windows: one ``INCR`` + ``EXPIRE`` per counter and hit, keyed by scope, who (client
address, account, API key) and window number. Over the limit, the caller raises DRF's
``Throttled`` (429, ``Retry-After``, the usual error shape).

Limits are settings (``RATELIMIT_*``, "count/seconds"), generous by default so benches and
the test suite are never throttled; a production site lowers them. When Redis cannot be
reached the limits let everything through (logged): a 311 platform keeps taking reports
when part of it fails.

The lock-out: ``LOGIN_LOCKOUT_FAILURES`` wrong passwords for one account from one address
lock that pair for ``LOGIN_LOCKOUT_SECONDS``; a right password during the lock is refused
too. ``LockoutModelBackend`` applies it to every log-in that passes a request to
``authenticate`` (the admin and staff console log-in); the mobile API's log-in view calls the
same functions and answers 429.
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


def hit(*, scope: str, who: str, rate: Rate) -> float | None:
    """Counts one hit; the seconds to wait when it is over the limit, else None."""
    if not settings.RATELIMIT_ENABLED:
        return None
    now = time.time()
    window = int(now // rate.seconds)
    key = f"{_prefix()}{scope}:{_digest(who)}:{window}"
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


def throttle(*, scope: str, who: str, rate: Rate) -> None:
    """Raises ``Throttled`` (429 with Retry-After) when this hit is over the limit."""
    wait = hit(scope=scope, who=who, rate=rate)
    if wait is not None:
        raise Throttled(wait=math.ceil(wait))


# --- What the views call


def intake_throttle(request: HttpRequest, *, client_key: str = "") -> None:
    """Anonymous and signed-in intake (mobile, web, Open311): per address, and per API key or
    account when there is one."""
    throttle(
        scope="intake-ip", who=client_address(request), rate=rate_setting("RATELIMIT_INTAKE_IP")
    )
    if client_key:
        throttle(scope="intake-key", who=client_key, rate=rate_setting("RATELIMIT_INTAKE_KEY"))


def chat_throttle(request: HttpRequest, *, client_key: str = "") -> None:
    """The chat endpoints: per address, and per conversation, account or API key."""
    throttle(scope="chat-ip", who=client_address(request), rate=rate_setting("RATELIMIT_CHAT_IP"))
    if client_key:
        throttle(scope="chat-key", who=client_key, rate=rate_setting("RATELIMIT_CHAT_KEY"))


def push_subscription_throttle(request: HttpRequest, *, client_key: str = "") -> None:
    """Web Push subscriptions (made and removed, anonymous too): at the intake rates, counted
    apart, per address and per account."""
    throttle(scope="push-ip", who=client_address(request), rate=rate_setting("RATELIMIT_INTAKE_IP"))
    if client_key:
        throttle(scope="push-key", who=client_key, rate=rate_setting("RATELIMIT_INTAKE_KEY"))


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
        scope="signup-ip", who=client_address(request), rate=rate_setting("RATELIMIT_LOGIN_IP")
    )


def login_throttle(request: HttpRequest, *, account: str) -> None:
    """Before checking a password: the per-address rate of attempts, then the lock-out."""
    throttle(scope="login-ip", who=client_address(request), rate=rate_setting("RATELIMIT_LOGIN_IP"))
    locked = login_locked_for(request, account=account)
    if locked is not None:
        raise Throttled(
            wait=locked, detail="Too many wrong passwords: log-in locked for this account."
        )


def login_failed(request: HttpRequest, *, account: str) -> None:
    """One more wrong password; the lock lasts LOGIN_LOCKOUT_SECONDS from the last one."""
    if not settings.RATELIMIT_ENABLED:
        return
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
