"""The NodeType record: everything about one node type, in one entry (CONVENTIONS §5).

Each type's entry is `builder/catalog/nodes/<type>.py`; its executor is `runs/executors/<module>.py`.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

import jsonschema_rs
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from builder.catalog.schemas import COMMON_DEFAULTS, COMMON_PROPERTIES, DEFAULT_PORT, SCHEMA_DIALECT

Field = tuple[str, str, str]  # (field path, source text, "expression" | "template")


class Checks(Protocol):
    """What a type's `check` gets from the validator: a place for issues and what it knows of the graph."""

    declared_state: set[str]

    def add(self, severity: str, node_id: str | None, field: str | None, message: str) -> None: ...

    def refer(self, kind: str, node_id: str, field: str, value: Any) -> None:
        """Note a reference to a workspace object (`provider`, `mcp_node`, `mcp_tool`), checked in one query."""


@dataclass(frozen=True)
class DynamicPorts:
    """Ports read from the config: one per item of the list `config[list_field]`, named by `item[id_key]`."""

    list_field: str
    id_key: str
    label_key: str

    def ports(self, config: dict) -> list[str]:
        items = config.get(self.list_field)
        out: list[str] = []
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict) and isinstance(item.get(self.id_key), str) and item[self.id_key] not in out:
                out.append(item[self.id_key])
        return out

    def as_dict(self) -> dict:
        return {"list_field": self.list_field, "id_key": self.id_key, "label_key": self.label_key}


@dataclass(frozen=True)
class Output:
    """What a node's output looks like, for scope and autocomplete: a JSON Schema, or one read from the
    config (`schema_from`, a JSON Pointer), or an object whose keys are those of a config map (`keys_from`)."""

    schema: dict | None = None
    schema_from: str | None = None
    keys_from: str | None = None

    def as_dict(self) -> dict:
        return {"schema": self.schema, "schema_from": self.schema_from, "keys_from": self.keys_from}


@dataclass(frozen=True)
class NodeType:
    type: str
    group: str  # core | tools | logic | data
    rank: int  # place in its palette group
    label: str
    description: str
    icon: str  # one glyph, shown as-is on the card and in the palette
    properties: dict
    defaults: dict = field(default_factory=dict)
    required: tuple[str, ...] = ()
    executable: bool = True
    available: bool = True
    unavailable_reason: str = ""
    docs_url: str = ""
    static_ports: tuple[str, ...] = (DEFAULT_PORT,)
    dynamic_ports: DynamicPorts | None = None
    output: Output = Output()
    # Runs on the run's own thread (cheap, no I/O): no hand-off to the executor pool.
    inline: bool = False
    # The module holding the executor (`@register`ed under this type); default `runs.executors.<type>`.
    executor: str = ""
    # Checks beyond the schema: `check(checks, node_id, config)` adds issues (the validator is `checks`).
    check: Callable[[Checks, str, dict], None] | None = None
    extra_schema: dict = field(default_factory=dict)

    @property
    def executor_module(self) -> str | None:
        if not self.executable:
            return None
        return self.executor or f"runs.executors.{self.type}"

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

    def ports(self, config: dict) -> list[str]:
        ports = self.dynamic_ports.ports(config) if self.dynamic_ports else []
        return ports + [p for p in self.static_ports if p not in ports]

    def fields(self, config: dict) -> Iterator[Field]:
        """Every expression and template in `config`, found through the schema's `x-trellis` marks."""
        return marked_fields(self.config_schema, config, "config")

    def as_dict(self) -> dict:
        return {
            "type": self.type,
            "group": self.group,
            "label": self.label,
            "description": self.description,
            "icon": self.icon,
            "docs_url": self.docs_url or None,
            "config_schema": self.config_schema,
            "defaults": self.full_defaults(),
            "ports": list(self.static_ports),
            "dynamic_ports": self.dynamic_ports.as_dict() if self.dynamic_ports else None,
            "output": self.output.as_dict(),
            "executable": self.executable,
            "inline": self.inline,
            "available": self.available,
            "unavailable_reason": self.unavailable_reason or None,
        }


# --- Expressions and templates, from the schema's marks --------------------------------------------


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _fits(schema: dict, value: Any) -> bool:
    """Whether `value` is of the branch's JSON type and matches its `const` discriminators (shallowly)."""
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        kind = _json_type(value)
        if kind not in types and not (kind == "integer" and "number" in types):
            return False
    if "const" in schema and schema["const"] != value:
        return False
    if isinstance(value, dict):
        for key, sub in (schema.get("properties") or {}).items():
            if isinstance(sub, dict) and "const" in sub and value.get(key) != sub["const"]:
                return False
    return True


def marked_fields(schema: dict, value: Any, path: str) -> Iterator[Field]:
    """(path, text, mark) for every string in `value` whose schema carries `x-trellis`; a `oneOf`/`anyOf`
    follows the first branch the value fits (by type and `const` discriminators)."""
    if not isinstance(schema, dict):
        return
    mark = schema.get("x-trellis")
    if mark and isinstance(value, str):
        yield (path, value, mark)
        return
    for combinator in ("oneOf", "anyOf"):
        for branch in schema.get(combinator) or ():
            if isinstance(branch, dict) and _fits(branch, value):
                yield from marked_fields(branch, value, path)
                break
    if isinstance(value, dict):
        properties = schema.get("properties") or {}
        extra = schema.get("additionalProperties")
        for key in [k for k in properties if k in value] + [k for k in value if k not in properties]:
            sub = properties.get(key, extra)
            if isinstance(sub, dict):
                yield from marked_fields(sub, value[key], f"{path}.{key}")
    elif isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, item in enumerate(value):
            yield from marked_fields(schema["items"], item, f"{path}[{i}]")


def json_schema_problem(schema: Any) -> str | None:
    """Why `schema` is not a valid JSON Schema (draft 2020-12), or None when it is."""
    if isinstance(schema, dict) and jsonschema_rs.meta.is_valid(schema):
        return None
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        return f"Not a valid JSON Schema: {exc.message}"
    return None


def duplicates(items: Any, key: str) -> Iterator[tuple[int, str]]:
    """(index, value) of every item of the list `items` whose `item[key]` an earlier item already had."""
    seen: set = set()
    for i, item in enumerate(items if isinstance(items, list) else ()):
        value = item.get(key) if isinstance(item, dict) else None
        if value is None:
            continue
        if value in seen:
            yield i, value
        seen.add(value)
