"""ASGI entry point: HTTP through Django, websockets through Channels."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backend.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from backend.routing import websocket_urlpatterns  # noqa: E402
from backend.websocket_auth import (  # noqa: E402
    HandshakeValidator,
    TokenAuthMiddleware,
    allowed_hosts_origin_validator,
)

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Malformed handshakes (NUL, not UTF-8, an overlong token) are refused first.
        "websocket": HandshakeValidator(
            allowed_hosts_origin_validator(
                AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns)))
            )
        ),
    }
)
