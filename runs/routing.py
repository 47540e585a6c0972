"""WebSocket routes for runs (filled in by the runs app)."""

websocket_urlpatterns: list = []
