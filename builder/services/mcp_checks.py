"""Validation of MCP references: the server must exist in the workspace, and when its tool list has been
fetched, the tool must be on it and the node's arguments must fit the tool's input schema (names only:
the values are expressions, known at run time)."""

from __future__ import annotations

from collections.abc import Callable

from accounts.models import McpServer


def check_mcp_references(
    *, workspace_id, nodes: list[tuple[str, dict]], agent_tools: list[tuple[str, str, dict]], add: Callable
) -> None:
    """`nodes`: (node id, mcp node config); `agent_tools`: (node id, field, agent tool config)."""
    if workspace_id is None or not (nodes or agent_tools):
        return

    servers = {s.name: s for s in McpServer.objects.filter(workspace_id=workspace_id)}
    for node_id, field, tool in agent_tools:
        name = tool.get("server")
        if isinstance(name, str) and name not in servers:
            add("error", node_id, f"{field}.server", f"No MCP server named '{name}' in this workspace.")
    for node_id, config in nodes:
        name, tool = config.get("server"), config.get("tool")
        if not isinstance(name, str) or not name:
            continue
        server = servers.get(name)
        if server is None:
            add("error", node_id, "config.server", f"No MCP server named '{name}' in this workspace.")
            continue
        if not isinstance(tool, str) or not tool:
            continue
        if server.allowed_tools is not None and tool not in server.allowed_tools:
            add("error", node_id, "config.tool", f"Tool '{tool}' is not allowed on MCP server '{name}'.")
            continue
        if server.tools is None:
            continue  # not fetched yet: nothing to check against
        known = {t.get("name"): t for t in server.tools if isinstance(t, dict)}
        if tool not in known:
            add("error", node_id, "config.tool", f"MCP server '{name}' has no tool '{tool}' (as last fetched).")
            continue
        _check_arguments(node_id, tool, known[tool].get("input_schema") or {}, config.get("arguments"), add)


def _check_arguments(node_id: str, tool: str, schema: dict, arguments, add: Callable) -> None:
    if not isinstance(schema, dict) or not isinstance(arguments, dict):
        return
    properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
    for required in schema.get("required") or []:
        if isinstance(required, str) and required not in arguments:
            add("error", node_id, "config.arguments", f"Tool '{tool}' needs the argument '{required}'.")
    if schema.get("additionalProperties") is False:
        for key in arguments:
            if key not in properties:
                add("error", node_id, f"config.arguments.{key}", f"Tool '{tool}' takes no argument '{key}'.")
