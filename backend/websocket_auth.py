"""Websocket authentication for the app: a DRF token, next to the web's session.

The web's websockets carry the session cookie, which ``AuthMiddlewareStack`` (outermost in
``backend/asgi.py``) reads. The app has no cookie: it sends its DRF token the way it does on
HTTP, as an ``Authorization: Token <key>`` header on the websocket handshake. Clients that
cannot set handshake headers may pass ``?token=<key>`` instead (less good: query strings end
up in access logs). A token given either way decides the user: a wrong one is anonymous,
even with a session cookie.

The Origin check (against ``ALLOWED_HOSTS``) guards the session cookie from other sites'
pages. Browsers always send an Origin on a websocket handshake; the app's websocket clients
(OkHttp, URLSession) send none, and a client that is not a browser can write any Origin it
likes anyway. So a handshake without an Origin passes, one with a foreign Origin does not.

A handshake that no client of city311 sends is refused before anything reads it, the way
Channels refuses a foreign Origin (closed before it is accepted: the ASGI server answers
403): a NUL character (which PostgreSQL can neither store nor compare in text) or bytes that
are not UTF-8 in the path, the query string or the credentials, or a token longer than any
key. The HTTP side answers the same input 400 or 404 (``backend/middleware.py``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, unquote_to_bytes

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator, WebsocketDenier
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.authtoken.models import Token

TOKEN_KEYWORD = b"token"
TOKEN_LENGTH = Token._meta.get_field("key").max_length or 40
CREDENTIAL_HEADERS = (b"authorization", b"cookie")


def token_from_scope(scope: dict[str, Any]) -> str | None:
    """The token of an ``Authorization: Token <key>`` header, else of the ``token`` query
    parameter; ``""`` for an empty one (nobody), None when there is none (other schemes, such
    as a proxy's Basic credentials, are left alone: the session decides)."""
    for name, value in scope.get("headers", []):
        if name.lower() == b"authorization":
            keyword, _, key = value.strip().partition(b" ")
            if keyword.lower() == TOKEN_KEYWORD:
                return key.strip().decode("latin-1")
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    values = query.get("token")
    return values[0] if values else None


@database_sync_to_async
def _token_user(key: str) -> Any:
    token = Token.objects.select_related("user").filter(key=key).first()
    if token is None or not token.user.is_active:
        return AnonymousUser()
    return token.user


class TokenAuthMiddleware(BaseMiddleware):
    """Sets ``scope["user"]`` from a DRF token when the handshake carries one."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        key = token_from_scope(scope)
        if key is not None:
            scope = dict(scope, user=await _token_user(key) if key else AnonymousUser())
        return await super().__call__(scope, receive, send)


class BrowserOriginValidator(OriginValidator):
    """Channels' ``OriginValidator``, letting through handshakes without an Origin."""

    def valid_origin(self, parsed_origin: Any) -> bool:
        if parsed_origin is None:
            return True
        return bool(super().valid_origin(parsed_origin))


def allowed_hosts_origin_validator(application: Any) -> BrowserOriginValidator:
    """Like Channels' ``AllowedHostsOriginValidator``, with ``BrowserOriginValidator``."""
    allowed_hosts = settings.ALLOWED_HOSTS
    if settings.DEBUG and not allowed_hosts:
        allowed_hosts = ["localhost", "127.0.0.1", "[::1]"]
    return BrowserOriginValidator(application, allowed_hosts)


def _utf8(value: bytes) -> bool:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _clean_text(raw: bytes) -> bool:
    """Whether percent-decoded ``raw`` is UTF-8 without a NUL character."""
    decoded = unquote_to_bytes(raw)
    return b"\x00" not in decoded and _utf8(decoded)


def handshake_is_clean(scope: dict[str, Any]) -> bool:
    """Whether a websocket handshake's path, query string, credentials and token are text
    city311 can read (see the module's docstring)."""
    path = scope.get("path", "")
    # The server decodes the path; bytes that were not UTF-8 come out as U+FFFD.
    if "\x00" in path or "\ufffd" in path:
        return False
    raw_path = scope.get("raw_path")
    if raw_path is not None and not _clean_text(raw_path):
        return False
    if not _clean_text(scope.get("query_string", b"")):
        return False
    for name, value in scope.get("headers", []):
        if name.lower() in CREDENTIAL_HEADERS and b"\x00" in value:
            return False
    key = token_from_scope(scope)
    return key is None or ("\x00" not in key and len(key) <= TOKEN_LENGTH)


class HandshakeValidator:
    """Refuses a handshake that is not ``handshake_is_clean``, as Channels' ``OriginValidator``
    refuses a foreign Origin; passes the others to ``application``."""

    def __init__(self, application: Any) -> None:
        self.application = application

    async def __call__(self, scope: Any, receive: Any, send: Any) -> Any:
        if scope["type"] == "websocket" and not handshake_is_clean(scope):
            return await WebsocketDenier()(scope, receive, send)
        return await self.application(scope, receive, send)
