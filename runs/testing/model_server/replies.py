"""The fake model's canned decisions: echo the user, call a tool the prompt names, fill a JSON schema
with something sensible (intent by keyword, jailbreak score by phrase, pass/fail by insult)."""

from __future__ import annotations

import json
import re
from typing import Any

from runs.testing.model_server.conversation import Conversation

MODELS = ["gpt-4.1-mini", "gpt-4.1", "gpt-4o-mini", "gpt-4o", "gpt-5-mini", "trellis-test"]
INTENT_KEYWORDS = [
    ("refund", ("refund", "money back", "reimburse")),
    ("billing", ("invoice", "charge", "bill", "payment", "price")),
    ("bug", ("bug", "error", "crash", "broken", "doesn't work", "does not work")),
    ("technical", ("bug", "error", "crash", "broken", "doesn't work", "does not work", "password", "login", "install")),
    ("cancel", ("cancel", "unsubscribe", "close my account")),
    ("greeting", ("hello", "hi ", "good morning")),
]
JAILBREAK_PHRASES = (
    "ignore previous instructions",
    "ignore all previous",
    "ignore your instructions",
    "disregard the above",
    "developer mode",
    "jailbreak",
    "do anything now",
    "reveal your system prompt",
    "pretend you have no rules",
)
INSULTS = ("idiot", "stupid", "loser", "hate", "shut up", "[[fail-check]]")


def classify_intent(text: str, choices: list | None = None) -> str:
    low = f" {text.lower()} "
    if choices:
        for choice in choices:
            if isinstance(choice, str) and re.search(rf"\b{re.escape(choice.lower())}\b", low):
                return choice
        for intent, words in INTENT_KEYWORDS:
            if intent in choices and any(w in low for w in words):
                return intent
        fallback = [c for c in choices if str(c).lower() in ("other", "unknown", "none", "general")]
        return fallback[0] if fallback else choices[0]
    for intent, words in INTENT_KEYWORDS:
        if any(w in low for w in words):
            return intent
    return "question"


def jailbreak_score(text: str) -> float:
    low = text.lower()
    hits = sum(1 for phrase in JAILBREAK_PHRASES if phrase in low)
    return 0.05 if hits == 0 else min(0.99, 0.9 + 0.03 * hits)


def _subject(conv: Conversation) -> str:
    return conv.last_user or conv.prompt


def sample(schema: Any, conv: Conversation, name: str = "", depth: int = 0) -> Any:
    """A value valid for `schema` that says something sensible about the conversation."""
    if not isinstance(schema, dict) or depth > 8:
        return _subject(conv)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return classify_intent("\n".join(conv.user) or conv.prompt, list(schema["enum"]))
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            options = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return sample(options[0], conv, name, depth + 1)
    if schema.get("allOf"):
        merged: dict = {}
        for part in schema["allOf"]:
            merged.update(part)
        return sample(merged, conv, name, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    low = name.lower()
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties") or {}
        return {key: sample(sub, conv, key, depth + 1) for key, sub in props.items()}
    if kind == "array":
        count = max(1, int(schema.get("minItems", 1)))
        return [sample(schema.get("items") or {"type": "string"}, conv, name, depth + 1) for _ in range(count)]
    if kind == "boolean":
        if low in ("passed", "pass", "ok", "valid", "meets_criterion", "compliant", "safe"):
            return not any(word in conv.prompt.lower() for word in INSULTS)
        if low in ("flagged", "is_jailbreak", "unsafe", "violation"):
            return jailbreak_score(_subject(conv)) >= 0.5
        return True
    if kind in ("number", "integer"):
        if "maximum" in schema and schema["maximum"] > 1:
            # A rating on a wide scale (e.g. a lead score 0-100): the middle of the range.
            value: float = (schema.get("minimum", 0) + schema["maximum"]) / 2
        elif low in ("score", "probability", "confidence", "likelihood", "jailbreak_score", "risk"):
            value = jailbreak_score(_subject(conv))
        else:
            value = schema.get("minimum", 1)
        if kind == "integer":
            value = int(round(value))
        if "maximum" in schema:
            value = min(value, schema["maximum"])
        if "minimum" in schema:
            value = max(value, schema["minimum"])
        return value
    if low in ("intent", "category", "label", "topic", "classification"):
        return classify_intent("\n".join(conv.user) or conv.prompt)
    if conv.tool_results:
        text = f"{conv.tool_results[-1][0]} returned {conv.tool_results[-1][1]}"
    elif low in ("reason", "explanation", "rationale"):
        text = "Decided by the local test model's keyword rules."
    else:
        text = _subject(conv)
    max_len = schema.get("maxLength")
    return text[:max_len] if max_len else text


JUDGE_SCHEMA_NAME = "trellis_grader"
FINE_TUNED_PREFIX = "Fine-tuned answer: "


def _line_after(text: str, label: str) -> str | None:
    for line in text.splitlines():
        if line.lower().startswith(label):
            return line[len(label) :].strip()
    return None


def judge(conv: Conversation) -> dict:
    """An eval judge's verdict (evals/graders.py), deterministic: the score is 1 when the prompt's `Output:`
    line equals its `Expected:` line (ignoring case and spaces), else the share of expected words the output
    has, to two decimals; a label is picked from the enum by keyword like any other enum. `[[no-score]]`
    in the prompt answers an object without the score."""
    if "[[no-score]]" in conv.prompt:
        return {"verdict": "no score today"}
    props = (conv.schema or {}).get("properties") or {}
    answer: dict = {}
    for key, sub in props.items():
        if key != "score":
            answer[key] = sample(sub, conv, key)
            continue
        output = _line_after(conv.prompt, "output:")
        expected = _line_after(conv.prompt, "expected:")
        if output is None or expected is None:
            answer[key] = 0.5
        elif " ".join(output.lower().split()) == " ".join(expected.lower().split()):
            answer[key] = 1.0
        else:
            want = set(expected.lower().split())
            answer[key] = round(len(want & set(output.lower().split())) / len(want), 2) if want else 0.0
    return answer


def decide(conv: Conversation) -> dict:
    """-> {"kind": "text", "text": …} or {"kind": "tool", "name": …, "arguments": {...}}."""
    if conv.schema is not None and conv.schema_name == JUDGE_SCHEMA_NAME:
        return {"kind": "text", "text": json.dumps(judge(conv))}
    if conv.tools and not conv.tool_results and conv.tool_choice != "none":
        low = conv.prompt.lower()
        for tool in conv.tools:
            names = {tool["name"].lower(), tool["name"].lower().replace("_", " ")}
            if any(n in low for n in names):
                params = tool.get("parameters") or {"type": "object", "properties": {}}
                return {"kind": "tool", "name": tool["name"], "arguments": sample(params, conv)}
    if conv.schema is not None:
        broken = "[[always-invalid-json]]" in conv.prompt or (
            "[[invalid-json]]" in conv.prompt and not any(conv.assistant)
        )
        value = {"unexpected": True} if broken else sample(conv.schema, conv)
        return {"kind": "text", "text": json.dumps(value)}
    if conv.tool_results:
        name, output = conv.tool_results[-1]
        return {"kind": "text", "text": f"The {name} tool returned: {output}"}
    text = f"You said: {conv.last_user}"
    if conv.model.startswith("ft:"):
        # A model fine-tuned on the local server (finetuning.py) answers recognisably differently.
        text = f"{FINE_TUNED_PREFIX}{conv.last_user}"
    if "[[slow]]" in conv.prompt:
        text = " ".join(["slow"] * 300)
    return {"kind": "text", "text": text}
