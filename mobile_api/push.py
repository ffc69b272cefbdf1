"""Push messages to phones and browsers.

Phones (``ios``, ``android``) go through the backend named by the ``MOBILE_PUSH_BACKEND``
setting (a dotted path): the console backend (development, tests) logs each message; a
production backend (APNs, FCM...) implements the same one method.

Browsers (``web``) always go through Web Push (``WebPushBackend``, on ``pywebpush``): the
payload is encrypted to the subscription's keys (RFC 8291) and signed for the push service
with the site's VAPID key (RFC 8292). Only endpoints on ``WEB_PUSH_ALLOWED_HOSTS`` are ever
contacted, over verified HTTPS, without following redirects. A push service answering 404 or
410 says the subscription is gone: the device is deleted, which is not an error. 429 and 5xx
(or no answer) raise ``PushServiceBusy``, an ``OSError``, so the status-message task retries
(its sent marker stays unsent). ADR 0017.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.utils.module_loading import import_string
from py_vapid import Vapid
from pywebpush import WebPushException, webpush

from mobile_api.models import Device, Platform

logger = logging.getLogger(__name__)

# Seconds to wait for a push service's answer.
WEB_PUSH_TIMEOUT_S = 10
ENDPOINT_MAX = 2048
P256DH_BYTES = 65  # an uncompressed P-256 point: 0x04, x, y
AUTH_BYTES = 16


@dataclass(frozen=True)
class PushMessage:
    title: str
    body: str
    data: dict[str, Any] = field(default_factory=dict)
    # The page a tap on the notification opens (a path of this site), and the tag under
    # which a newer message replaces an older one on the screen.
    url: str = ""
    tag: str = ""


class PushBackend(Protocol):
    def send(self, *, platform: str, push_token: str, message: PushMessage) -> None: ...


class ConsolePushBackend:
    """Writes the message to the log instead of sending it."""

    def send(self, *, platform: str, push_token: str, message: PushMessage) -> None:
        logger.info(
            "push to %s %s…: %s — %s %s",
            platform,
            push_token[:8],
            message.title,
            message.body,
            message.data,
        )


@lru_cache(maxsize=4)
def _backend(path: str) -> PushBackend:
    backend: PushBackend = import_string(path)()
    return backend


def push_backend_get() -> PushBackend:
    return _backend(settings.MOBILE_PUSH_BACKEND)


# --- Web Push: keys, endpoints


def b64url_decode(value: str) -> bytes | None:
    """The bytes of a base64url text (padding optional), or None if it is not one."""
    if not re.fullmatch(r"[A-Za-z0-9_-]+={0,2}", value):
        return None
    bare = value.rstrip("=")
    try:
        return base64.urlsafe_b64decode(bare + "=" * (-len(bare) % 4))
    except ValueError:
        return None


def b64url_encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def p256dh_problem(value: str) -> str | None:
    """Why ``value`` is not a browser's P-256 public key (65-byte point, base64url), or None."""
    raw = b64url_decode(value)
    if raw is None or len(raw) != P256DH_BYTES or raw[0] != 4:
        return "Must be the subscription's P-256 public key: 65 bytes, base64url."
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    except ValueError:
        return "Is not a point of the P-256 curve."
    return None


def auth_problem(value: str) -> str | None:
    """Why ``value`` is not a subscription's authentication secret (16 bytes), or None."""
    raw = b64url_decode(value)
    if raw is None or len(raw) != AUTH_BYTES:
        return "Must be the subscription's authentication secret: 16 bytes, base64url."
    return None


