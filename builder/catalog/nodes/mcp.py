"""`mcp`: calls a tool on a workspace MCP server (streamable HTTP)."""

from builder.catalog.base import Checks, NodeType
from builder.catalog.schemas import EXPRESSION_MAP


def check(checks: Checks, node_id: str, config: dict) -> None:
    checks.refer("mcp_node", node_id, "config", config)


NODE_TYPE = NodeType(
    type="mcp",
    group="tools",
    rank=3,
    label="MCP tool",
    description="Calls a tool on a remote MCP server (streamable HTTP).",
    icon="⚙",
    properties={
        "server": {"type": "string", "maxLength": 100, "description": "Name of a workspace MCP server."},
        "tool": {"type": "string", "maxLength": 200},
        "arguments": EXPRESSION_MAP,
    },
    required=("server", "tool"),
    defaults={"server": "", "tool": "", "arguments": {}},
    check=check,
)
