"""The node catalog (DESIGN §4): each node type once, with its config JSON Schema, ports, defaults,
display metadata and where its expressions and templates live. The executor for a type is
registered under the same name in `runs/executors/`.

Conventions in the schemas: a string with `"x-trellis": "expression"` is a CEL expression, one
with `"x-trellis": "template"` is text with `{{ … }}` holes, and `{"secret": "NAME"}` refers to a
workspace secret (never in expression scope).
"""

from __future__ import annotations

from jsonschema import Draft202012Validator

from builder.catalog.base import Field, NodeType
from builder.catalog.schemas import (
    COMMON_DEFAULTS,
    COMMON_PROPERTIES,
    DEFAULT_PORT,
    ERROR_PORT,
    EXPRESSION,
    ID_PATTERN,
    SCHEMA_DIALECT,
    TEMPLATE,
)
from builder.catalog.types import NODE_TYPE_LIST

__all__ = [
    "COMMON_DEFAULTS",
    "COMMON_PROPERTIES",
    "DEFAULT_PORT",
    "ERROR_PORT",
    "EXPRESSION",
    "Field",
    "ID_PATTERN",
    "NODE_TYPES",
    "NodeType",
    "SCHEMA_DIALECT",
    "TEMPLATE",
    "config_with_defaults",
    "node_type_list",
    "ports_for",
]

NODE_TYPES: dict[str, NodeType] = {}
for _node_type in NODE_TYPE_LIST:
    if _node_type.type in NODE_TYPES:
        raise RuntimeError(f"Node type {_node_type.type!r} is registered twice.")
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
