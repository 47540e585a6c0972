"""The `agent` node: one LLM conversation with a tool loop, through the real `openai` SDK.

Text output is the reply string; `json_schema` output is the parsed object, validated against the
schema (one repair turn, then a clear error). Tools are inline HTTP calls (SSRF-guarded), MCP server tools
and knowledge-base searches."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

import httpx
from django.conf import settings
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from runs.executors import agent_tools
from runs.executors.base import NodeContext, NodeError, NodeExecutor, NodeResult, Usage, register
from runs.executors.file_search import plan_knowledge_search, search_planned
from runs.executors.http_request import auth_headers
from runs.llm.adapters import Conversation, ToolCall, ToolSpec, conversation_for, openai_client, parse_json_text
from runs.llm.metering import metered_call, metered_provider
from runs.llm.providers import Provider
from trellis import net

DEFAULT_MODEL = "gpt-4.1-mini"
DEFAULT_MAX_TURNS = 10
TOOL_OUTPUT_MAX_CHARS = 20_000
TOOL_NAME_RE = re.compile(r"[^A-Za-z0-9_-]")
PATH_PARAM_RE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
FILE_SEARCH_PARAMETERS = {
    "type": "object",
    "properties": {"query": {"type": "string", "description": "What to look for, in your own words."}},
    "required": ["query"],
    "additionalProperties": False,
}
REPAIR_PROMPT = (
    "Your previous reply did not match the required JSON schema: {error}. "
    "Reply again with only a JSON value that matches the schema."
)


@register
class AgentExecutor(NodeExecutor):
    type = "agent"

    is_async = True

    def prepare(self, ctx: NodeContext) -> tuple[Provider, dict[str, dict]]:
        # Database reads: the provider's key, MCP servers, and what the budgets need (metering.metered_call).
        return _provider_and_tools(ctx, ctx.config)

    async def run_async(self, ctx: NodeContext) -> NodeResult:
        cfg = ctx.config
        provider, tools = ctx.prepared
        model = cfg.get("model") or provider.default_model(DEFAULT_MODEL)
        schema = _output_schema(cfg.get("output"))
        instructions = ctx.render(cfg.get("instructions") or "")
        messages = _messages(ctx, cfg.get("messages") or [])
        if not messages:
            # With no conversation configured, the instructions are the prompt itself.
            messages, instructions = [{"role": "user", "content": instructions or "Hello"}], ""
        max_turns = int(cfg.get("max_turns") or DEFAULT_MAX_TURNS)
        usage = agent_tools.TracedUsage(model=model)
        usage.record_tools([t["spec"] for t in tools.values()])
        resume = agent_tools.resume_state(ctx, usage)

        timeout_s = ctx.remaining_s(settings.LLM_REQUEST_TIMEOUT_S)
        async with openai_client(provider, timeout_s=timeout_s) as client:
            conv = conversation_for(
                provider,
                client,
                model=model,
                instructions=instructions,
                messages=messages,
                tools=[t["spec"] for t in tools.values()],
                schema=schema,
                temperature=cfg.get("temperature"),
                max_output_tokens=cfg.get("max_output_tokens"),
                reasoning_effort=cfg.get("reasoning_effort"),
                cancel_event=ctx.cancel_event,
            )
            try:
                text = await _tool_loop(ctx, conv, provider, tools, max_turns, usage, resume)
            except agent_tools.ApprovalNeeded as pause:
                return NodeResult(wait=pause.wait)
            output: Any = text
            if schema is not None:
                output = await _structured(ctx, conv, provider, schema, text, usage)
        # The answer to learn from is the one that counted (after a repair turn: the repaired JSON).
        usage.record_answer(text if schema is None else json.dumps(output, ensure_ascii=False))
        return NodeResult(output=output, usage=usage)


def _provider_and_tools(ctx: NodeContext, cfg: dict) -> tuple[Provider, dict[str, dict]]:
    return metered_provider(ctx, cfg.get("provider")), _tools(ctx, cfg.get("tools") or [])


async def _tool_loop(
    ctx: NodeContext,
    conv: Conversation,
    provider: Provider,
    tools: dict,
    max_turns: int,
    usage: agent_tools.TracedUsage,
    resume: dict | None = None,
) -> str:
    first = 1
    if resume is not None:  # after a decided tool approval: answer that turn's calls, then go on
        conv.history = list(resume["history"])
        first = int(resume["turn"]) + 1
        await agent_tools.answer_calls(
            ctx, conv, tools, resume["calls"], int(resume["turn"]), resume["decisions"], usage, _run_tool
        )
    for turn_number in range(first, max_turns + 1):
        # Each turn is one model call: the budgets are checked again before it (a run is stopped at its
        # next call, never in the middle of one).
        turn = await metered_call(ctx, conv, usage, priced=provider.priced, on_delta=ctx.emit_delta)
        if not turn.tool_calls:
            conv.add_turn(turn)
            return turn.text
        conv.add_turn(turn)
        calls = [{"call_id": c.call_id, "name": c.name, "arguments": c.arguments} for c in turn.tool_calls]
        usage.record_calls(turn.text, calls)
        await agent_tools.answer_calls(ctx, conv, tools, calls, turn_number, {}, usage, _run_tool)
    raise NodeError(
        f"The agent was still calling tools after max_turns={max_turns} turns. Raise max_turns or simplify the task.",
        code="max_turns_exceeded",
    )


async def _structured(
    ctx: NodeContext, conv: Conversation, provider: Provider, schema: dict, text: str, usage: Usage
) -> Any:
    validator = Draft202012Validator(schema)
    error = _validation_error(validator, text)
    if error is None:
        return parse_json_text(text)
    # One repair turn: tell the model what was wrong and ask again. Tools stay declared (the history
    # holds their calls) but may not be called.
    conv.tool_choice = "none"
    conv.add_message("user", REPAIR_PROMPT.format(error=error))
    turn = await metered_call(ctx, conv, usage, priced=provider.priced, on_delta=ctx.emit_delta)
    second = _validation_error(validator, turn.text)
    if second is None:
        return parse_json_text(turn.text)
    raise NodeError(
        f"The model's output did not match the JSON schema, even after one repair attempt: {second}",
        code="invalid_output",
        details={"output": ctx.excerpt(turn.text, 2000)},
    )


def _validation_error(validator: Draft202012Validator, text: str) -> str | None:
    try:
        value = parse_json_text(text)
    except ValueError as exc:
        return f"not valid JSON ({exc})"
    errors = sorted(validator.iter_errors(value), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    first = errors[0]
    where = "/".join(str(p) for p in first.absolute_path) or "(root)"
    return f"at {where}: {first.message}"


def _output_schema(output: Any) -> dict | None:
    if not isinstance(output, dict) or output.get("type", "text") == "text":
        return None
    if output.get("type") != "json_schema":
        raise NodeError(f"Unknown output type {output.get('type')!r}; use 'text' or 'json_schema'.")
    schema = output.get("schema")
    if not isinstance(schema, dict):
        raise NodeError("A json_schema output needs a `schema` object.")
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise NodeError(f"The output schema is not a valid JSON Schema: {exc.message}") from None
    return schema


def _messages(ctx: NodeContext, items: list) -> list[dict]:
    messages = []
    for item in items:
        if not isinstance(item, dict) or item.get("role") not in ("system", "user", "assistant"):
            raise NodeError("Each message needs a role (system, user or assistant) and content.")
        messages.append({"role": item["role"], "content": ctx.render(str(item.get("content") or ""))})
    return messages


# --- tools --------------------------------------------------------------------------------------


def tool_spec(item: dict) -> ToolSpec:
    """What the model is told about an http or file_search tool (fine-tuning exports repeat it)."""
    kind = item.get("type")
    name = TOOL_NAME_RE.sub("_", str(item.get("name") or ""))[:64]
    if not name:
        raise NodeError("Every tool needs a name.")
    if kind == "http":
        params = item.get("body_schema") or {"type": "object", "properties": {}}
    elif kind == "file_search":
        params = FILE_SEARCH_PARAMETERS
    else:
        raise NodeError(f"Tool {name!r}: unsupported tool type {kind!r} (use 'http', 'mcp' or 'file_search').")
    default = (
        f"Searches the knowledge base {item.get('knowledge_base')!r}; answers ranked chunks with file and chunk "
        "ids to cite."
        if kind == "file_search"
        else f"Calls {name}."
    )
    return ToolSpec(name=name, description=str(item.get("description") or default), parameters=params)


def _tools(ctx: NodeContext, items: list) -> dict[str, dict]:
    tools: dict[str, dict] = {}
    for item in items:
        kind = item.get("type")
        if kind == "mcp":
            for name, entry in agent_tools.mcp_tools(ctx, item, lambda n: TOOL_NAME_RE.sub("_", n)[:64]):
                if name in tools:
                    raise NodeError(f"Two tools are named {name!r}.")
                tools[name] = entry
            continue
        spec = tool_spec(item)
        if spec.name in tools:
            raise NodeError(f"Two tools are named {spec.name!r}.")
        tools[spec.name] = {"config": item, "spec": spec}
    return tools


async def _run_tool(ctx: NodeContext, tools: dict, call: ToolCall, key_suffix: str) -> str:
    tool = tools.get(call.name)
    if tool is None:
        return f"Error: there is no tool named {call.name!r}."
    try:
        arguments = json.loads(call.arguments or "{}")
    except ValueError:
        return f"Error: the arguments were not valid JSON: {call.arguments[:200]}"
    if not isinstance(arguments, dict):
        arguments = {"value": arguments}
    config = tool["config"]
    if config["type"] == "mcp":
        # On the I/O loop, like the model call (the server row and its secrets are read through ctx.blocking).
        return _clip(ctx, await agent_tools.run_mcp_tool(ctx, config, arguments))
    if config["type"] == "file_search":
        # Like the file_search node: database reads on the run's thread, the query's embedding on the I/O loop.
        return _clip(ctx, await _run_file_search_tool(ctx, config, arguments))
    return await _run_http_tool(ctx, config, arguments, key_suffix)


async def _run_file_search_tool(ctx: NodeContext, config: dict, arguments: dict) -> str:
    query = str(arguments.get("query") or "").strip()
    if not query:
        return "Error: the search needs a non-empty `query`."
    try:
        ref, top_k = str(config.get("knowledge_base") or ""), int(config.get("top_k") or 5)
        plan = await ctx.blocking(plan_knowledge_search, ctx, ref=ref, query=query, top_k=top_k)
        kb_id, results = str(plan.kb.id), await search_planned(ctx, plan)
    except NodeError as exc:
        return f"Error: {exc.message}"
    cited = [
        {
            "file_id": r["file_id"],
            "file_name": r["file_name"],
            "chunk_id": r["chunk_id"],
            "score": round(r["score"], 4),
            **{k: r["metadata"][k] for k in ("page", "heading") if k in r["metadata"]},
            "text": r["text"],
        }
        for r in results
    ]
    # The knowledge base's id and the query travel with the answer: the trace keeps them (agent_tools) for
    # the run detail's citations.
    return json.dumps({"query": query, "knowledge_base_id": kb_id, "results": cited}, ensure_ascii=False)


async def _run_http_tool(ctx: NodeContext, config: dict, arguments: dict, key_suffix: str) -> str:
    method = str(config.get("method") or "GET").upper()
    url = ctx.render(str(config.get("url") or ""))
    arguments = dict(arguments)

    def fill(match: re.Match) -> str:
        # `{name}` path parameters come from the model's arguments.
        return quote(str(arguments.pop(match.group(1), "")), safe="")

    url = PATH_PARAM_RE.sub(fill, url)
    headers = {str(k): ctx.render(str(v)) for k, v in (config.get("headers") or {}).items()}
    if config.get("auth"):
        headers.update(await ctx.blocking(auth_headers, ctx, config.get("auth")))  # reads a secret
    params, body = (arguments or None, None) if method in ("GET", "DELETE", "HEAD") else (None, arguments)
    if method not in ("GET", "HEAD") and ctx.idempotency_key:
        headers.setdefault("Idempotency-Key", f"{ctx.idempotency_key}:{key_suffix}")
    try:
        response = await net.guarded_request_async(
            method,
            url,
            headers=headers,
            params=params,
            json=body,
            timeout_s=ctx.remaining_s(30.0),
            max_bytes=settings.HTTP_MAX_RESPONSE_BYTES,
        )
    except net.BlockedURLError as exc:
        raise NodeError(f"Tool URL refused: {exc}", code="blocked_url") from None
    except (httpx.HTTPError, net.ResponseTooLargeError) as exc:
        return f"Error: the request failed: {exc}"
    prefix = "" if response.is_success else f"HTTP {response.status_code}: "
    return _clip(ctx, prefix + response.text)


def _clip(ctx: NodeContext, text: str) -> str:
    text = ctx.redact(text)  # before cutting: a cut secret would no longer be recognised
    return text if len(text) <= TOOL_OUTPUT_MAX_CHARS else text[:TOOL_OUTPUT_MAX_CHARS] + "…(truncated)"
