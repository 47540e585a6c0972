"""Graders are data (DESIGN §10): the shapes of OpenAI's grader objects plus `json_schema` and `cel`.

`grader_check` refuses a malformed grader (and a CEL expression that does not compile) before anything is
stored; `grade` scores one sample `{input, output, expected}` and says whether it passed the grader's
`pass_threshold`. Template holes and CEL see `input`, `output` and `expected`."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from typing import Any

import jsonschema
import openai
from rapidfuzz import fuzz

from accounts.services import secret_value
from builder.expressions import ExpressionError, compile_expression, evaluate, render_template, template_expressions
from runs.executors.base import NodeError
from runs.llm.prices import cost_usd
from runs.llm.providers import resolve_provider
from trellis import net
from trellis.errors import ApplicationError

GRADER_TYPES = ("string_check", "text_similarity", "json_schema", "cel", "score_model", "label_model", "multi")
STRING_OPERATIONS = ("eq", "ne", "like", "ilike")
SIMILARITY_METRICS = ("fuzzy_match", "bleu", "rouge_1", "rouge_2", "rouge_l")
JUDGE_SCHEMA_NAME = "trellis_grader"  # the local test model recognises judge requests by it
JUDGE_TIMEOUT_S = 60.0
MAX_GRADERS = 20


def _bad(message: str, field: str) -> ApplicationError:
    return ApplicationError("invalid_grader", message, [{"field": field, "message": message}])


def _text_field(grader: dict, key: str, where: str, default: str | None = None) -> None:
    value = grader.get(key, default)
    if not isinstance(value, str):
        raise _bad(f"{key} must be a template string.", f"{where}.{key}")
    for source, _ in template_expressions(value):
        try:
            compile_expression(source)
        except ExpressionError as exc:
            raise _bad(f"{key}: {exc}", f"{where}.{key}") from None


def _threshold(grader: dict, where: str) -> None:
    value = grader.get("pass_threshold")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise _bad("pass_threshold must be a number.", f"{where}.pass_threshold")


def _messages(grader: dict, where: str) -> None:
    messages = grader.get("input")
    if not isinstance(messages, list) or not messages:
        raise _bad("input must be a list of {role, content} messages (the rubric).", f"{where}.input")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("system", "developer", "user", "assistant"):
            raise _bad("Each message needs a role: system, developer, user or assistant.", f"{where}.input[{i}]")
        _text_field(message, "content", f"{where}.input[{i}]")
    if not isinstance(grader.get("model"), str) or not grader["model"].strip():
        raise _bad("A model grader needs a model.", f"{where}.model")


def grader_check(grader: Any, where: str = "graders[0]") -> dict:
    """The grader as given, or ApplicationError(invalid_grader) naming the field."""
    if not isinstance(grader, dict):
        raise _bad("A grader is an object.", where)
    kind = grader.get("type")
    if kind not in GRADER_TYPES:
        raise _bad(f"type must be one of {', '.join(GRADER_TYPES)}.", f"{where}.type")
    name = grader.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise _bad("A grader needs a name (at most 100 characters).", f"{where}.name")
    _threshold(grader, where)
    if kind == "string_check":
        _text_field(grader, "input", where, "{{ output }}")
        _text_field(grader, "reference", where, "{{ expected }}")
        if grader.get("operation", "eq") not in STRING_OPERATIONS:
            raise _bad(f"operation must be one of {', '.join(STRING_OPERATIONS)}.", f"{where}.operation")
    elif kind == "text_similarity":
        _text_field(grader, "input", where, "{{ output }}")
        _text_field(grader, "reference", where, "{{ expected }}")
        if grader.get("evaluation_metric", "fuzzy_match") not in SIMILARITY_METRICS:
            raise _bad(
                f"evaluation_metric must be one of {', '.join(SIMILARITY_METRICS)}.", f"{where}.evaluation_metric"
            )
    elif kind == "json_schema":
        schema = grader.get("schema")
        if not isinstance(schema, dict):
            raise _bad("schema must be a JSON Schema object.", f"{where}.schema")
        try:
            jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator).check_schema(schema)
        except jsonschema.SchemaError as exc:
            raise _bad(f"schema is not a valid JSON Schema: {exc.message}", f"{where}.schema") from None
    elif kind == "cel":
        expression = grader.get("expression")
        if not isinstance(expression, str) or not expression.strip():
            raise _bad("A cel grader needs an expression.", f"{where}.expression")
        try:
            compile_expression(expression)
        except ExpressionError as exc:
            raise _bad(f"The expression does not compile: {exc}", f"{where}.expression") from None
    elif kind == "score_model":
        _messages(grader, where)
        rng = grader.get("range", [0, 1])
        if (
            not isinstance(rng, list)
            or len(rng) != 2
            or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in rng)
            or rng[0] >= rng[1]
        ):
            raise _bad("range must be [low, high] with low < high.", f"{where}.range")
    elif kind == "label_model":
        _messages(grader, where)
        labels, passing = grader.get("labels"), grader.get("passing_labels")
        if not isinstance(labels, list) or not labels or not all(isinstance(v, str) for v in labels):
            raise _bad("labels must be a non-empty list of strings.", f"{where}.labels")
        if not isinstance(passing, list) or not passing or not set(passing) <= set(labels):
            raise _bad("passing_labels must be a non-empty subset of labels.", f"{where}.passing_labels")
    elif kind == "multi":
        graders = grader.get("graders")
        if not isinstance(graders, dict) or not graders:
            raise _bad("graders must map names to graders.", f"{where}.graders")
        for key, sub in graders.items():
            if isinstance(sub, dict) and sub.get("type") == "multi":
                raise _bad("A multi grader cannot hold another multi grader.", f"{where}.graders.{key}")
            grader_check({"name": key, **sub} if isinstance(sub, dict) else sub, f"{where}.graders.{key}")
        weights = grader.get("weights") or {}
        if not isinstance(weights, dict) or not all(
            k in graders and isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
            for k, v in weights.items()
        ):
            raise _bad("weights maps grader names to non-negative numbers.", f"{where}.weights")
        if sum(weights.get(k, 1) for k in graders) <= 0:
            raise _bad("The weights must not all be zero.", f"{where}.weights")
    return grader


def graders_check(graders: Any) -> list[dict]:
    if not isinstance(graders, list):
        raise _bad("graders must be a list.", "graders")
    if len(graders) > MAX_GRADERS:
        raise _bad(f"At most {MAX_GRADERS} graders.", "graders")
    names = set()
    for i, grader in enumerate(graders):
        grader_check(grader, f"graders[{i}]")
        if grader["name"] in names:
            raise _bad(f"Two graders are named {grader['name']!r}.", f"graders[{i}].name")
        names.add(grader["name"])
    return graders


# --- grading ----------------------------------------------------------------------------------------


@dataclass
class Sample:
    input: Any
    output: Any
    expected: Any

    @property
    def scope(self) -> dict:
        return {"input": self.input, "output": self.output, "expected": self.expected}


class GradeError(Exception):
    """A grader could not score this sample (the judge gave no score, the CEL failed at run time)."""


def _render(template: str, sample: Sample) -> str:
    try:
        return render_template(template, sample.scope)
    except ExpressionError as exc:
        raise GradeError(str(exc)) from None


def _default_threshold(grader: dict) -> float:
    if grader["type"] == "score_model":
        low, high = grader.get("range", [0, 1])
        return (low + high) / 2
    if grader["type"] in ("text_similarity", "multi"):
        return 0.5
    return 1.0


# What the judge calls of the grade() in progress on this thread cost (model graders report it as cost_usd).
_JUDGE_COST = threading.local()


def grade(grader: dict, sample: Sample, *, workspace_id=None) -> dict:
    """{score, passed} or {score: 0, passed: False, error} when the grader could not score the sample; model
    graders add the judge's cost_usd when the provider is priced."""
    threshold = grader.get("pass_threshold")
    threshold = _default_threshold(grader) if threshold is None else float(threshold)
    outer = getattr(_JUDGE_COST, "value", None)
    _JUDGE_COST.value = 0.0
    try:
        try:
            score, extra = _score(grader, sample, workspace_id)
        except GradeError as exc:
            result = {"score": 0.0, "passed": False, "error": str(exc)}
        else:
            result = {"score": round(float(score), 6), "passed": float(score) >= threshold}
            result.update(extra)
        if _JUDGE_COST.value:
            result["cost_usd"] = round(_JUDGE_COST.value, 8)
        return result
    finally:
        # A multi grader's parts add up into the outer grade's cost.
        _JUDGE_COST.value = (outer + _JUDGE_COST.value) if outer is not None else None


