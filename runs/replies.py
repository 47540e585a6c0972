"""A run as a chat reply: which nodes' streamed tokens are the reply, and the reply text of a run's output.
Shared by the OpenAI-compatible endpoints (runs/triggers/openai_compat.py) and chat deployments (chat/)."""

import json


def answer_nodes(graph: dict) -> set[str]:
    """Agent nodes that feed an End node: their tokens are the reply being streamed."""
    types = {n.get("id"): n.get("type") for n in graph.get("nodes", [])}
    return {
        e.get("source")
        for e in graph.get("edges", [])
        if types.get(e.get("target")) == "end" and types.get(e.get("source")) == "agent"
    }


def reply_text(output) -> str:
    """A string output is the reply; an object with a single string field is that string; else JSON."""
    if output is None:
        return ""
    if isinstance(output, str):
        return output
    if isinstance(output, dict) and len(output) == 1:
        (value,) = output.values()
        if isinstance(value, str):
            return value
    return json.dumps(output, ensure_ascii=False)
