"""CEL expressions for conditions, mappings and `{{ … }}` template holes (DESIGN §5).

User text is only ever parsed and evaluated as CEL, by our own parser and evaluator (`parser.py`,
`interpreter.py`; why not a binding: see `interpreter.py`), never by Python `eval`. Every evaluation
runs under a cost budget (comprehension iterations plus bytes allocated, EXPRESSION_MAX_COST) and a
deadline (EXPRESSION_TIMEOUT_MS); going over either raises `ExpressionLimitError`.

Scope names: workflow.input, input, nodes.<id>.output, state.<var>, run.id, run.started_at,
trigger.type/headers/query, loop.index.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings

from builder.expressions import parser as ast
from builder.expressions.functions import format_timestamp
from builder.expressions.interpreter import METER, CompileError, build
from builder.expressions.values import TYPES, CelError, CelType, LimitExceeded, Meter, Optional

SCOPE_ROOTS = frozenset({"workflow", "input", "nodes", "state", "run", "trigger", "loop"})
MAX_EXPRESSION_LENGTH = 10_000


class ExpressionError(Exception):
    """An expression that does not compile or fails at run time; `position` is an offset into the source."""

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return self.message


class ExpressionLimitError(ExpressionError):
    """An evaluation went over its cost budget (`limit == "cost"`) or its deadline (`limit == "time"`)."""

    def __init__(self, message: str, limit: str):
        super().__init__(message)
        self.limit = limit


# --- Compile and analyse --------------------------------------------------------------------------


@dataclass(frozen=True)
class ExpressionInfo:
    """What an expression refers to, found statically (no evaluation)."""

    roots: frozenset[str]  # scope names used: workflow, nodes, state, … (and unknown names)
    nodes: frozenset[str]  # ids in nodes.<id> / nodes["<id>"]
    state: frozenset[str]  # names in state.<var> / state["<var>"]
    dynamic_nodes: bool  # nodes[...] with a computed key, or the whole map
    dynamic_state: bool
    functions: frozenset[str]


class Program:
    """A compiled expression: its syntax tree, what it refers to, and the closure that evaluates it."""

    __slots__ = ("source", "info", "run")

    def __init__(self, source: str, tree: ast.Node):
        self.source = source
        self.info = _analyze(tree)
        self.run = build(tree)


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> Program:
    """Compile a CEL expression (cached). Raises ExpressionError with the offset of a syntax error."""
    if not isinstance(source, str):
        raise ExpressionError("An expression must be a string.")
    if not source.strip():
        raise ExpressionError("The expression is empty.", 0)
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"The expression is longer than {MAX_EXPRESSION_LENGTH} characters.", 0)
    try:
        return Program(source, ast.parse(source))
    except (ast.ParseError, CompileError) as exc:
        raise ExpressionError(f"Syntax error at position {exc.position}: {exc.detail}", exc.position) from None


def _analyze(tree: ast.Node) -> ExpressionInfo:
    roots: set[str] = set()
    nodes: set[str] = set()
    state: set[str] = set()
    dynamic = {"nodes": False, "state": False}
    functions: set[str] = set()
    names = {"nodes": nodes, "state": state}

    def member(node: ast.Node) -> str | None:
        """The field name of `nodes.<x>` / `nodes['x']` (or state), else None."""
        if isinstance(node, ast.Select):
            return node.name
        if isinstance(node, ast.Index) and isinstance(node.index, ast.Const) and isinstance(node.index.value, str):
            return node.index.value
        return None

    def walk(node: ast.Node, bound: frozenset[str], parent: ast.Node | None) -> None:
        if isinstance(node, ast.Ident):
            if node.name in bound:
                return
            if node.name in TYPES and node.name not in SCOPE_ROOTS:
                return
            roots.add(node.name)
            if node.name in names:
                field = member(parent) if parent is not None and _operand(parent) is node else None
                if field is None:
                    dynamic[node.name] = True
                else:
                    names[node.name].add(field)
            return
        if isinstance(node, ast.Call):
            functions.add(node.function)
        if isinstance(node, ast.Comprehension):
            walk(node.range, bound, node)
            for arg in node.args:
                walk(arg, bound | {node.var}, node)
            return
        for child in ast.children(node):
            walk(child, bound, node)

    walk(tree, frozenset(), None)
    return ExpressionInfo(
        roots=frozenset(roots),
        nodes=frozenset(nodes),
        state=frozenset(state),
        dynamic_nodes=dynamic["nodes"],
        dynamic_state=dynamic["state"],
        functions=frozenset(functions),
    )


def _operand(node: ast.Node) -> ast.Node | None:
    return node.operand if isinstance(node, (ast.Select, ast.Index)) else None


def analyze(source: str) -> ExpressionInfo:
    """Compile `source` and report the names it refers to. Raises ExpressionError."""
    return compile_expression(source).info


def referenced_roots(source: str) -> set[str]:
    return set(analyze(source).roots)


def referenced_nodes(source: str) -> set[str]:
    return set(analyze(source).nodes)


def referenced_state(source: str) -> set[str]:
    return set(analyze(source).state)


def uses_loop(source: str) -> bool:
    return "loop" in analyze(source).roots


def unknown_roots(source: str) -> set[str]:
    """Names that are neither scope names nor comprehension variables (e.g. a typo like `nodse`)."""
    return set(analyze(source).roots - SCOPE_ROOTS)


# --- Evaluate -----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """CEL results as JSON-ish Python values."""
    if value is None or isinstance(value, (bool, str, float)):
        return value
    if isinstance(value, int):
        return int(value)  # a uint too
    if isinstance(value, dict):
        return {k if isinstance(k, str) else str(_plain(k)).lower(): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return format_timestamp(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    if isinstance(value, Optional):
        return _plain(value.value) if value.has_value() else None
    if isinstance(value, CelType):
        return value.name
    return str(value)


def _runtime_error(exc: CelError) -> ExpressionError:
    message = exc.message
    if message.startswith("No such overload"):
        message += " CEL does not mix types (int and double included): convert with int(), double() or string()."
    return ExpressionError(message)


def evaluate(source: str, scope: dict, *, max_cost: int | None = None, timeout_ms: float | None = None) -> Any:
    """Evaluate `source` with the given scope; returns JSON-ish values.

    Raises ExpressionError, or ExpressionLimitError past the cost budget or the deadline (the settings
    EXPRESSION_MAX_COST and EXPRESSION_TIMEOUT_MS unless given)."""
    program = compile_expression(source)
    info = program.info
    env: dict[str, Any] = {}
    for name in info.roots:
        if name not in scope:
            raise ExpressionError(f"'{name}' is not defined here.")
        env[name] = scope[name]
    meter = env[METER] = Meter(
        settings.EXPRESSION_MAX_COST if max_cost is None else max_cost,
        settings.EXPRESSION_TIMEOUT_MS if timeout_ms is None else timeout_ms,
    )
    try:
        return _plain(program.run(env))
    except CelError as exc:
        raise _runtime_error(exc) from None
    except LimitExceeded as exc:
        raise ExpressionLimitError(exc.message, exc.limit) from None
    except RecursionError:
        raise ExpressionError("The expression nests too deeply to evaluate.") from None
    finally:
        meter.close()


# --- Templates ----------------------------------------------------------------------------------


def template_expressions(template: str) -> list[tuple[str, int]]:
    """Each `{{ expr }}` hole as (expression source, offset of the expression in the template).

    The closing `}}` is found outside string literals and balanced braces, so a map literal
    inside a hole does not end it. Raises ExpressionError for an unclosed or empty hole.
    """
    return [(source, offset) for source, offset, _, _ in _holes(template)]


@lru_cache(maxsize=4096)
def _holes(template: str) -> tuple[tuple[str, int, int, int], ...]:
    """(source, source offset, hole start, hole end) for each hole."""
    if "{{" not in template:
        return ()
    holes: list[tuple[str, int, int, int]] = []
    pos = 0
    n = len(template)
    while True:
        start = template.find("{{", pos)
        if start < 0:
            return tuple(holes)
        i = start + 2
        depth = 0
        quote: str | None = None
        end = -1
        while i < n:
            ch = template[i]
            if quote:
                if ch == "\\":
                    i += 2
                    continue
                if template.startswith(quote, i):
                    i += len(quote)
                    quote = None
                    continue
            elif ch in "\"'":
                quote = template[i : i + 3] if template[i : i + 3] in ('"""', "'''") else ch
                i += len(quote)
                continue
            elif ch == "{":
                depth += 1
            elif ch == "}":
                if depth == 0 and template.startswith("}}", i):
                    end = i
                    break
                depth = max(depth - 1, 0)
            i += 1
        if end < 0:
            raise ExpressionError(f"Unclosed '{{{{' at position {start}.", start)
        raw = template[start + 2 : end]
        stripped = raw.strip()
        if not stripped:
            raise ExpressionError(f"Empty '{{{{ }}}}' at position {start}.", start)
        holes.append((stripped, start + 2 + (len(raw) - len(raw.lstrip())), start, end + 2))
        pos = end + 2


def render_template(template: str, scope: dict) -> str:
    """Replace each hole with its value: strings as they are, anything else as JSON."""
    if "{{" not in template:
        return template
    parts: list[str] = []
    pos = 0
    for source, offset, start, end in _holes(template):
        parts.append(template[pos:start])
        try:
            value = evaluate(source, scope)
        except ExpressionLimitError as exc:
            raise ExpressionLimitError(f"In '{{{{ {source} }}}}': {exc.message}", exc.limit) from None
        except ExpressionError as exc:
            raise ExpressionError(f"In '{{{{ {source} }}}}': {exc.message}", offset) from None
        parts.append(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        pos = end
    parts.append(template[pos:])
    return "".join(parts)


def check_template(template: str) -> list[ExpressionError]:
    """Every problem in a template (unclosed holes, syntax errors), with offsets into the template."""
    try:
        holes = template_expressions(template)
    except ExpressionError as exc:
        return [exc]
    errors = []
    for source, offset in holes:
        try:
            compile_expression(source)
        except ExpressionError as exc:
            pos = offset + exc.position if exc.position is not None else offset
            errors.append(ExpressionError(exc.message.replace(f"position {exc.position}", f"position {pos}"), pos))
    return errors
