"""Websocket routes (served through ``backend/asgi.py``): a request's public status, and the
signed-in crew's team queues. Protocol: docs/realtime.md."""

from typing import Any

from django.urls import path

from analytics.consumers import AnalyticsLiveConsumer
from backend.service_requests.consumers import RequestStatusConsumer
from chatbot.consumers import ChatConsumer
from workorders.consumers import CrewQueueConsumer

websocket_urlpatterns: list[Any] = [
    path("ws/requests/<str:public_id>/", RequestStatusConsumer.as_asgi()),
    path("ws/crew/", CrewQueueConsumer.as_asgi()),
    path("ws/analytics/", AnalyticsLiveConsumer.as_asgi()),
    path("ws/chat/", ChatConsumer.as_asgi()),
]