def _score(grader: dict, sample: Sample, workspace_id) -> tuple[float, dict]:
    kind = grader["type"]
    if kind == "string_check":
        given = _render(grader.get("input", "{{ output }}"), sample)
        reference = _render(grader.get("reference", "{{ expected }}"), sample)
        op = grader.get("operation", "eq")
        hit = {
            "eq": given == reference,
            "ne": given != reference,
            "like": reference in given,
            "ilike": reference.lower() in given.lower(),
        }[op]
        return (1.0 if hit else 0.0), {}
    if kind == "text_similarity":
        given = _render(grader.get("input", "{{ output }}"), sample)
        reference = _render(grader.get("reference", "{{ expected }}"), sample)
        return similarity(grader.get("evaluation_metric", "fuzzy_match"), given, reference), {}
    if kind == "json_schema":
        value = sample.output
        if "input" in grader:
            value = _render(grader["input"], sample)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return 0.0, {"reason": "not JSON"}
        errors = list(jsonschema.Draft202012Validator(grader["schema"]).iter_errors(value))
        return (0.0, {"reason": errors[0].message}) if errors else (1.0, {})
    if kind == "cel":
        try:
            value = evaluate(grader["expression"], sample.scope)
        except ExpressionError as exc:
            raise GradeError(f"The expression failed: {exc}") from None
        if isinstance(value, bool):
            return (1.0 if value else 0.0), {}
        if isinstance(value, int | float):
            return float(value), {}
        raise GradeError(f"The expression must give a bool or a number, not {type(value).__name__}.")
    if kind == "score_model":
        low, high = grader.get("range", [0, 1])
        answer = _judge(grader, sample, workspace_id, {"score": {"type": "number"}}, "score")
        score = answer.get("score")
        if isinstance(score, bool) or not isinstance(score, int | float):
            raise GradeError("The judge model returned no score.")
        return min(max(float(score), low), high), {}
    if kind == "label_model":
        schema = {"label": {"type": "string", "enum": list(grader["labels"])}}
        label = _judge(grader, sample, workspace_id, schema, "label").get("label")
        if label not in grader["labels"]:
            raise GradeError("The judge model returned no label from the list.")
        return (1.0 if label in grader["passing_labels"] else 0.0), {"label": label}
    if kind == "multi":
        graders = grader["graders"]
        weights = grader.get("weights") or {}
        total = sum(weights.get(k, 1) for k in graders)
        parts, score = {}, 0.0
        for key, sub in graders.items():
            part = grade({"name": key, **sub}, sample, workspace_id=workspace_id)
            if "error" in part:
                raise GradeError(f"{key}: {part['error']}")
            parts[key] = part["score"]
            score += weights.get(key, 1) * part["score"]
        return score / total, {"parts": parts}
    raise GradeError(f"Unknown grader type {kind!r}.")


