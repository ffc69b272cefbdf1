"""Websocket routes. The front-doors issue adds /ws/requests/<id>/ and /ws/crew/."""

from typing import Any

websocket_urlpatterns: list[Any] = []
