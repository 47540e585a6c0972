"""An OpenAI-compatible front for published workflows: `POST /v1/chat/completions` and `POST /v1/responses`.

`model` is `workflow:<id-or-name>[@<version>]`; auth is a Trellis API token. The last user message becomes
`workflow.input.message` (the whole conversation is `workflow.input.messages` when the start schema
allows it); the run's output text (or JSON) is the reply. With `stream: true` the tokens of the agent
node(s) that feed an End node are streamed live from the run's `step.delta` events."""

import json
import time
import uuid
from functools import lru_cache

from django.conf import settings
from django.db import connection, transaction
from django.http import JsonResponse, StreamingHttpResponse
from django.views.decorators.csrf import csrf_exempt

from accounts.authentication import token_lookup
from accounts.models import Role
from accounts.permissions import require_token_role
from builder.models import Workflow
from builder.selectors import version_cached
from runs.models import Run
from runs.persistence import sql
from runs.replies import answer_nodes, reply_text
from runs.services import run_start, run_wait
from runs.triggers.threads import in_thread
from runs.triggers.waiting import DONE_EVENTS, Listener
from trellis.bodies import json_body
from trellis.errors import ApplicationError, error_body

TERMINAL = {"succeeded", "failed", "cancelled", "timed_out"}


def _error(exc: ApplicationError) -> JsonResponse:
    body = error_body(exc.code, exc.message, exc.details)
    # OpenAI clients read error.type and error.message; the Trellis shape is kept and extended.
    body["error"]["type"] = "invalid_request_error" if exc.status < 500 else "server_error"
    return JsonResponse(body, status=exc.status, headers=exc.headers)


# --- request → run ---------------------------------------------------------------------------------


def _text_of(content) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                parts.append(part["text"])
        return "".join(parts)
    return str(content)


def chat_messages(body: dict) -> list[dict]:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ApplicationError("validation_error", "messages must be a non-empty list.", [{"field": "messages"}])
    out = []
    for message in messages:
        if not isinstance(message, dict) or "role" not in message:
            raise ApplicationError("validation_error", "Each message needs a role.", [{"field": "messages"}])
        out.append({"role": message["role"], "content": _text_of(message.get("content"))})
    return out


def responses_messages(body: dict) -> list[dict]:
    out = []
    if isinstance(body.get("instructions"), str) and body["instructions"]:
        out.append({"role": "system", "content": body["instructions"]})
    items = body.get("input")
    if isinstance(items, str):
        out.append({"role": "user", "content": items})
    elif isinstance(items, list):
        for item in items:
            if isinstance(item, dict) and "role" in item and item.get("type", "message") == "message":
                out.append({"role": item["role"], "content": _text_of(item.get("content"))})
    if not any(m["role"] == "user" for m in out):
        raise ApplicationError("validation_error", "input must contain a user message.", [{"field": "input"}])
    return out


def parse_model(model) -> tuple[str, str | int]:
    if not isinstance(model, str) or not model.startswith("workflow:"):
        raise ApplicationError(
            "model_not_found",
            "model must be 'workflow:<id or name>' optionally followed by '@<version>'.",
            [{"field": "model"}],
            status=404,
        )
    ref, _, version = model.removeprefix("workflow:").partition("@")
    if not version or version == "published":
        return ref, "published"
    if version == "draft":
        return ref, "draft"
    if version.isdigit():
        return ref, int(version)
    raise ApplicationError("model_not_found", f"Unknown version {version!r}.", [{"field": "model"}], status=404)


