"""WebSocket routes. Each app contributes its own `websocket_urlpatterns`."""

from knowledge.routing import websocket_urlpatterns as knowledge_ws
from runs.routing import websocket_urlpatterns as runs_ws

websocket_urlpatterns = [*runs_ws, *knowledge_ws]
