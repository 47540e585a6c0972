"""Where each node type keeps its expressions and templates, so validation can compile them all."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from builder.catalog.base import Field


def _str(value: Any) -> bool:
    return isinstance(value, str)


def map_fields(config: dict, key: str, kind: str) -> Iterator[Field]:
    value = config.get(key)
    if isinstance(value, dict):
        for k, v in value.items():
            if _str(v):
                yield (f"config.{key}.{k}", v, kind)


def agent_fields(config: dict) -> Iterator[Field]:
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


def http_fields(config: dict) -> Iterator[Field]:
    if _str(config.get("url")):
        yield ("config.url", config["url"], "template")
    yield from map_fields(config, "headers", "template")
    yield from map_fields(config, "query", "template")
    body = config.get("body")
    if _str(body):
        yield ("config.body", body, "template")
    elif isinstance(body, dict):
        yield from map_fields(config, "body", "expression")


def guardrails_fields(config: dict) -> Iterator[Field]:
    if _str(config.get("text")):
        yield ("config.text", config["text"], "expression")
    checks = config.get("checks")
    if isinstance(checks, list):
        for i, check in enumerate(checks):
            if isinstance(check, dict) and check.get("type") == "custom" and _str(check.get("condition")):
                yield (f"config.checks[{i}].condition", check["condition"], "expression")


def if_else_fields(config: dict) -> Iterator[Field]:
    cases = config.get("cases")
    if isinstance(cases, list):
        for i, case in enumerate(cases):
            if isinstance(case, dict) and _str(case.get("condition")):
                yield (f"config.cases[{i}].condition", case["condition"], "expression")


def single_field(key: str, kind: str) -> Callable[[dict], Iterator[Field]]:
    def fields(config: dict) -> Iterator[Field]:
        if _str(config.get(key)):
            yield (f"config.{key}", config[key], kind)

    return fields


def set_state_fields(config: dict) -> Iterator[Field]:
    assignments = config.get("assignments")
    if isinstance(assignments, list):
        for i, item in enumerate(assignments):
            if isinstance(item, dict) and _str(item.get("expression")):
                yield (f"config.assignments[{i}].expression", item["expression"], "expression")


def output_fields(config: dict) -> Iterator[Field]:
    output = config.get("output")
    if _str(output):
        yield ("config.output", output, "expression")
    else:
        yield from map_fields(config, "output", "expression")


def file_search_fields(config: dict) -> Iterator[Field]:
    yield from single_field("query", "template")(config)


def mcp_fields(config: dict) -> Iterator[Field]:
    yield from map_fields(config, "arguments", "expression")