def _authenticate(request):
    """The request's API token, with its user's role in its workspace (`require_token_role`), or 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    token = token_lookup(raw.strip(), with_role=True) if scheme.lower() == "bearer" else None
    if token is None:
        raise ApplicationError(
            "invalid_api_key", "Send a Trellis API token as 'Authorization: Bearer trl_…'.", status=401
        )
    request.user, request.auth = token.user, token
    return token


def _workflow_for(token, ref: str):
    """The token's workspace's workflow `ref` (id, or a name matching one workflow only, case aside), with its
    published version from the per-process cache of immutable versions. Hand-written: it is read before a streamed
    answer's first token, and building the ORM's query cost more than running it."""
    try:
        key, params = "id", [sql.prep(Workflow._meta.pk, uuid.UUID(ref))]
    except ValueError:
        key, params = "name", sorted({ref, ref.replace("-", " ")})
    statement = _workflow_statement(connection.vendor, key, len(params))
    with connection.cursor() as cursor:
        cursor.execute(statement, [sql.prep(Workflow._meta.get_field("workspace"), token.workspace_id), *params])
        rows = cursor.fetchmany(2)
    workflow = sql.from_row(Workflow, rows[0]) if len(rows) == 1 else None
    if workflow is None:
        raise ApplicationError("model_not_found", f"No workflow {ref!r} in this workspace.", status=404)
    if workflow.published_version_id is not None:
        workflow.published_version = version_cached(workflow.published_version_id, workflow.pk)
    return workflow


@lru_cache(maxsize=8)
def _workflow_statement(vendor: str, key: str, n_params: int) -> str:
    quote = connection.ops.quote_name
    meta = Workflow._meta
    if key == "id":
        match = f"{quote(meta.pk.column)} = %s"
    else:  # iexact: what the ORM compares on SQLite (LIKE) and PostgreSQL (UPPER) alike, for the names users type
        match = " OR ".join([f"UPPER({quote(meta.get_field('name').column)}) = UPPER(%s)"] * n_params)
    return (
        f"SELECT {sql.columns(Workflow, meta.concrete_fields)} FROM {sql.table(Workflow)} "
        f"WHERE {quote(meta.get_field('workspace').column)} = %s AND {quote(meta.get_field('archived_at').column)} "
        f"IS NULL AND ({match}) LIMIT 2"
    )


def _graph_for(workflow, version) -> dict:
    if version == "draft":
        return workflow.draft_graph or {}
    if version == "published":
        return workflow.published_version.graph if workflow.published_version_id else {}
    found = workflow.versions.filter(number=version).first()
    return found.graph if found else {}


def run_input_for(graph: dict, messages: list[dict]) -> dict:
    user = [m for m in messages if m["role"] == "user"]
    run_input = {"message": user[-1]["content"] if user else ""}
    schema = next(
        (n.get("config", {}).get("input_schema") for n in graph.get("nodes", []) if n.get("type") == "start"), None
    )
    schema = schema if isinstance(schema, dict) else {}
    if schema.get("additionalProperties", True) is not False or "messages" in schema.get("properties", {}):
        run_input["messages"] = messages
    return run_input


def _start(request, body: dict, messages: list[dict], *, join):
    token = _authenticate(request)
    ref, version = parse_model(body.get("model"))
    workflow = _workflow_for(token, ref)
    require_token_role(token, Role.EDITOR)  # the workflow is in the token's workspace
    graph = _graph_for(workflow, version)

    with transaction.atomic():
        run = run_start(
            workflow=workflow,
            version=version,
            input=run_input_for(graph, messages),
            trigger={
                "type": "openai",
                "trigger_id": None,
                "headers": {},
                "query": {},
                "model": body.get("model"),
                "token_id": str(token.pk),  # the API token's budget applies to the run
            },
            by=token.user,
            caller_waits=True,
        )
        # Listen to the run's events before it is dispatched (on commit), so no token is missed.
        join(run.pk)
    return run, answer_nodes(graph)


def _wait(run_id, timeout_s: float):
    return run_wait(run_id=run_id, timeout_s=timeout_s)


def _load_run(run_id):
    return Run.objects.get(pk=run_id)


# --- run → reply -------------------------------------------------------------------------------------


def usage_of(run) -> tuple[int, int]:
    usage = getattr(run, "usage", None) or {}
    return int(usage.get("input_tokens") or 0), int(usage.get("output_tokens") or 0)


def _check_finished(run) -> None:
    if run.status == "succeeded":
        return
    if run.status not in TERMINAL:
        raise ApplicationError(
            "run_timeout",
            f"The run {run.pk} did not finish within {settings.OPENAI_COMPAT_TIMEOUT_S} s.",
            [{"run_id": str(run.pk), "status": run.status}],
            status=504,
        )
    error = run.error or {}
    raise ApplicationError(
        "run_failed",
        f"The workflow run {run.status}: {error.get('message', 'no details')}",
        [{"run_id": str(run.pk), "status": run.status, "error": error}],
        status=502,
    )


def chat_completion_body(run, model: str) -> dict:
    input_tokens, output_tokens = usage_of(run)
    return {
        "id": f"chatcmpl-{run.pk.hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": reply_text(run.output), "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "prompt_tokens": input_tokens,
            "completion_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        },
        "trellis": {"run_id": str(run.pk)},
    }


def _response_usage(run) -> dict:
    input_tokens, output_tokens = usage_of(run)
    return {
        "input_tokens": input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": input_tokens + output_tokens,
    }


def response_body(run, model: str, *, status: str = "completed", text: str | None = None) -> dict:
    text = reply_text(run.output) if text is None else text
    message = {
        "type": "message",
        "id": f"msg_{run.pk.hex}",
        "status": "completed" if status == "completed" else "in_progress",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}] if status == "completed" else [],
    }
    return {
        "id": f"resp_{run.pk.hex}",
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "model": model,
        "output": [message] if status == "completed" else [],
        "parallel_tool_calls": False,
        "tool_choice": "auto",
        "tools": [],
        "usage": _response_usage(run) if status == "completed" else None,
        "metadata": {"trellis_run_id": str(run.pk)},
    }


# --- streaming -----------------------------------------------------------------------------------------


async def run_tokens(run, answer: set[str], listener: Listener, timeout_s: float):
    """Yield ("text", piece) for the answer nodes' streamed tokens, then ("done", run) once the run ends."""
    async for event in listener.events(timeout_s):
        if event is None:
            current = await in_thread(_load_run)(run.pk)
            if current.status in TERMINAL:
                yield ("done", current)
                return
            continue
        kind = event.get("type")
        if kind == "step.delta" and (not answer or event.get("node_id") in answer):
            text = (event.get("data") or {}).get("text")
            if text:
                yield ("text", text)
        elif kind in DONE_EVENTS:
            yield ("done", await in_thread(_load_run)(run.pk))
            return
    yield ("done", await in_thread(_load_run)(run.pk))


