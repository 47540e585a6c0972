"""The node catalog (DESIGN §4): each node type once, in `builder/catalog/nodes/<type>.py`, with its config
JSON Schema, defaults, ports, display metadata, checks, output shape and the module of its executor.

Conventions in the schemas: a string with `"x-trellis": "expression"` is a CEL expression, one
with `"x-trellis": "template"` is text with `{{ … }}` holes, and `{"secret": "NAME"}` refers to a
workspace secret (never in expression scope).
"""

from __future__ import annotations

import importlib
import pkgutil

from jsonschema import Draft202012Validator

from builder.catalog import nodes
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

__all__ = [
    "COMMON_DEFAULTS",
    "COMMON_PROPERTIES",
    "DEFAULT_PORT",
    "ERROR_PORT",
    "EXPRESSION",
    "Field",
    "GROUPS",
    "ID_PATTERN",
    "NODE_TYPES",
    "NodeType",
    "SCHEMA_DIALECT",
    "TEMPLATE",
    "node_type_list",
    "ports_for",
]

GROUPS = ("core", "tools", "logic", "data")  # palette order


def _discover() -> dict[str, NodeType]:
    found: list[NodeType] = []
    for module in pkgutil.iter_modules(nodes.__path__):
        node_type = importlib.import_module(f"{nodes.__name__}.{module.name}").NODE_TYPE
        if module.name not in (node_type.type, f"{node_type.type}_loop"):  # `while` is a Python keyword
            raise RuntimeError(f"builder/catalog/nodes/{module.name}.py defines node type {node_type.type!r}.")
        if any(t.type == node_type.type for t in found):
            raise RuntimeError(f"Node type {node_type.type!r} is registered twice.")
        if node_type.group not in GROUPS:
            raise RuntimeError(f"Node type {node_type.type!r}: unknown group {node_type.group!r}.")
        Draft202012Validator.check_schema(node_type.config_schema)
        found.append(node_type)
    found.sort(key=lambda t: (GROUPS.index(t.group), t.rank, t.type))
    return {t.type: t for t in found}


NODE_TYPES: dict[str, NodeType] = _discover()


def ports_for(node: dict) -> list[str]:
    """The output ports of a graph node, derived from its type and config."""
    node_type = NODE_TYPES.get(node.get("type", ""))
    if node_type is None:
        return []
    config = node.get("config") or {}
    if not isinstance(config, dict):
        config = {}
    ports = node_type.ports(config)
    if node_type.executable and config.get("on_error") == "route" and ERROR_PORT not in ports:
        ports.append(ERROR_PORT)
    return ports


def node_type_list() -> list[dict]:
    return [node_type.as_dict() for node_type in NODE_TYPES.values()]
