"""The node catalog (DESIGN §4): each node type once, with its config JSON Schema, ports, defaults,
display metadata and where its expressions and templates live. The executor for a type is
registered under the same name in `runs/executors/`.

Conventions in the schemas: a string with `"x-trellis": "expression"` is a CEL expression, one
with `"x-trellis": "template"` is text with `{{ … }}` holes, and `{"secret": "NAME"}` refers to a
workspace secret (never in expression scope).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
ERROR_PORT = "error"
DEFAULT_PORT = "out"

EXPRESSION = {"type": "string", "minLength": 1, "maxLength": 10000, "x-trellis": "expression"}
TEMPLATE = {"type": "string", "maxLength": 100000, "x-trellis": "template"}
NAME = {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"}
SECRET_REF = {
    "type": "string",
    "pattern": r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$",
    "description": "Name of a workspace secret.",
}
EXPRESSION_MAP = {
    "type": "object",
    "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"},
    "additionalProperties": EXPRESSION,
    "maxProperties": 200,
}
TEMPLATE_MAP = {"type": "object", "additionalProperties": TEMPLATE, "maxProperties": 100}
JSON_SCHEMA = {"type": "object", "description": "A JSON Schema (draft 2020-12)."}
AUTH = {
    "type": "object",
    "description": "Credentials from a workspace secret: bearer token, a named header, or basic auth.",
    "properties": {
        "type": {"enum": ["bearer", "header", "basic"]},
        "secret": SECRET_REF,
        "header": {"type": "string", "pattern": r"^[A-Za-z0-9-]{1,100}$"},
        "username": {"type": "string", "maxLength": 200},
    },
    "required": ["type", "secret"],
    "additionalProperties": False,
    "if": {"properties": {"type": {"const": "header"}}},
    "then": {"required": ["type", "secret", "header"]},
}
HTTP_METHOD = {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]}

COMMON_PROPERTIES = {
    "on_error": {
        "enum": ["fail", "continue", "route"],
        "description": "fail the run, continue with a null output, or route to the `error` port.",
    },
    "retry": {
        "type": "object",
        "properties": {
            "max_attempts": {"type": "integer", "minimum": 1, "maximum": 10},
            "backoff_s": {"type": "number", "minimum": 0, "maximum": 3600},
        },
        "additionalProperties": False,
    },
    # Up to 30 days: for user_approval this is how long the run waits for a decision.
    "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 30 * 86400},
}
COMMON_DEFAULTS = {"on_error": "fail", "retry": {"max_attempts": 1, "backoff_s": 1}}

Field = tuple[str, str, str]  # (field path, source text, "expression" | "template")


@dataclass(frozen=True)
class NodeType:
    type: str
    group: str  # core | tools | logic | data
    label: str
    description: str
    icon: str  # a lucide icon name
    properties: dict
    defaults: dict = field(default_factory=dict)
    required: tuple[str, ...] = ()
    executable: bool = True
    available: bool = True
    unavailable_reason: str = ""
    static_ports: tuple[str, ...] = (DEFAULT_PORT,)
    dynamic_ports: bool = False
    # Where this type's expressions and templates are, for validation: config -> fields.
    fields: Callable[[dict], Iterator[Field]] = lambda config: iter(())
    extra_schema: dict = field(default_factory=dict)

    @cached_property
    def config_schema(self) -> dict:
        properties = dict(self.properties)
        if self.executable:
            properties = {**properties, **COMMON_PROPERTIES}
        schema = {
            "$schema": SCHEMA_DIALECT,
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
        }
        if self.required:
            schema["required"] = list(self.required)
        schema.update(self.extra_schema)
        return schema

    @cached_property
    def validator(self) -> Draft202012Validator:
        """Readable, complete errors (used once a config is known to be invalid)."""
        return Draft202012Validator(self.config_schema)

    @cached_property
    def fast_validator(self):
        """The Rust validator: answers "is this config valid?" in microseconds."""
        return jsonschema_rs.validator_for(self.config_schema)

    def full_defaults(self) -> dict:
        base = copy.deepcopy(COMMON_DEFAULTS) if self.executable else {}
        base.update(copy.deepcopy(self.defaults))
        return base

    def as_dict(self) -> dict:
        return {
            "type": self.type,
            "group": self.group,
            "label": self.label,
            "description": self.description,
            "icon": self.icon,
            "config_schema": self.config_schema,
            "defaults": self.full_defaults(),
            "ports": list(self.static_ports),
            "dynamic_ports": self.dynamic_ports,
            "executable": self.executable,
            "available": self.available,
            "unavailable_reason": self.unavailable_reason or None,
        }


# --- Where expressions live, per type -----------------------------------------------------------


def _str(value: Any) -> bool:
    return isinstance(value, str)


def _map_fields(config: dict, key: str, kind: str) -> Iterator[Field]:
    value = config.get(key)
    if isinstance(value, dict):
        for k, v in value.items():
            if _str(v):
                yield (f"config.{key}.{k}", v, kind)


def _agent_fields(config: dict) -> Iterator[Field]:
    if _str(config.get("instructions")):
        yield ("config.instructions", config["instructions"], "template")
    messages = config.get("messages")
    if isinstance(messages, list):
        for i, message in enumerate(messages):
            if isinstance(message, dict) and _str(message.get("content")):
                yield (f"config.messages[{i}].content", message["content"], "template")
    tools = config.get("tools")
    if isinstance(tools, list):
        for i, tool in enumerate(tools):
            if isinstance(tool, dict) and tool.get("type") == "http":
                if _str(tool.get("url")):
                    yield (f"config.tools[{i}].url", tool["url"], "template")
                if isinstance(tool.get("headers"), dict):
                    for k, v in tool["headers"].items():
                        if _str(v):
                            yield (f"config.tools[{i}].headers.{k}", v, "template")


def _http_fields(config: dict) -> Iterator[Field]:
    if _str(config.get("url")):
        yield ("config.url", config["url"], "template")
    yield from _map_fields(config, "headers", "template")
    yield from _map_fields(config, "query", "template")
    body = config.get("body")
    if _str(body):
        yield ("config.body", body, "template")
    elif isinstance(body, dict):
        yield from _map_fields(config, "body", "expression")


def _guardrails_fields(config: dict) -> Iterator[Field]:
    if _str(config.get("text")):
        yield ("config.text", config["text"], "expression")
    checks = config.get("checks")
    if isinstance(checks, list):
        for i, check in enumerate(checks):
            if isinstance(check, dict) and check.get("type") == "custom" and _str(check.get("condition")):
                yield (f"config.checks[{i}].condition", check["condition"], "expression")


def _if_else_fields(config: dict) -> Iterator[Field]:
    cases = config.get("cases")
    if isinstance(cases, list):
        for i, case in enumerate(cases):
            if isinstance(case, dict) and _str(case.get("condition")):
                yield (f"config.cases[{i}].condition", case["condition"], "expression")


def _single(key: str, kind: str) -> Callable[[dict], Iterator[Field]]:
    def fields(config: dict) -> Iterator[Field]:
        if _str(config.get(key)):
            yield (f"config.{key}", config[key], kind)

    return fields


def _set_state_fields(config: dict) -> Iterator[Field]:
    assignments = config.get("assignments")
    if isinstance(assignments, list):
        for i, item in enumerate(assignments):
            if isinstance(item, dict) and _str(item.get("expression")):
                yield (f"config.assignments[{i}].expression", item["expression"], "expression")


def _output_fields(config: dict) -> Iterator[Field]:
    output = config.get("output")
    if _str(output):
        yield ("config.output", output, "expression")
    else:
        yield from _map_fields(config, "output", "expression")


def _file_search_fields(config: dict) -> Iterator[Field]:
    yield from _single("query", "template")(config)


def _mcp_fields(config: dict) -> Iterator[Field]:
    yield from _map_fields(config, "arguments", "expression")


# --- The types ----------------------------------------------------------------------------------

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

_TYPES = [
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
            "tools": {"type": "array", "maxItems": 64, "items": {"oneOf": [HTTP_TOOL, WORKFLOW_TOOL]}},
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
        fields=_agent_fields,
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
        fields=_output_fields,
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
        fields=_http_fields,
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
        fields=_guardrails_fields,
    ),
    NodeType(
        type="file_search",
        group="tools",
        label="File search",
        description="Retrieval over a workspace knowledge base.",
        icon="file-search",
        properties={
            "knowledge_base": {"type": "string", "maxLength": 100},
            "query": TEMPLATE,
            "top_k": {"type": "integer", "minimum": 1, "maximum": 50},
        },
        required=("knowledge_base", "query"),
        defaults={"knowledge_base": "", "query": "", "top_k": 5},
        available=False,
        unavailable_reason="Knowledge bases are not available yet.",
        fields=_file_search_fields,
    ),
    NodeType(
        type="mcp",
        group="tools",
        label="MCP tool",
        description="Calls a tool on a remote MCP server (streamable HTTP).",
        icon="plug",
        properties={
            "server_url": {"type": "string", "maxLength": 2000},
            "tool": {"type": "string", "maxLength": 200},
            "arguments": EXPRESSION_MAP,
            "auth": {"oneOf": [AUTH, {"type": "null"}]},
        },
        required=("server_url", "tool"),
        defaults={"server_url": "", "tool": "", "arguments": {}},
        available=False,
        unavailable_reason="MCP servers are not available yet.",
        fields=_mcp_fields,
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
        fields=_if_else_fields,
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
        fields=_single("condition", "expression"),
    ),
    NodeType(
        type="user_approval",
        group="logic",
        label="User approval",
        description="Pauses the run until a member approves or rejects.",
        icon="user-check",
        properties={
            "message": TEMPLATE,
            "approvers": {"enum": ["editor", "admin", "owner"], "description": "Minimum role that may decide."},
        },
        required=("message",),
        defaults={"message": "Please review.", "approvers": "editor", "timeout_s": 86400},
        static_ports=("approved", "rejected"),
        fields=_single("message", "template"),
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
        fields=_output_fields,
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
        fields=_set_state_fields,
    ),
]

NODE_TYPES: dict[str, NodeType] = {}
for _node_type in _TYPES:
    assert _node_type.type not in NODE_TYPES, _node_type.type
    Draft202012Validator.check_schema(_node_type.config_schema)
    NODE_TYPES[_node_type.type] = _node_type


def ports_for(node: dict) -> list[str]:
    """The output ports of a graph node, derived from its type and config."""
    node_type = NODE_TYPES.get(node.get("type", ""))
    if node_type is None:
        return []
    config = node.get("config") or {}
    if not isinstance(config, dict):
        config = {}
    ports: list[str] = []
    if node_type.type == "if_else":
        cases = config.get("cases")
        if isinstance(cases, list):
            for case in cases:
                if isinstance(case, dict) and isinstance(case.get("port"), str) and case["port"] not in ports:
                    ports.append(case["port"])
    ports += [p for p in node_type.static_ports if p not in ports]
    if node_type.executable and config.get("on_error") == "route" and ERROR_PORT not in ports:
        ports.append(ERROR_PORT)
    return ports


def config_with_defaults(node: dict) -> dict:
    """The node's config over its type's defaults (top level only), for executors and forms."""
    node_type = NODE_TYPES[node["type"]]
    config = node.get("config") or {}
    return {**node_type.full_defaults(), **config}


def node_type_list() -> list[dict]:
    return [node_type.as_dict() for node_type in NODE_TYPES.values()]
