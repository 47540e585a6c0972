"""The `mcp` node: calls one tool of a workspace MCP server with arguments computed by expressions.

Output: the tool's structured content when it has some, else its text. A tool error result fails the step
(code `tool_error`); a timeout or a failed connection is retryable. The helpers here are shared with the
agent's MCP tools (runs/executors/agent_tools.py)."""

from __future__ import annotations

from typing import Any

from django.conf import settings

from accounts.selectors import mcp_server_by_name
from runs.executors.base import NodeContext, NodeError, NodeExecutor, NodeResult, register
from trellis import mcp_client

ERROR_TEXT_CHARS = 2000


def load_server(ctx: NodeContext, name: str) -> Any:
    """The workspace's MCP server row named `name`, or a NodeError."""
    # Imported here so that executors stay importable without the accounts app being ready.

    server = mcp_server_by_name(workspace_id=ctx.workspace_id, name=name) if name else None
    if server is None:
        raise NodeError(f"No MCP server named {name!r} in this workspace.", code="mcp_server_not_found")
    return server


def check_allowed(server: Any, tool: str) -> None:
    if server.allowed_tools is not None and tool not in server.allowed_tools:
        raise NodeError(f"Tool {tool!r} is not allowed on MCP server {server.name!r}.", code="tool_not_allowed")


def server_headers(ctx: NodeContext, server: Any) -> dict[str, str]:
    """Headers with their secrets resolved through the engine, which redacts the values from the run."""
    headers = {}
    for key, ref in (server.headers or {}).items():
        try:
            headers[key] = ctx.resolve_secret(ref["secret"])
        except NodeError:
            raise
        except Exception as exc:
            message = getattr(exc, "message", exc)
            raise NodeError(f"Secret {ref['secret']!r} could not be read: {message}", code="secret_error") from None
    return headers


async def call(ctx: NodeContext, server: Any, tool: str, arguments: dict) -> mcp_client.ToolResult:
    """One tool call through the SSRF-guarded client on the I/O loop, within the step's deadline; failures become
    NodeError. Cancelling the task (a run cancel, the step's timeout) ends the call."""
    headers = await ctx.blocking(server_headers, ctx, server)  # secrets are read from the database
    try:
        return await mcp_client.call_tool_async(
            url=server.url,
            headers=headers,
            tool=tool,
            arguments=arguments,
            timeout_s=ctx.remaining_s(settings.MCP_TIMEOUT_S),
        )
    except mcp_client.McpError as exc:
        raise NodeError(
            f"MCP server {server.name!r}, tool {tool!r}: {exc.message}", code=exc.code, retryable=exc.retryable
        ) from None


@register
class McpExecutor(NodeExecutor):
    type = "mcp"
    is_async = True  # waits on the MCP server: a task on the I/O loop, no thread held

    async def run_async(self, ctx: NodeContext) -> NodeResult:
        cfg = ctx.config
        tool = str(cfg.get("tool") or "")
        if not tool:
            raise NodeError("The node names no tool.")
        server = await ctx.blocking(load_server, ctx, str(cfg.get("server") or ""))
        check_allowed(server, tool)
        arguments = {str(key): ctx.evaluate(expr) for key, expr in (cfg.get("arguments") or {}).items()}
        result = await call(ctx, server, tool, arguments)
        if result.is_error:
            raise NodeError(
                f"Tool {tool!r} returned an error: {result.text[:ERROR_TEXT_CHARS]}",
                code="tool_error",
                details={"structured": result.structured} if result.structured is not None else None,
            )
        return NodeResult(output=result.value)
