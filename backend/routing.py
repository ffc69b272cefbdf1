"""Websocket routes (served through ``backend/asgi.py``): a request's public status, and the
signed-in crew's team queues. Protocol: docs/realtime.md."""

from typing import Any

from django.urls import path

from backend.service_requests.consumers import RequestStatusConsumer
from workorders.consumers import CrewQueueConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/requests/<str:public_id>/", RequestStatusConsumer.as_asgi()),
    path("ws/crew/", CrewQueueConsumer.as_asgi()),
]
