"""Evaluates an output mapping: a single expression, or a (nested) map of key -> expression."""

from typing import Any

from runs.executors.base import NodeContext, NodeError


def evaluate_mapping(ctx: NodeContext, mapping: Any, field: str = "output") -> Any:
    if mapping is None:
        return None
    if isinstance(mapping, str):
        return ctx.evaluate(mapping)
    if isinstance(mapping, dict):
        out = {}
        for key, value in mapping.items():
            try:
                out[key] = evaluate_mapping(ctx, value, f"{field}.{key}")
            except NodeError as exc:
                if exc.details is None:
                    exc.details = {"field": f"{field}.{key}"}
                raise
        return out
    if isinstance(mapping, list):
        return [evaluate_mapping(ctx, v, f"{field}[{i}]") for i, v in enumerate(mapping)]
    return mapping  # numbers, booleans and null are literals
