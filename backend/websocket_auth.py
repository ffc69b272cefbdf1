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
likes anyway. So a handshake without an Origin passes, one with a foreign Origin does not."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.middleware import BaseMiddleware
from channels.security.websocket import OriginValidator
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from rest_framework.authtoken.models import Token

TOKEN_KEYWORD = b"token"


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