def _sse(data: dict, event: str | None = None) -> str:
    prefix = f"event: {event}\n" if event else ""
    return f"{prefix}data: {json.dumps(data, ensure_ascii=False)}\n\n"


def _remainder(streamed: str, final: str) -> str:
    """What the client has not seen yet of the final reply (all of it when nothing matched)."""
    if final.startswith(streamed):
        return final[len(streamed) :]
    return "" if streamed else final


async def stream_chat(run, answer, listener: Listener, model: str, include_usage: bool):
    chunk_id = f"chatcmpl-{run.pk.hex}"
    created = int(time.time())

    def chunk(delta: dict, finish=None) -> str:
        return _sse(
            {
                "id": chunk_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
        )

    yield chunk({"role": "assistant", "content": ""})
    streamed = ""
    async for kind, value in run_tokens(run, answer, listener, settings.OPENAI_COMPAT_TIMEOUT_S):
        if kind == "text":
            streamed += value
            yield chunk({"content": value})
            continue
        final = value
        if final.status != "succeeded":
            try:
                _check_finished(final)
            except ApplicationError as exc:
                yield _sse(error_body(exc.code, exc.message, exc.details))
                yield "data: [DONE]\n\n"
                return
        rest = _remainder(streamed, reply_text(final.output))
        if rest:
            yield chunk({"content": rest})
        yield chunk({}, finish="stop")
        if include_usage:
            input_tokens, output_tokens = usage_of(final)
            yield _sse(
                {
                    "id": chunk_id,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [],
                    "usage": {
                        "prompt_tokens": input_tokens,
                        "completion_tokens": output_tokens,
                        "total_tokens": input_tokens + output_tokens,
                    },
                }
            )
        yield "data: [DONE]\n\n"


async def stream_response(run, answer, listener: Listener, model: str):
    seq = 0

    def event(kind: str, **fields) -> str:
        nonlocal seq
        seq += 1
        return _sse({"type": kind, "sequence_number": seq, **fields}, event=kind)

    item_id = f"msg_{run.pk.hex}"
    started = response_body(run, model, status="in_progress")
    yield event("response.created", response=started)
    yield event("response.in_progress", response=started)
    item = {"type": "message", "id": item_id, "status": "in_progress", "role": "assistant", "content": []}
    yield event("response.output_item.added", output_index=0, item=item)
    part = {"type": "output_text", "text": "", "annotations": []}
    yield event("response.content_part.added", item_id=item_id, output_index=0, content_index=0, part=part)
    streamed = ""

    def delta(text: str) -> str:
        return event(
            "response.output_text.delta", item_id=item_id, output_index=0, content_index=0, delta=text, logprobs=[]
        )

    async for kind, value in run_tokens(run, answer, listener, settings.OPENAI_COMPAT_TIMEOUT_S):
        if kind == "text":
            streamed += value
            yield delta(value)
            continue
        final = value
        if final.status != "succeeded":
            try:
                _check_finished(final)
            except ApplicationError as exc:
                failed = response_body(final, model, status="failed")
                failed["error"] = {"code": "server_error", "message": exc.message}
                yield event("response.failed", response=failed)
                return
        text = reply_text(final.output)
        rest = _remainder(streamed, text)
        if rest:
            yield delta(rest)
        yield event(
            "response.output_text.done", item_id=item_id, output_index=0, content_index=0, text=text, logprobs=[]
        )
        done_part = {"type": "output_text", "text": text, "annotations": []}
        yield event("response.content_part.done", item_id=item_id, output_index=0, content_index=0, part=done_part)
        body = response_body(final, model, text=text)
        yield event("response.output_item.done", output_index=0, item=body["output"][0])
        yield event("response.completed", response=body)


async def _closing(stream, listener: Listener):
    try:
        async for chunk in stream:
            yield chunk
    finally:
        await listener.close()


# --- views ------------------------------------------------------------------------------------------------


async def _serve(request, *, api: str):
    if request.method != "POST":
        return _error(ApplicationError("method_not_allowed", "Use POST.", status=405))
    try:
        body = json_body(request)
        messages = chat_messages(body) if api == "chat" else responses_messages(body)
        model = body.get("model")
        listener = await Listener.open()
        try:
            run, answer = await in_thread(_start)(request, body, messages, join=listener.join)
        except BaseException:
            await listener.close()
            raise
        if body.get("stream"):
            if api == "chat":
                include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
                stream = stream_chat(run, answer, listener, model, include_usage)
            else:
                stream = stream_response(run, answer, listener, model)
            response = StreamingHttpResponse(_closing(stream, listener), content_type="text/event-stream")
            response["Cache-Control"] = "no-cache"
            response["X-Accel-Buffering"] = "no"
            return response
        try:
            await listener.wait(settings.OPENAI_COMPAT_TIMEOUT_S)
        finally:
            await listener.close()
        run = await in_thread(_load_run)(run.pk)
        _check_finished(run)
    except ApplicationError as exc:
        return _error(exc)
    return JsonResponse(chat_completion_body(run, model) if api == "chat" else response_body(run, model))


def _models(request) -> list[dict]:
    token = _authenticate(request)
    require_token_role(token, Role.VIEWER)
    workflows = Workflow.objects.filter(
        workspace_id=token.workspace_id, archived_at__isnull=True, published_version__isnull=False
    ).order_by("name")
    return [
        {"id": f"workflow:{wf.pk}", "object": "model", "created": int(wf.created_at.timestamp()), "owned_by": wf.name}
        for wf in workflows
    ]


async def models(request):
    """`GET /v1/models`: the published workflows of the token's workspace, as OpenAI clients list models."""
    if request.method != "GET":
        return _error(ApplicationError("method_not_allowed", "Use GET.", status=405))
    try:
        data = await in_thread(_models)(request)
    except ApplicationError as exc:
        return _error(exc)
    return JsonResponse({"object": "list", "data": data})


@csrf_exempt
async def chat_completions(request):
    return await _serve(request, api="chat")


@csrf_exempt
async def responses(request):
    return await _serve(request, api="responses")
