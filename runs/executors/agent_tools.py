"""The agent's MCP tools and the approval pause of its tool loop, kept apart from runs/executors/agent.py.

* `{"type": "mcp", "server", "allowed_tools", "require_approval"}` offers the model the server's tools (the
  server's allowlist, narrowed by the node's), each called through the SSRF-guarded MCP client.
* A call that needs approval pauses the run like a `user_approval` step: the agent step waits with
  `wait.kind = "tool_approval"`, the tool's name and arguments, and a checkpoint of the conversation. The
  approvals API decides it; the engine then runs the node again with `services["resume"]`, and the loop
  goes on from the checkpoint (an approved call runs, a rejected one answers the model "rejected").
* Every tool call is traced in the step's `usage.tool_calls`: name, arguments, result or error, latency.
* A step that called tools also keeps `usage.transcript`: the turns it went through, in Chat Completions'
  message shape (assistant `tool_calls`, `tool` results, the final answer) with the tool definitions the
  model saw, so that a fine-tuning export can replay them exactly. The prompt itself is not repeated (the
  export rebuilds it from the node's config); tool results are the redacted, clipped text the model read,
  and the engine redacts the whole usage again before storing it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from runs.executors.base import NodeContext, NodeError, Usage
from runs.executors.mcp import call as mcp_call
from runs.executors.mcp import check_allowed, load_server, server_headers
from runs.llm.adapters import ToolCall, ToolSpec
from trellis.mcp_client import McpError, list_tools, result_text

TRACE_TEXT_CHARS = 2000
REJECTED = "The user rejected this tool call; it was not made."


@dataclass
class TracedUsage(Usage):
    """Usage plus the trace of the node's tool calls (stored with the step, redacted by the engine)."""

    tool_calls: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)  # the transcript's turns after the prompt
    tool_defs: list[dict] = field(default_factory=list)  # the tools offered, as Chat Completions declares them

    def as_dict(self) -> dict:
        data = super().as_dict()
        if self.tool_calls:
            data["tool_calls"] = self.tool_calls
        if any(m.get("tool_calls") for m in self.messages):  # a step without tool calls: its output says it all
            data["transcript"] = {"messages": self.messages, "tools": self.tool_defs}
        return data

    def record_tools(self, specs: list[ToolSpec]) -> None:
        self.tool_defs = [
            {"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}
            for t in specs
        ]

    def record_calls(self, text: str, calls: list[dict]) -> None:
        """An assistant turn that called tools (`content` only when the model also wrote text)."""
        message: dict[str, Any] = {"role": "assistant"}
        if text:
            message["content"] = text
        message["tool_calls"] = [
            {"id": c["call_id"], "type": "function", "function": {"name": c["name"], "arguments": c["arguments"]}}
            for c in calls
        ]
        self.messages.append(message)

    def record_answer(self, text: str) -> None:
        self.messages.append({"role": "assistant", "content": text})


class ApprovalNeeded(Exception):
    """Raised out of the tool loop: the step waits for a member to decide on one tool call."""

    def __init__(self, wait: dict):
        super().__init__("tool approval needed")
        self.wait = wait


# --- MCP tools ------------------------------------------------------------------------------------------


def mcp_tools(ctx: NodeContext, item: dict, name_of: Callable[[str], str]) -> list[tuple[str, dict]]:
    """(model-facing name, tool entry) for each tool the model may call on the item's server."""

    server = load_server(ctx, str(item.get("server") or ""))
    tools = server.tools
    if tools is None:  # never fetched: ask the server now (the cached list is only a convenience)
        try:
            tools = list_tools(
                url=server.url, headers=server_headers(ctx, server), timeout_s=ctx.remaining_s(settings.MCP_TIMEOUT_S)
            )
        except McpError as exc:
            raise NodeError(
                f"MCP server {server.name!r}: {exc.message}", code=exc.code, retryable=exc.retryable
            ) from None
    wanted = item.get("allowed_tools")
    allowed = [
        t
        for t in tools
        if (server.allowed_tools is None or t["name"] in server.allowed_tools)
        and (wanted is None or t["name"] in wanted)
    ]
    approval = item.get("require_approval") or "never"
    entries = []
    for tool in allowed:
        needs = approval == "always" or (isinstance(approval, list) and tool["name"] in approval)
        config = {"type": "mcp", "server": server.name, "tool": tool["name"], "require_approval": needs}
        schema = tool.get("input_schema") or {"type": "object", "properties": {}}
        spec = ToolSpec(
            name=name_of(tool["name"]), description=tool.get("description") or tool["name"], parameters=schema
        )
        entries.append((spec.name, {"config": config, "spec": spec}))
    return entries


async def run_mcp_tool(ctx: NodeContext, config: dict, arguments: dict) -> str:
    """The tool's answer as text for the model; an error result is reported to the model, not raised."""

    server = await ctx.blocking(load_server, ctx, config["server"])
    check_allowed(server, config["tool"])
    result = await mcp_call(ctx, server, config["tool"], arguments)
    text = result_text(result)
    return f"Error: {text}" if result.is_error else text


# --- the approval pause and the trace -------------------------------------------------------------------


async def answer_calls(
    ctx: NodeContext,
    conv: Any,
    tools: dict,
    calls: list[dict],
    turn_number: int,
    decisions: dict[str, str],
    usage: TracedUsage,
    run_tool: Callable[[NodeContext, dict, ToolCall, str], Awaitable[str]],
) -> None:
    """Answer one turn's tool calls, or raise ApprovalNeeded for the first call still waiting for a decision.

    No call of the turn runs before every call that needs approval is decided, so a resumed turn never
    makes a call twice."""
    for call in calls:
        entry = tools.get(call["name"])
        if entry and entry["config"].get("require_approval") and call["call_id"] not in decisions:
            raise ApprovalNeeded(_wait(conv, entry["config"], call, calls, turn_number, decisions, usage))
    results = []
    for index, call in enumerate(calls):
        ctx.check_cancelled()
        started = time.monotonic()
        record: dict[str, Any] = {"name": call["name"], "arguments": _arguments(call["arguments"])}
        entry = tools.get(call["name"])
        if entry and entry["config"]["type"] == "mcp":
            record["server"] = entry["config"]["server"]
        if decisions.get(call["call_id"]) == "rejected":
            output = REJECTED
            record["approval"] = "rejected"
        else:
            if call["call_id"] in decisions:
                record["approval"] = "approved"
            tool_call = ToolCall(call_id=call["call_id"], name=call["name"], arguments=call["arguments"])
            try:
                output = await run_tool(ctx, tools, tool_call, f"{turn_number}.{index}")
            except NodeError as exc:
                record.update(error={"code": exc.code, "message": exc.message}, latency_ms=_ms(started))
                usage.tool_calls.append(record)
                raise
            if output.startswith("Error:"):
                record["error"] = {"message": output[:TRACE_TEXT_CHARS]}
            elif entry and entry["config"]["type"] == "file_search":
                record.update(_citations(output))
        record["result"] = output[:TRACE_TEXT_CHARS]
        record["latency_ms"] = _ms(started)
        usage.tool_calls.append(record)
        results.append((call["call_id"], output))
    conv.add_tool_results(results)
    usage.messages.extend({"role": "tool", "tool_call_id": call_id, "content": output} for call_id, output in results)


CITED_TEXT_CHARS = 300


def _citations(output: str) -> dict:
    """A file_search call's query and ranked chunks, kept whole in the trace (the result text is cut at
    TRACE_TEXT_CHARS): the run detail lists them with links to the files and chunks."""
    try:
        answer = json.loads(output)
        results = answer["results"]
        return {
            "query": str(answer["query"]),
            "knowledge_base_id": str(answer["knowledge_base_id"]),
            "citations": [
                {
                    "file_id": r["file_id"],
                    "file_name": r["file_name"],
                    "chunk_id": r["chunk_id"],
                    "score": r["score"],
                    "metadata": {k: r[k] for k in ("page", "heading") if k in r},
                    "text": str(r["text"])[:CITED_TEXT_CHARS],
                }
                for r in results
            ],
        }
    except (ValueError, KeyError, TypeError):  # cut by the tool output cap: the text result stays
        return {}


def _wait(conv, config: dict, call: dict, calls: list[dict], turn_number: int, decisions: dict, usage) -> dict:
    arguments = _arguments(call["arguments"])
    where = f" on {config['server']}" if config.get("server") else ""
    return {
        "kind": "tool_approval",
        "message": f"The agent wants to call {call['name']}{where} with {json.dumps(arguments, default=str)[:500]}",
        "tool": call["name"],
        "server": config.get("server"),
        "arguments": arguments,
        "approvers": "editor",
        "checkpoint": {
            "history": conv.history,
            "turn": turn_number,
            "calls": calls,
            "pending": call["call_id"],
            "decisions": decisions,
            "usage": usage.as_dict(),
        },
    }


def resume_state(ctx: NodeContext, usage: TracedUsage) -> dict | None:
    """The checkpoint to go on from after a decided tool approval, with the decision recorded; or None."""
    resume = ctx.services.get("resume")
    if not resume:
        return None
    checkpoint = (resume.get("wait") or {}).get("checkpoint") or {}
    decisions = dict(checkpoint.get("decisions") or {})
    decisions[checkpoint.get("pending")] = "approved" if resume.get("decision") == "approved" else "rejected"
    before = checkpoint.get("usage") or {}
    usage.input_tokens += int(before.get("input_tokens") or 0)
    usage.output_tokens += int(before.get("output_tokens") or 0)
    usage.tool_calls.extend(before.get("tool_calls") or [])
    usage.messages.extend((before.get("transcript") or {}).get("messages") or [])
    return {**checkpoint, "decisions": decisions}


def _arguments(text: str) -> Any:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return text
    return value if isinstance(value, dict) else {"value": value}


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
