"""A real MCP server for tests, built with the `mcp` SDK's FastMCP and served by uvicorn on loopback in a
thread. Its tools cover the cases the client must handle: structured and text results, an error result,
a tool that hangs, one that answers with a huge result, and one that reports the Authorization header it
received. `/garbage/mcp` answers every request with an HTML page, like a misconfigured URL would."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import uvicorn
from mcp.server.fastmcp import Context, FastMCP
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Mount, Route

HUGE_CHARS = 3 * 1024 * 1024


def build_mcp() -> FastMCP:
    mcp = FastMCP("trellis-test", stateless_http=True, json_response=True, streamable_http_path="/")

    @mcp.tool(description="Adds two integers.")
    def add(a: int, b: int) -> dict[str, int]:
        return {"sum": a + b}

    @mcp.tool(description="Repeats the text back.")
    def echo(text: str) -> str:
        return f"echo: {text}"

    @mcp.tool(description="Always fails.")
    def explode(reason: str = "boom") -> str:
        raise ValueError(f"exploded: {reason}")

    @mcp.tool(description="Never answers.")
    async def hang() -> str:
        await asyncio.sleep(3600)
        return "late"

    @mcp.tool(description="Answers with megabytes of text.")
    def huge() -> str:
        return "x" * HUGE_CHARS

    @mcp.tool(description="Says which Authorization header the request carried.")
    def whoami(ctx: Context) -> str:
        request = ctx.request_context.request
        return f"auth={request.headers.get('authorization', '') if request else ''}"

    return mcp


async def _garbage(request):
    return HTMLResponse("<html><body>Welcome to nginx!</body></html>")


async def _not_json_rpc(request):
    return JSONResponse({"hello": "world"})


async def _unauthorized(request):
    return HTMLResponse("no", status_code=401)


class McpTestServer:
    """`url` is the MCP endpoint; `garbage_url` answers HTML to everything."""

    def __init__(self):
        self.mcp = build_mcp()
        mcp_app = self.mcp.streamable_http_app()
        app = Starlette(
            routes=[
                Route("/garbage/mcp", _garbage, methods=["GET", "POST", "DELETE"]),
                Route("/json/mcp", _not_json_rpc, methods=["GET", "POST", "DELETE"]),
                Route("/locked/mcp", _unauthorized, methods=["GET", "POST", "DELETE"]),
                Mount("/mcp", app=mcp_app),
            ],
            lifespan=lambda app: self.mcp.session_manager.run(),
        )
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.02)
        self.url = f"http://127.0.0.1:{self.port}/mcp/"
        self.garbage_url = f"http://127.0.0.1:{self.port}/garbage/mcp"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)
