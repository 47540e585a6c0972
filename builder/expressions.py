"""CEL expressions for conditions, mappings and `{{ … }}` template holes (DESIGN §5).

User text is only ever compiled and run by CEL (the Rust-backed `common-expression-language`
package, `import cel`): never by Python `eval`. Measured on this machine for
`nodes.triage.output.intent == "refund" && size(workflow.input.message) > 2`:
cel 13 µs per evaluation and 27 µs per compile; pure-Python cel-python 0.5.0 296 µs per
evaluation and 241 µs per compile. Both pass our correctness cases (`has()`, `map`/`filter`/
`exists`, string functions, null, int vs double comparisons); cel also reports parse errors with
a line and column, which we turn into an offset for the editor. Known quirk: cel's `size()` of a
string counts UTF-8 bytes, not code points.

Scope names: workflow.input, input, nodes.<id>.output, state.<var>, run.id, run.started_at,
trigger.type/headers/query, loop.index.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import cel
from cel import stdlib as cel_stdlib

SCOPE_ROOTS = frozenset({"workflow", "input", "nodes", "state", "run", "trigger", "loop"})
MAX_EXPRESSION_LENGTH = 10_000
MACROS = frozenset({"all", "exists", "exists_one", "map", "filter"})

# Extra functions from cel's stdlib (lowerAscii, split, join, math.greatest, …), keyed by name.
_STDLIB = dict(cel_stdlib.STDLIB_FUNCTIONS)
_STDLIB_NAMESPACES = frozenset(name.split(".", 1)[0] for name in _STDLIB if "." in name)


class ExpressionError(Exception):
    """An expression that does not compile or fails at run time; `position` is an offset into the source."""

    def __init__(self, message: str, position: int | None = None):
        super().__init__(message)
        self.message = message
        self.position = position

    def __str__(self) -> str:
        return self.message


# --- Tokens -------------------------------------------------------------------------------------

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+|//[^\n]*)
  | (?P<string>(?:[rR][bB]?|[bB][rR]?)?
        (?:\"\"\"(?:\\.|[^\\])*?\"\"\"|'''(?:\\.|[^\\])*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'))
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?[uU]?|0[xX][0-9a-fA-F]+[uU]?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>\.\?|[.\[\](){},:?!<>=&|+\-*/%])
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    pos: int


def _tokens(source: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while pos < len(source):
        m = _TOKEN_RE.match(source, pos)
        if m is None:
            out.append(_Token("other", source[pos], pos))
            pos += 1
            continue
        kind = m.lastgroup or "other"
        if kind != "ws":
            out.append(_Token(kind, m.group(), pos))
        pos = m.end()
    return out


def _string_value(text: str) -> str | None:
    """The value of a plain (non-raw, non-bytes) string literal without escapes, else None."""
    if text[:1] in "rRbB":
        return None
    body = text[3:-3] if text[:3] in ('"""', "'''") else text[1:-1]
    return None if "\\" in body else body


# --- Compile and analyse --------------------------------------------------------------------------

_ERROR_LOCATION = re.compile(r"<input>:(\d+):(\d+):\s*(.*)")


def _offset(source: str, line: int, column: int) -> int:
    lines = source.split("\n")
    offset = sum(len(text) + 1 for text in lines[: max(line - 1, 0)])
    return min(offset + max(column - 1, 0), len(source))


def _syntax_error(source: str, raw: str) -> ExpressionError:
    m = _ERROR_LOCATION.search(raw)
    if not m:
        return ExpressionError(f"Syntax error: {raw.splitlines()[0] if raw else 'invalid expression'}")
    position = _offset(source, int(m.group(1)), int(m.group(2)))
    detail = m.group(3).strip()
    detail = re.sub(r"^Syntax error:\s*", "", detail)
    if detail.startswith("mismatched input '<EOF>'"):
        detail = "the expression ends too early"
    elif detail.startswith("token recognition error"):
        detail = "unexpected character (an unclosed string?)"
    else:
        detail = re.sub(r"\s*expecting \{.*\}$", "", detail)
    return ExpressionError(f"Syntax error at position {position}: {detail}", position)


# `loop` is a reserved word in CEL, but DESIGN §5 names the loop scope `loop`. As a root name it is
# renamed (same length, so error offsets still match) before compiling and in the scope.
_LOOP_ALIAS = "_lo_"


def _rename_reserved(source: str) -> str:
    if "loop" not in source:
        return source
    tokens = _tokens(source)
    out = source
    for i, tok in enumerate(tokens):
        if tok.kind == "ident" and tok.text == "loop" and not (i > 0 and tokens[i - 1].text in (".", ".?")):
            out = out[: tok.pos] + _LOOP_ALIAS + out[tok.pos + 4 :]
    return out


@lru_cache(maxsize=4096)
def compile_expression(source: str) -> cel.Program:
    """Compile a CEL expression (cached). Raises ExpressionError with the offset of a syntax error."""
    if not isinstance(source, str):
        raise ExpressionError("An expression must be a string.")
    if not source.strip():
        raise ExpressionError("The expression is empty.", 0)
    if len(source) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"The expression is longer than {MAX_EXPRESSION_LENGTH} characters.", 0)
    try:
        return cel.compile(_rename_reserved(source))
    except ValueError as exc:
        raise _syntax_error(source, str(exc)) from None
    except Exception as exc:  # the binding may raise other types for odd input
        raise ExpressionError(f"Syntax error: {exc}") from None


