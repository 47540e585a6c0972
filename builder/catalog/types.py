"""Every node type of DESIGN §4, once."""

from builder.catalog.base import NodeType
from builder.catalog.fields import (
    agent_fields,
    file_search_fields,
    guardrails_fields,
    http_fields,
    if_else_fields,
    mcp_fields,
    output_fields,
    set_state_fields,
    single_field,
)
from builder.catalog.schemas import (
    AUTH,
    ERROR_PORT,
    EXPRESSION,
    EXPRESSION_MAP,
    HTTP_METHOD,
    ID_PATTERN,
    JSON_SCHEMA,
    NAME,
    TEMPLATE,
    TEMPLATE_MAP,
)

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
WORKFLOW_TOOL = {
    "type": "object",
    "properties": {
        "type": {"const": "workflow"},
        "workflow_id": {"type": "string", "format": "uuid"},
        "name": NAME,
        "description": {"type": "string", "maxLength": 2000},
    },
    "required": ["type", "workflow_id", "name"],
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

NODE_TYPE_LIST = [
    NodeType(
        type="start",
        group="core",
        label="Start",
        description="Where a run begins: checks the run input against a schema and declares state variables.",
        icon="play",
        properties={
            "input_schema": JSON_SCHEMA,
            "state": {
                "type": "object",
                "description": "State variables and their initial values.",
                "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"},
                "maxProperties": 200,
            },
        },
        defaults={"input_schema": {"type": "object", "properties": {}}, "state": {}},
    ),
    NodeType(
        type="agent",
        group="core",
        label="Agent",
        description="One LLM call with a tool loop; text or structured JSON output.",
        icon="bot",
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
                "items": {"oneOf": [HTTP_TOOL, WORKFLOW_TOOL, MCP_TOOL, FILE_SEARCH_TOOL]},
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
            "instructions": "",
            "messages": [],
            "tools": [],
            "output": {"type": "text"},
            "max_turns": 10,
        },
        fields=agent_fields,
    ),
    NodeType(
        type="end",
        group="core",
        label="End",
        description="Produces the run output: a map of key → expression, or one expression.",
        icon="flag",
        properties={"output": {"oneOf": [EXPRESSION_MAP, EXPRESSION]}},
        defaults={"output": {}},
        static_ports=(),
        fields=output_fields,
    ),
    NodeType(
        type="note",
        group="core",
        label="Note",
        description="A comment on the canvas. Never runs.",
        icon="sticky-note",
        properties={"text": {"type": "string", "maxLength": 20000}},
        defaults={"text": ""},
        executable=False,
        static_ports=(),
    ),
    NodeType(
        type="http_request",
        group="tools",
        label="HTTP request",
        description="Calls an HTTP API. A string body is a template sent as-is; an object body maps keys "
        "to expressions and is sent as JSON.",
        icon="globe",
        properties={
            "method": HTTP_METHOD,
            "url": TEMPLATE,
            "headers": TEMPLATE_MAP,
            "query": TEMPLATE_MAP,
            "body": {"oneOf": [TEMPLATE, EXPRESSION_MAP, {"type": "null"}]},
            "auth": {"oneOf": [AUTH, {"type": "null"}]},
            "expect": {"enum": ["json", "text"]},
        },
        required=("method", "url"),
        defaults={"method": "GET", "url": "", "headers": {}, "query": {}, "body": None, "expect": "json"},
        fields=http_fields,
    ),
    NodeType(
        type="guardrails",
        group="tools",
        label="Guardrails",
        description="Pass/fail checks on text: PII, moderation, jailbreak, custom rules.",
        icon="shield-check",
        properties={
            "text": EXPRESSION,
            "checks": {
                "type": "array",
                "maxItems": 20,
                "items": {
                    "oneOf": [
                        {
                            "type": "object",
                            "properties": {
                                "type": {"const": "pii"},
                                "mode": {"enum": ["detect", "mask"]},
                                "entities": {
                                    "type": "array",
                                    "items": {
                                        "enum": [
                                            "email",
                                            "phone",
                                            "credit_card",
                                            "iban",
                                            "ssn",
                                            "ip_address",
                                            "url",
                                        ]
                                    },
                                    "uniqueItems": True,
                                },
                            },
                            "required": ["type"],
                            "additionalProperties": False,
                        },
                        {
                            "type": "object",
                            "properties": {
                                "type": {"const": "moderation"},
                                "categories": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                            },
                            "required": ["type"],
                            "additionalProperties": False,
                        },
                        {
                            "type": "object",
                            "properties": {
                                "type": {"const": "jailbreak"},
                                "threshold": {"type": "number", "minimum": 0, "maximum": 1},
                            },
                            "required": ["type"],
                            "additionalProperties": False,
                        },
                        {
                            "type": "object",
                            "properties": {
                                "type": {"const": "custom"},
                                "name": {"type": "string", "maxLength": 100},
                                "condition": {**EXPRESSION, "description": "CEL; true means the check passes."},
                                "criterion": {
                                    "type": "string",
                                    "minLength": 1,
                                    "maxLength": 5000,
                                    "description": "Judged by an LLM.",
                                },
                                "model": {"type": "string", "maxLength": 200},
                            },
                            "required": ["type"],
                            "oneOf": [{"required": ["condition"]}, {"required": ["criterion"]}],
                            "additionalProperties": False,
                        },
                    ]
                },
            },
        },
        required=("text", "checks"),
        defaults={"text": "workflow.input.message", "checks": [{"type": "pii", "mode": "detect"}]},
        static_ports=("pass", "fail"),
        fields=guardrails_fields,
    ),
    NodeType(
        type="file_search",
        group="tools",
        label="File search",
        description="Ranked chunks from a workspace knowledge base (keyword, vector or hybrid search).",
        icon="file-search",
        properties={
            "knowledge_base": {"type": "string", "maxLength": 100, "description": "Knowledge base id or name."},
            "query": TEMPLATE,
            "top_k": {"type": "integer", "minimum": 1, "maximum": 50},
            "mode": {"enum": ["hybrid", "keyword", "vector"]},
            "filters": {
                "type": "object",
                "properties": {
                    "file_id": {"type": "array", "items": {"type": "string", "maxLength": 255}, "maxItems": 100},
                    "tags": {"type": "array", "items": {"type": "string", "maxLength": 100}, "maxItems": 100},
                },
                "additionalProperties": False,
            },
        },
        required=("knowledge_base", "query"),
        defaults={"knowledge_base": "", "query": "", "top_k": 5, "mode": "hybrid", "filters": {}},
        fields=file_search_fields,
    ),
    NodeType(
        type="mcp",
        group="tools",
        label="MCP tool",
        description="Calls a tool on a remote MCP server (streamable HTTP).",
        icon="plug",
        properties={
            "server": {"type": "string", "maxLength": 100, "description": "Name of a workspace MCP server."},
            "tool": {"type": "string", "maxLength": 200},
            "arguments": EXPRESSION_MAP,
        },
        required=("server", "tool"),
        defaults={"server": "", "tool": "", "arguments": {}},
        fields=mcp_fields,
    ),
    NodeType(
        type="if_else",
        group="logic",
        label="If / else",
        description="The first case whose condition is true wins; otherwise `else`.",
        icon="git-branch",
        properties={
            "cases": {
                "type": "array",
                "minItems": 1,
                "maxItems": 50,
                "items": {
                    "type": "object",
                    "properties": {
                        "port": {"type": "string", "pattern": ID_PATTERN, "not": {"enum": ["else", ERROR_PORT]}},
                        "label": {"type": "string", "maxLength": 100},
                        "condition": EXPRESSION,
                    },
                    "required": ["port", "condition"],
                    "additionalProperties": False,
                },
            }
        },
        required=("cases",),
        defaults={"cases": [{"port": "case_1", "label": "Case 1", "condition": "true"}]},
        static_ports=("else",),
        dynamic_ports=True,
        fields=if_else_fields,
    ),
    NodeType(
        type="while",
        group="logic",
        label="While",
        description="Runs the body on the `loop` port while the condition holds, then continues on `exit`.",
        icon="repeat",
        properties={
            "condition": EXPRESSION,
            "max_iterations": {"type": "integer", "minimum": 1, "maximum": 10000},
        },
        required=("condition",),
        defaults={"condition": "loop.index < 3", "max_iterations": 10},
        static_ports=("loop", "exit"),
        fields=single_field("condition", "expression"),
    ),
    NodeType(
        type="user_approval",
        group="logic",
        label="User approval",
        description="Pauses the run until a member approves or rejects.",
        icon="user-check",
        properties={
            "message": TEMPLATE,
            "approvers": {
                "enum": ["editor", "admin", "owner", "visitor"],
                "description": "Minimum role that may decide; visitor: the chat visitor decides in the chat.",
            },
        },
        required=("message",),
        defaults={"message": "Please review.", "approvers": "editor", "timeout_s": 86400},
        static_ports=("approved", "rejected"),
        fields=single_field("message", "template"),
    ),
    NodeType(
        type="transform",
        group="data",
        label="Transform",
        description="Builds a new object: a map of key → expression.",
        icon="shuffle",
        properties={"output": EXPRESSION_MAP},
        required=("output",),
        defaults={"output": {}},
        fields=output_fields,
    ),
    NodeType(
        type="set_state",
        group="data",
        label="Set state",
        description="Assigns workflow state variables.",
        icon="database",
        properties={
            "assignments": {
                "type": "array",
                "maxItems": 100,
                "items": {
                    "type": "object",
                    "properties": {
                        "variable": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"},
                        "expression": EXPRESSION,
                    },
                    "required": ["variable", "expression"],
                    "additionalProperties": False,
                },
            }
        },
        required=("assignments",),
        defaults={"assignments": []},
        fields=set_state_fields,
    ),
]
