"""WebSocket routes for runs."""

from django.urls import path

from runs.consumers import RunEventsConsumer

websocket_urlpatterns: list = [
    path("ws/runs/<str:run_id>/", RunEventsConsumer.as_asgi()),
]