@dataclass(frozen=True)
class ExpressionInfo:
    """What an expression refers to, found statically (no evaluation)."""

    roots: frozenset[str]  # scope names used: workflow, nodes, state, … (and unknown names)
    nodes: frozenset[str]  # ids in nodes.<id> / nodes["<id>"]
    state: frozenset[str]  # names in state.<var> / state["<var>"]
    dynamic_nodes: bool  # nodes[...] with a computed key
    dynamic_state: bool
    functions: frozenset[str]
    stdlib: tuple[str, ...]  # names of the extra stdlib functions the expression calls


def _member_refs(tokens: list[_Token], root: str) -> tuple[set[str], bool]:
    names: set[str] = set()
    dynamic = False
    for i, tok in enumerate(tokens):
        if tok.kind != "ident" or tok.text != root:
            continue
        if i > 0 and tokens[i - 1].text in (".", ".?"):
            continue  # a field named like the root, e.g. input.nodes
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if nxt is None:
            dynamic = True
        elif nxt.text in (".", ".?") and i + 2 < len(tokens) and tokens[i + 2].kind == "ident":
            names.add(tokens[i + 2].text)
        elif (
            nxt.text == "["
            and i + 3 < len(tokens)
            and tokens[i + 2].kind == "string"
            and tokens[i + 3].text == "]"
            and _string_value(tokens[i + 2].text) is not None
        ):
            names.add(_string_value(tokens[i + 2].text) or "")
        else:
            dynamic = True  # the whole map is used, or indexed by a computed key
    return names, dynamic


def _comprehension_vars(tokens: list[_Token]) -> set[str]:
    found = set()
    for i in range(len(tokens) - 3):
        if (
            tokens[i].text == "."
            and tokens[i + 1].text in MACROS
            and tokens[i + 2].text == "("
            and tokens[i + 3].kind == "ident"
        ):
            found.add(tokens[i + 3].text)
    return found


@lru_cache(maxsize=4096)
def analyze(source: str) -> ExpressionInfo:
    """Compile `source` and report the names it refers to. Raises ExpressionError."""
    program = compile_expression(source)
    refs = program.references()
    variables = {"loop" if name == _LOOP_ALIAS else name for name in refs["variables"]}
    functions = frozenset(refs["functions"])
    tokens = _tokens(source)
    used_stdlib = tuple(
        sorted(
            name
            for name in _STDLIB
            if (
                (name.split(".", 1)[0] in variables and name.split(".", 1)[1] in functions)
                if "." in name
                else name in functions
            )
        )
    )
    namespaces = {name.split(".", 1)[0] for name in used_stdlib if "." in name}
    roots = variables - _comprehension_vars(tokens) - namespaces
    node_ids, dynamic_nodes = _member_refs(tokens, "nodes") if "nodes" in roots else (set(), False)
    state_vars, dynamic_state = _member_refs(tokens, "state") if "state" in roots else (set(), False)
    return ExpressionInfo(
        roots=frozenset(roots),
        nodes=frozenset(node_ids),
        state=frozenset(state_vars),
        dynamic_nodes=dynamic_nodes,
        dynamic_state=dynamic_state,
        functions=functions,
        stdlib=used_stdlib,
    )


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
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, dict):
        return {str(k) if not isinstance(k, str) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return base64.b64encode(value).decode("ascii")
    if isinstance(value, cel.OptionalValue):
        return _plain(value.value()) if value.has_value() else None
    return str(value)


def _runtime_error(exc: Exception) -> ExpressionError:
    if isinstance(exc, KeyError):
        key = exc.args[0] if exc.args else "?"
        return ExpressionError(f"No such key: '{key}'. Use has(...) to test for a field that may be missing.")
    if isinstance(exc, IndexError):
        return ExpressionError(f"Index out of range: {exc}")
    if isinstance(exc, ZeroDivisionError):
        return ExpressionError("Division by zero.")
    text = str(exc).strip() or type(exc).__name__
    # The binding's messages are long; the first sentence says what went wrong.
    first = re.split(r"(?<=[.:])\s+(?=[A-Z])", text, maxsplit=1)[0]
    if first.startswith(("No such overload", "Unsupported operation")):
        first += " CEL does not mix types (int and double included): convert with int(), double() or string()."
    return ExpressionError(first)


def evaluate(source: str, scope: dict) -> Any:
    """Evaluate `source` with the given scope; returns JSON-ish values. Raises ExpressionError."""
    info = analyze(source)
    program = compile_expression(source)
    variables = {}
    for name in info.roots:
        if name not in scope:
            raise ExpressionError(f"'{name}' is not defined here.")
        value = scope[name]
        if name == "nodes" and not info.dynamic_nodes and isinstance(value, dict):
            # Converting every earlier node's output is the cost that grows with a run; skip it.
            value = {k: value[k] for k in info.nodes if k in value}
        variables[_LOOP_ALIAS if name == "loop" else name] = value
    functions = {name: _STDLIB[name] for name in info.stdlib}
    try:
        result = program.execute(cel.Context(variables, functions) if functions else variables)
    except Exception as exc:
        raise _runtime_error(exc) from None
    return _plain(result)


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
