"""One ASGI app for HTTP (Django) and WebSockets (Channels), served by uvicorn."""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trellis.settings")

from django.core.asgi import get_asgi_application  # noqa: E402

django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from accounts.websocket import websocket_application  # noqa: E402
from runs.triggers.asgi import OpenAICompatEndpoint, WebhookBodyLimit, WebhookEndpoint  # noqa: E402
from runs.triggers.mcp_endpoint import McpEndpoint  # noqa: E402
from trellis.heap import settle as settle_heap  # noqa: E402
from trellis.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Oversized webhook (and /mcp) bodies are refused (413) before anything reads them; webhooks are
        # then answered without Django's request handler, /mcp by the MCP SDK's streamable HTTP server
        # (published workflows as tools), everything else goes through Django.
        "http": WebhookBodyLimit(McpEndpoint(OpenAICompatEndpoint(WebhookEndpoint(django_asgi_app)))),
        # Origin first (a foreign page can't ride the user's cookie), then who is calling.
        "websocket": websocket_application(URLRouter(websocket_urlpatterns)),
    }
)

settle_heap()  # what is loaded by now lives as long as the process (trellis/heap.py)
