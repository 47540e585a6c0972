"""`agent`: one LLM conversation with a tool loop; text or structured JSON output."""

from builder.catalog.base import Checks, NodeType, Output, duplicates, json_schema_problem
from builder.catalog.schemas import AUTH, HTTP_METHOD, JSON_SCHEMA, NAME, TEMPLATE, TEMPLATE_MAP

HTTP_TOOL = {
    "type": "object",
    "properties": {
        "type": {"const": "http"},
        "name": NAME,
        "description": {"type": "string", "maxLength": 2000},
        "method": HTTP_METHOD,
        "url": TEMPLATE,
        "headers": TEMPLATE_MAP,
        "auth": AUTH,
        "body_schema": JSON_SCHEMA,
    },
    "required": ["type", "name", "method", "url"],
    "additionalProperties": False,
}
MCP_TOOL = {
    "type": "object",
    "properties": {
        "type": {"const": "mcp"},
        "server": {"type": "string", "minLength": 1, "maxLength": 100, "description": "A workspace MCP server."},
        "allowed_tools": {
            "type": ["array", "null"],
            "maxItems": 200,
            "items": {"type": "string", "maxLength": 200},
            "description": "Tools the model may call; null or absent: every tool the server allows.",
        },
        "require_approval": {
            "oneOf": [
                {"enum": ["never", "always"]},
                {"type": "array", "maxItems": 200, "items": {"type": "string", "maxLength": 200}},
            ],
            "description": "Pause the run for a member's approval before calling: never, always, or these tools.",
        },
    },
    "required": ["type", "server"],
    "additionalProperties": False,
}

FILE_SEARCH_TOOL = {
    "type": "object",
    "properties": {
        "type": {"const": "file_search"},
        "name": NAME,
        "description": {"type": "string", "maxLength": 2000},
        "knowledge_base": {"type": "string", "minLength": 1, "maxLength": 100},
        "top_k": {"type": "integer", "minimum": 1, "maximum": 50},
    },
    "required": ["type", "name", "knowledge_base"],
    "additionalProperties": False,
}


def check(checks: Checks, node_id: str, config: dict) -> None:
    provider = config.get("provider")
    if isinstance(provider, str) and provider.strip():
        checks.refer("provider", node_id, "config.provider", provider.strip())
    output = config.get("output")
    if isinstance(output, dict) and output.get("type") == "json_schema" and "schema" in output:
        problem = json_schema_problem(output["schema"])
        if problem:
            checks.add("error", node_id, "config.output.schema", problem)
    tools = config.get("tools")
    for i, name in duplicates(tools, "name"):
        checks.add("error", node_id, f"config.tools[{i}].name", f"Duplicate tool name '{name}'.")
    for i, tool in enumerate(tools if isinstance(tools, list) else ()):
        if not isinstance(tool, dict):
            continue
        if tool.get("type") == "mcp":
            checks.refer("mcp_tool", node_id, f"config.tools[{i}]", tool)
        if "body_schema" in tool:
            problem = json_schema_problem(tool["body_schema"])
            if problem:
                checks.add("error", node_id, f"config.tools[{i}].body_schema", problem)


NODE_TYPE = NodeType(
    type="agent",
    group="core",
    rank=1,
    label="Agent",
    description="One LLM call with a tool loop; text or structured JSON output.",
    icon="✦",
    properties={
        "model": {"type": "string", "minLength": 1, "maxLength": 200},
        "provider": {
            "type": ["string", "null"],
            "maxLength": 100,
            "description": "Name of a workspace model provider; empty uses the default.",
        },
        "instructions": TEMPLATE,
        "messages": {
            "type": "array",
            "maxItems": 100,
            "items": {
                "type": "object",
                "properties": {"role": {"enum": ["system", "user", "assistant"]}, "content": TEMPLATE},
                "required": ["role", "content"],
                "additionalProperties": False,
            },
        },
        "tools": {
            "type": "array",
            "maxItems": 64,
            "items": {"oneOf": [HTTP_TOOL, MCP_TOOL, FILE_SEARCH_TOOL]},
        },
        "output": {
            "type": "object",
            "properties": {"type": {"enum": ["text", "json_schema"]}, "schema": JSON_SCHEMA},
            "required": ["type"],
            "additionalProperties": False,
            "if": {"properties": {"type": {"const": "json_schema"}}},
            "then": {"required": ["type", "schema"]},
        },
        "temperature": {"type": ["number", "null"], "minimum": 0, "maximum": 2},
        "max_output_tokens": {"type": ["integer", "null"], "minimum": 1, "maximum": 1000000},
        "reasoning_effort": {"enum": ["minimal", "low", "medium", "high", None]},
        "max_turns": {"type": "integer", "minimum": 1, "maximum": 50},
    },
    required=("model",),
    defaults={
        "model": "gpt-4.1-mini",
        "instructions": "You are a helpful assistant. Answer: {{ workflow.input.message }}",
        "messages": [],
        "tools": [],
        "output": {"type": "text"},
        "max_turns": 10,
    },
    # Text unless the config asks for JSON; then the schema it gives.
    output=Output(schema={"type": "string"}, schema_from="/output/schema"),
    check=check,
)
