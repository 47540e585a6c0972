"""The NodeType record: one node type's schema, defaults, ports and display metadata."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

import jsonschema_rs
from jsonschema import Draft202012Validator

from builder.catalog.schemas import COMMON_DEFAULTS, COMMON_PROPERTIES, DEFAULT_PORT, SCHEMA_DIALECT

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
