"""`POST /mcp`: the workspace's published workflows as tools of an MCP server (streamable HTTP, the official
`mcp` SDK's server side), so any MCP client (Claude Desktop, Cursor, the SDK's client) can call a Trellis
agent.

Authenticated by API token (`Authorization: Bearer trl_…`), which pins the workspace. The tools are the
workflows marked "Expose as MCP tool" that have a published version: name = the workflow's slug,
description = its description, inputSchema = its start node's input_schema. A call runs the published
version with `trigger.type = "mcp"` and answers with the output as structuredContent plus text; a run that
waits for approval answers with a message holding the run's URL. Stateless: every request is served by a
fresh SDK server session, so any web process can answer any request."""

from __future__ import annotations

import json
import logging
from typing import Any

import anyio
from django.conf import settings
from django.db import transaction

from accounts.authentication import token_lookup
from accounts.models import Membership, Role, role_at_least
from builder.models import Workflow
from runs.services import run_start
from runs.triggers.threads import in_thread
from runs.triggers.waiting import Listener
from trellis.errors import ApplicationError

log = logging.getLogger(__name__)

MCP_PATHS = ("/mcp", "/mcp/")
TOKEN_KEY = "trellis.api_token"


class McpEndpoint:
    """ASGI wrapper: serves /mcp itself and hands every other request to `app`."""

    def __init__(self, app):
        self.app = app
        self._server = None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["path"] not in MCP_PATHS:
            return await self.app(scope, receive, send)
        token = await in_thread(_token_from)(dict(scope.get("headers") or []))
        if token is None:
            return await _unauthorized(send)
        await self._serve({**scope, TOKEN_KEY: token}, receive, send)

    async def _serve(self, scope, receive, send) -> None:
        from mcp.server.streamable_http import StreamableHTTPServerTransport

        if self._server is None:
            self._server = build_server()
        server = self._server
        transport = StreamableHTTPServerTransport(mcp_session_id=None, is_json_response_enabled=True)

        async def run_server(*, task_status=anyio.TASK_STATUS_IGNORED):
            async with transport.connect() as (read, write):
                task_status.started()
                await server.run(read, write, server.create_initialization_options(), stateless=True)

        async with anyio.create_task_group() as group:
            await group.start(run_server)
            try:
                await transport.handle_request(scope, receive, send)
            finally:
                with anyio.CancelScope(shield=True):
                    await transport.terminate()
                group.cancel_scope.cancel()


def _token_from(headers: dict[bytes, bytes]):
    scheme, _, raw = headers.get(b"authorization", b"").decode(errors="replace").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token_lookup(raw.strip())


async def _unauthorized(send) -> None:
    body = json.dumps(
        {"error": {"code": "invalid_api_key", "message": "Send a Trellis API token as 'Authorization: Bearer trl_…'."}}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"www-authenticate", b'Bearer realm="trellis"'),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


# --- the tools ---------------------------------------------------------------------------------------


def build_server():
    from mcp import types
    from mcp.server.lowlevel import Server

    server = Server("trellis", instructions="Published Trellis workflows, callable as tools.")

    def token():
        return server.request_context.request.scope[TOKEN_KEY]

    @server.list_tools()
    async def list_tools() -> list[types.Tool]:
        return [types.Tool(**tool) for tool in await in_thread(exposed_tools)(token())]

    @server.call_tool(validate_input=False)
    async def call_tool(name: str, arguments: dict[str, Any]) -> types.CallToolResult:
        return await call_workflow_tool(token(), name, arguments or {})

    return server


def _exposed(token):
    return Workflow.objects.filter(
        workspace_id=token.workspace_id,
        expose_as_tool=True,
        archived_at__isnull=True,
        published_version__isnull=False,
    ).exclude(slug="")


def _input_schema(graph: dict) -> dict:
    for node in graph.get("nodes") or []:
        if node.get("type") == "start":
            schema = (node.get("config") or {}).get("input_schema")
            if isinstance(schema, dict) and schema.get("type", "object") == "object":
                return {"type": "object", **schema}
    return {"type": "object"}


def _member_role(token) -> str | None:
    return (
        Membership.objects.filter(workspace_id=token.workspace_id, user_id=token.user_id)
        .values_list("role", flat=True)
        .first()
    )


def exposed_tools(token) -> list[dict]:
    if _member_role(token) is None:
        return []
    return [
        {
            "name": wf.slug,
            "description": wf.description or wf.name,
            "inputSchema": _input_schema(wf.published_version.graph),
        }
        for wf in _exposed(token).select_related("published_version").order_by("slug")
    ]


def _start(token, name: str, arguments: dict, *, join):
    role = _member_role(token)
    if role is None or not role_at_least(role, Role.EDITOR):
        raise ApplicationError("permission_denied", "Running a workflow needs the editor role or higher.", status=403)
    workflow = _exposed(token).filter(slug=name).first()
    if workflow is None:
        raise ApplicationError("tool_not_found", f"No tool named {name!r}.", status=404)
    with transaction.atomic():
        run = run_start(
            workflow=workflow,
            version="published",
            input=arguments,
            trigger={"type": "mcp", "trigger_id": None, "headers": {}, "query": {}, "tool": name},
            by=token.user,
            caller_waits=True,  # the MCP client waits for the tool's result
        )
        join(run.pk)  # listen before the run is dispatched (on commit), so its end is never missed
    return run


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, default=str)


async def call_workflow_tool(token, name: str, arguments: dict):
    from mcp import types

    def error(message: str) -> types.CallToolResult:
        return types.CallToolResult(content=[types.TextContent(type="text", text=message)], isError=True)

    listener = await Listener.open()
    try:
        try:
            run = await in_thread(_start)(token, name, arguments, join=listener.join)
        except ApplicationError as exc:
            details = "; ".join(
                f"{d.get('field') or d.get('path') or ''}: {d.get('message', '')}".strip(": ")
                for d in exc.details or []
                if isinstance(d, dict)
            )
            return error(exc.message + (f" ({details})" if details else ""))
        outcome = await listener.wait(settings.MCP_SERVE_TIMEOUT_S)
    finally:
        await listener.close()
    url = f"{settings.PUBLIC_URL}/runs/{run.pk}"
    if outcome is None:
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=f"The run is still going; follow it at {url}")],
            structuredContent={"run_id": str(run.pk), "status": "running", "url": url},
        )
    status = outcome.get("status")
    if status == "waiting":
        return types.CallToolResult(
            content=[
                types.TextContent(type="text", text=f"The run is waiting for approval. Approve or reject it at {url}")
            ],
            structuredContent={"run_id": str(run.pk), "status": "waiting", "url": url},
        )
    if status != "succeeded":
        message = (outcome.get("error") or {}).get("message") or f"The run ended as {status}."
        return error(f"{message} (run {url})")
    output = outcome.get("output")
    structured = output if isinstance(output, dict) else {"output": output}
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=_text(output))], structuredContent=structured
    )