_rouge = None
_rouge_lock = threading.Lock()


def similarity(metric: str, given: str, reference: str) -> float:
    """0..1: rapidfuzz's normalised Indel ratio, sacrebleu's sentence BLEU, Google's rouge-score F-measure."""
    if metric == "fuzzy_match":
        return fuzz.ratio(given, reference) / 100.0
    if metric == "bleu":
        from sacrebleu.metrics import BLEU

        return BLEU(effective_order=True).sentence_score(given, [reference]).score / 100.0
    global _rouge
    with _rouge_lock:
        if _rouge is None:
            from rouge_score import rouge_scorer

            _rouge = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
    key = {"rouge_1": "rouge1", "rouge_2": "rouge2", "rouge_l": "rougeL"}[metric]
    return _rouge.score(reference, given)[key].fmeasure


class _Ctx:
    """What runs.llm.providers.resolve_provider reads from a node context: the workspace and its secrets."""

    def __init__(self, workspace_id):
        self.workspace_id = str(workspace_id) if workspace_id else ""

    def resolve_secret(self, name: str) -> str:
        return secret_value(workspace_id=self.workspace_id, name=name)


def _judge(grader: dict, sample: Sample, workspace_id, properties: dict, field: str) -> dict:
    """Ask the grader's model (through a workspace provider, with the SSRF guard) for a JSON verdict."""

    try:
        provider = resolve_provider(_Ctx(workspace_id), grader.get("provider"))
    except NodeError as exc:
        raise GradeError(str(exc)) from None
    messages = [{"role": m["role"], "content": _render(m["content"], sample)} for m in grader["input"]]
    schema = {"type": "object", "properties": properties, "required": [field], "additionalProperties": False}
    try:
        with net.guarded_client(timeout_s=JUDGE_TIMEOUT_S, guard=provider.guard) as http_client:
            client = openai.OpenAI(
                api_key=provider.api_key, base_url=provider.base_url, http_client=http_client, max_retries=1
            )
            reply = client.chat.completions.create(
                model=grader["model"],
                messages=messages,
                response_format={
                    "type": "json_schema",
                    "json_schema": {"name": JUDGE_SCHEMA_NAME, "schema": schema, "strict": True},
                },
                **({"temperature": grader["sampling_params"]["temperature"]} if "sampling_params" in grader else {}),
            )
    except Exception as exc:  # any transport or API failure: the sample is ungraded, with the reason
        raise GradeError(f"The judge model could not be reached: {exc}") from None
    if provider.priced and reply.usage is not None:
        spent = cost_usd(reply.model or grader["model"], reply.usage.prompt_tokens, reply.usage.completion_tokens)
        if spent is not None:  # a judge model without a known price adds no cost rather than failing the grade
            _JUDGE_COST.value = getattr(_JUDGE_COST, "value", 0.0) + spent
    text = (reply.choices[0].message.content or "").strip() if reply.choices else ""
    try:
        answer = json.loads(text)
    except ValueError:
        raise GradeError(f"The judge model returned no {field}.") from None
    if not isinstance(answer, dict):
        raise GradeError(f"The judge model returned no {field}.")
    return answer
