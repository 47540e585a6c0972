"""WebSocket routes for knowledge bases."""

from django.urls import path

from knowledge.consumers import KnowledgeProgressConsumer

websocket_urlpatterns: list = [
    path("ws/knowledge-bases/<str:kb_id>/", KnowledgeProgressConsumer.as_asgi()),
]