# Characters a URL may hold (RFC 3986): no spaces, controls, backslashes or quotes, so every
# URL parser reads the same host as ours.
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _entry(entry: str) -> tuple[str, int]:
    """An allowed-hosts entry as (host, port): "host", "*.domain", "host:port", "[v6]:port"."""
    entry = entry.strip().lower()
    if entry.startswith("["):
        host, _, rest = entry[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = entry.partition(":")
    return host, int(port) if port.isdigit() else 443


def host_allowed(*, host: str, port: int, allowed: list[str]) -> bool:
    """True if an entry names the host (a leading "*." matches its subdomains, never an IP
    address) and the port (443 unless the entry names another)."""
    for entry in allowed:
        entry_host, entry_port = _entry(entry)
        if entry_port != port or not entry_host:
            continue
        if entry_host.startswith("*."):
            suffix = entry_host[1:]
            if host.endswith(suffix) and len(host) > len(suffix) and not _is_ip(host):
                return True
        elif host == entry_host:
            return True
    return False


def web_push_endpoint_problem(endpoint: str) -> str | None:
    """Why the site would not send to this endpoint, or None: https only, on a host (and
    port) of ``WEB_PUSH_ALLOWED_HOSTS``, without user name, password or fragment."""
    if len(endpoint) > ENDPOINT_MAX:
        return f"Must be a URL of at most {ENDPOINT_MAX} characters."
    if not _URL_CHARS.fullmatch(endpoint):
        return "Has characters a URL cannot hold (spaces, backslashes, quotes...)."
    try:
        parts = urlsplit(endpoint)
        port = parts.port
    except ValueError:
        return "Is not a valid URL."
    if parts.scheme != "https":
        return "Must be an https:// URL."
    if "@" in parts.netloc:
        return "Must not carry a user name or password."
    if parts.fragment or "#" in endpoint:
        return "Must not have a fragment."
    host = parts.hostname or ""
    if not host or not host_allowed(
        host=host, port=port or 443, allowed=list(settings.WEB_PUSH_ALLOWED_HOSTS)
    ):
        return "Is not on a push service this site sends to."
    return None


def vapid_keys_generate() -> tuple[str, str]:
    """A new VAPID pair as (private, public): base64url of the private key's 32 bytes and of
    the public key's uncompressed point (the browser's ``applicationServerKey``)."""
    private = ec.generate_private_key(ec.SECP256R1())
    raw = private.private_numbers().private_value.to_bytes(32, "big")
    point = private.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url_encode(raw), b64url_encode(point)


@lru_cache(maxsize=4)
def _vapid(private_key: str) -> Vapid:
    return Vapid.from_string(private_key=private_key)


def vapid_public_key() -> str:
    """The public key browsers subscribe with; empty when Web Push is not configured. Derived
    from the private key when only that is set."""
    private = settings.WEB_PUSH_VAPID_PRIVATE_KEY
    if not private:
        return ""
    if settings.WEB_PUSH_VAPID_PUBLIC_KEY:
        return str(settings.WEB_PUSH_VAPID_PUBLIC_KEY)
    point = _vapid(private).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return b64url_encode(point)


# --- Web Push: sending


@dataclass(frozen=True)
class WebPushSubscription:
    endpoint: str
    p256dh: str
    auth: str


class SubscriptionGone(Exception):
    """The push service no longer knows the subscription (404 or 410)."""


class PushServiceBusy(OSError):
    """The push service refused for now (429, 5xx) or did not answer: try again later. An
    ``OSError``, so the status-message task's retry covers it."""


class _PushServiceSession(requests.Session):
    """Never follows a redirect (only the allowed host is ever contacted) and always checks
    the certificate, against ``WEB_PUSH_CA_BUNDLE`` when set."""

    def request(
        self, method: str, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:
        kwargs["allow_redirects"] = False
        kwargs["verify"] = settings.WEB_PUSH_CA_BUNDLE or True
        return super().request(method, url, *args, **kwargs)


def web_push_payload(message: PushMessage) -> dict[str, str]:
    """What the browser's service worker shows (static/web/push-sw.js)."""
    return {"title": message.title, "body": message.body, "url": message.url, "tag": message.tag}


class WebPushBackend:
    """Sends to a browser's push service with ``pywebpush``."""

    def __init__(self) -> None:
        self.session = _PushServiceSession()

    def send(self, *, subscription: WebPushSubscription, message: PushMessage) -> None:
        private_key = settings.WEB_PUSH_VAPID_PRIVATE_KEY
        if not private_key:
            logger.warning("web push not sent: WEB_PUSH_VAPID_PRIVATE_KEY is not set")
            return
        problem = (
            web_push_endpoint_problem(subscription.endpoint)
            or p256dh_problem(subscription.p256dh)
            or auth_problem(subscription.auth)
        )
        if problem is not None:
            # WEB_PUSH_ALLOWED_HOSTS changed since it was stored, or a "web" device was
            # registered through /mobile/v1/devices, without keys.
            logger.warning("web push not sent to %s: %s", _origin(subscription.endpoint), problem)
            return
        try:
            webpush(
                subscription_info={
                    "endpoint": subscription.endpoint,
                    "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
                },
                data=json.dumps(web_push_payload(message)),
                vapid_private_key=_vapid(private_key),
                vapid_claims={"sub": settings.WEB_PUSH_SUBJECT},
                ttl=settings.WEB_PUSH_TTL,
                timeout=WEB_PUSH_TIMEOUT_S,
                requests_session=self.session,
            )
        except WebPushException as exc:
            status = exc.status_code or 0
            if status in (404, 410):
                raise SubscriptionGone(subscription.endpoint) from exc
            if status == 429 or status >= 500:
                raise PushServiceBusy(
                    f"push service {_origin(subscription.endpoint)} answered {status}"
                ) from exc
            # Any other refusal (400, 401, 403, 413, a redirect; or no request made at all)
            # would be refused again.
            logger.error("web push refused by %s: %s", _origin(subscription.endpoint), exc.message)
        except requests.RequestException as exc:
            raise PushServiceBusy(f"push service {_origin(subscription.endpoint)}: {exc}") from exc


def _origin(endpoint: str) -> str:
    """For logs: the push service, not the subscription (the endpoint's path is a secret)."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


@lru_cache(maxsize=1)
def web_push_backend_get() -> WebPushBackend:
    return WebPushBackend()


# --- Routing by platform


@dataclass(frozen=True)
class PushTarget:
    device_id: int
    platform: str
    push_token: str
    p256dh: str = ""
    auth: str = ""


def push_to_device(*, target: PushTarget, message: PushMessage) -> None:
    """Sends one message to one device: a browser by Web Push whatever ``MOBILE_PUSH_BACKEND``
    says, a phone through that backend. A browser subscription whose push service says it is
    gone is deleted here (not an error); ``PushServiceBusy`` passes to the caller."""
    if target.platform != Platform.WEB:
        push_backend_get().send(
            platform=target.platform, push_token=target.push_token, message=message
        )
        return
    try:
        web_push_backend_get().send(
            subscription=WebPushSubscription(target.push_token, target.p256dh, target.auth),
            message=message,
        )
    except SubscriptionGone:
        Device.objects.filter(pk=target.device_id, push_token=target.push_token).delete()
        logger.info("web push subscription %s is gone: deleted", target.device_id)


def push_deliver(*, devices: list[list[str]], message: dict[str, Any]) -> None:
    """Sends ``message`` (a ``PushMessage`` as a dict) to each ``[platform, push_token]``:
    the outbox's call for pushes queued by ``mobile_api.services.push_send``. Best effort,
    without sent markers: a busy push service is logged, not retried (a retry would repeat
    the message on the devices that had it)."""
    push = PushMessage(**message)
    for platform, push_token in devices:
        target = PushTarget(device_id=0, platform=platform, push_token=push_token)
        if platform == Platform.WEB:
            device = Device.objects.filter(push_token=push_token, platform=platform).first()
            if device is None:
                continue
            target = PushTarget(device.pk, platform, push_token, device.p256dh, device.auth)
        try:
            push_to_device(target=target, message=push)
        except PushServiceBusy as exc:
            logger.warning("push not delivered: %s", exc)
