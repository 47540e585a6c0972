"""A request read into protocol-independent form (`Conversation`), from either the Responses or the
Chat Completions body, and the token count the fake usage is built from."""

from __future__ import annotations

import math
from typing import Any


def tokens(text: str) -> int:
    return max(1, math.ceil(len(text) / 4)) if text else 0


def content_text(content: Any) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, dict):
                parts.append(str(part.get("text") or part.get("refusal") or ""))
            else:
                parts.append(str(part))
        return "\n".join(p for p in parts if p)
    return str(content)


class Conversation:
    """The protocol-independent view of a request: what the fake model decides from."""

    def __init__(self) -> None:
        self.system: list[str] = []
        self.user: list[str] = []
        self.assistant: list[str] = []
        self.tool_results: list[tuple[str, str]] = []  # (tool name, output)
        self.tools: list[dict] = []  # [{name, description, parameters}]
        self.schema: dict | None = None
        self.tool_choice: Any = "auto"
        self.schema_name: str = ""  # the json_schema format's name (the eval judge sends "trellis_grader")
        self.model: str = ""

    @property
    def prompt(self) -> str:
        return "\n".join(self.system + self.user)

    @property
    def all_text(self) -> str:
        """Everything the model reads; usage is its length / 4, rounded up."""
        return "\n".join(self.system + self.user + self.assistant + [out for _, out in self.tool_results])

    @property
    def last_user(self) -> str:
        return self.user[-1] if self.user else (self.system[-1] if self.system else "")


def from_responses(body: dict) -> Conversation:
    conv = Conversation()
    if body.get("instructions"):
        conv.system.append(str(body["instructions"]))
    items = body.get("input")
    if isinstance(items, str):
        items = [{"role": "user", "content": items}]
    calls: dict[str, str] = {}
    for item in items or []:
        kind = item.get("type", "message")
        if kind == "message":
            role, text = item.get("role", "user"), content_text(item.get("content"))
            (
                conv.system if role in ("system", "developer") else conv.assistant if role == "assistant" else conv.user
            ).append(text)
        elif kind == "function_call":
            calls[item.get("call_id", "")] = item.get("name", "tool")
        elif kind == "function_call_output":
            conv.tool_results.append((calls.get(item.get("call_id", ""), "tool"), str(item.get("output", ""))))
    for tool in body.get("tools") or []:
        if tool.get("type") == "function":
            conv.tools.append(
                {"name": tool["name"], "description": tool.get("description", ""), "parameters": tool.get("parameters")}
            )
    conv.tool_choice = body.get("tool_choice", "auto")
    fmt = ((body.get("text") or {}).get("format")) or {}
    conv.model = str(body.get("model") or "")
    if fmt.get("type") == "json_schema":
        conv.schema = fmt.get("schema") or {}
        conv.schema_name = str(fmt.get("name") or "")
    elif fmt.get("type") == "json_object":
        conv.schema = {"type": "object"}
    return conv


def from_chat(body: dict) -> Conversation:
    conv = Conversation()
    calls: dict[str, str] = {}
    for msg in body.get("messages") or []:
        role = msg.get("role")
        text = content_text(msg.get("content"))
        if role in ("system", "developer"):
            conv.system.append(text)
        elif role == "assistant":
            for call in msg.get("tool_calls") or []:
                calls[call.get("id", "")] = (call.get("function") or {}).get("name", "tool")
            conv.assistant.append(text)
        elif role == "tool":
            conv.tool_results.append((calls.get(msg.get("tool_call_id", ""), "tool"), text))
        else:
            conv.user.append(text)
    for tool in body.get("tools") or []:
        fn = tool.get("function") or {}
        if tool.get("type") == "function" and fn.get("name"):
            conv.tools.append(
                {"name": fn["name"], "description": fn.get("description", ""), "parameters": fn.get("parameters")}
            )
    conv.tool_choice = body.get("tool_choice", "auto")
    fmt = body.get("response_format") or {}
    conv.model = str(body.get("model") or "")
    if fmt.get("type") == "json_schema":
        conv.schema = (fmt.get("json_schema") or {}).get("schema") or {}
        conv.schema_name = str((fmt.get("json_schema") or {}).get("name") or "")
    elif fmt.get("type") == "json_object":
        conv.schema = {"type": "object"}
    return conv
