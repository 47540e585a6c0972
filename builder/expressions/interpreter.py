"""Turns a syntax tree into a tree of Python closures and runs it against a scope, under a `Meter`.

Why our own evaluator (measured in bench/bench_expressions.py): the Rust binding we used before
(`common-expression-language` 0.10) expands `map`/`filter` into a comprehension that copies its
accumulator list on every step, so `map` over 20,000 items took 8.7 s, and it runs holding the GIL with no
way to stop it; the C++ binding (`cel-expr-python` 0.1.3) is quadratic the same way and stops at a fixed
10,000 iterations; pure-Python cel-python takes about 300 µs for a simple condition. Here every loop and
allocation is metered, comprehensions append in place (linear), and scope values are read as they are
instead of being converted on every call. Being Python, a long evaluation also gives up the GIL every few
milliseconds, so the rest of the process keeps answering.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

from builder.expressions import parser as ast
from builder.expressions.functions import FUNCTIONS, less
from builder.expressions.parser import UInt
from builder.expressions.values import (
    NO_SUCH_OVERLOAD,
    NUMBERS,
    TYPES,
    CelError,
    LimitExceeded,
    Meter,
    Optional,
    check_int,
    check_uint,
    equal,
)

METER = " meter"  # the key of the evaluation's Meter in the activation (no identifier can spell it)

Closure = Callable[[dict], Any]


class CompileError(Exception):
    def __init__(self, detail: str, position: int):
        super().__init__(detail)
        self.detail = detail
        self.position = position


def _missing_key(key) -> CelError:
    return CelError(f"No such key: '{key}'. Use has(...) to test for a field that may be missing.")


def build(node: ast.Node) -> Closure:
    """A closure that evaluates `node` against an activation dict (scope names plus METER)."""
    return _BUILDERS[type(node)](node)


# --- Leaves -----------------------------------------------------------------------------------------


def _const(node: ast.Const) -> Closure:
    value = node.value
    return lambda env: value


def _ident(node: ast.Ident) -> Closure:
    name = node.name
    fallback = TYPES.get(name)

    def ident(env):
        try:
            return env[name]
        except KeyError:
            if fallback is not None:
                return fallback
            raise CelError(f"'{name}' is not defined here.") from None

    return ident


# --- Member access ----------------------------------------------------------------------------------


def _select(node: ast.Select) -> Closure:
    operand = build(node.operand)
    name = node.name

    if node.optional:

        def select_optional(env):
            value = operand(env)
            if isinstance(value, Optional):
                if not value.has_value():
                    return value
                value = value.value
            if isinstance(value, dict):
                return Optional(value[name]) if name in value else Optional.NONE
            raise CelError(f"Cannot select '{name}' from a {type(value).__name__}.")

        return select_optional

    def select(env):
        value = operand(env)
        try:
            return value[name]
        except KeyError:
            raise _missing_key(name) from None
        except TypeError:
            if isinstance(value, Optional):
                return _select_in_optional(value, name)
            raise CelError(f"Cannot select '{name}': the value is {_kind(value)}, not a map.") from None

    return select


def _select_in_optional(value: Optional, name: str) -> Optional:
    if not value.has_value():
        return value
    inner = value.value
    if isinstance(inner, dict):
        if name not in inner:
            raise _missing_key(name)
        return Optional(inner[name])
    raise CelError(f"Cannot select '{name}': the value is {_kind(inner)}, not a map.")


def _kind(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__.replace('str', 'string').replace('float', 'double')}"


def _index(node: ast.Index) -> Closure:
    operand = build(node.operand)
    index = build(node.index)
    optional = node.optional

    def lookup(container, key):
        if isinstance(container, list):
            if type(key) not in (int, UInt) and not (type(key) is float and key == int(key)):
                raise CelError(NO_SUCH_OVERLOAD)
            i = int(key)
            if not 0 <= i < len(container):
                if optional:
                    return Optional.NONE
                raise CelError(f"Index out of range: {i} (the list has {len(container)} items).")
            return Optional(container[i]) if optional else container[i]
        if isinstance(container, dict):
            if type(key) is float and key == int(key):
                key = int(key)
            try:
                value = container[key]
            except KeyError:
                if optional:
                    return Optional.NONE
                raise _missing_key(key) from None
            except TypeError:
                raise CelError(NO_SUCH_OVERLOAD) from None
            return Optional(value) if optional else value
        if isinstance(container, Optional):
            if not container.has_value():
                return container
            found = lookup(container.value, key)
            return found if optional else Optional(found)
        raise CelError(f"Cannot index {_kind(container)}.")

    return lambda env: lookup(operand(env), index(env))


def _has(node: ast.Has) -> Closure:
    operand = build(node.select.operand)
    name = node.select.name

    def has(env):
        value = operand(env)
        if isinstance(value, dict):
            return name in value
        if isinstance(value, Optional):
            return value.has_value() and isinstance(value.value, dict) and name in value.value
        raise CelError(f"has() needs a map, but '{name}' is looked up in {_kind(value)}.")

    return has


# --- Calls and comprehensions -----------------------------------------------------------------------


def _call(node: ast.Call) -> Closure:
    impl = FUNCTIONS.get(node.function)
    if impl is None:
        raise CompileError(f"unknown function '{node.function}'", node.pos)
    parts = ([build(node.target)] if node.target is not None else []) + [build(a) for a in node.args]
    name = node.function

    def call(env):
        args = [part(env) for part in parts]
        try:
            return impl(env[METER], *args)
        except TypeError:
            # Wrong number of arguments (the implementations check their types themselves).
            raise CelError(f"No such overload: {name}() does not take {len(args)} argument(s).") from None
        except (ValueError, OverflowError, ArithmeticError) as exc:
            raise CelError(f"{name}(): {exc}") from None

    return call


def _comprehension(node: ast.Comprehension) -> Closure:
    items_of = build(node.range)
    var = node.var
    macro = node.macro
    args = [build(a) for a in node.args]
    missing = object()

    def run(env):
        collection = items_of(env)
        if isinstance(collection, dict):
            items = list(collection)
        elif isinstance(collection, list):
            items = collection
        else:
            raise CelError(f"{macro}() iterates over a list or a map, not {_kind(collection)}.")
        meter: Meter = env[METER]
        saved = env.get(var, missing)
        try:
            return _LOOPS[macro](env, meter, var, items, args)
        finally:
            if saved is missing:
                env.pop(var, None)
            else:
                env[var] = saved

    return run


def _loop_map(env, meter, var, items, args):
    meter.reserve(8 * len(items))
    out = []
    append = out.append
    if len(args) == 1:
        transform = args[0]
        for item in items:
            meter.used += 1
            if meter.used > meter.check_at:
                meter.check()
            env[var] = item
            append(transform(env))
    else:
        keep, transform = args
        for item in items:
            meter.used += 1
            if meter.used > meter.check_at:
                meter.check()
            env[var] = item
            verdict = keep(env)
            if verdict is True:
                append(transform(env))
            elif verdict is not False:
                raise CelError(NO_SUCH_OVERLOAD)
    return out


def _loop_filter(env, meter, var, items, args):
    meter.reserve(8 * len(items))
    keep = args[0]
    out = []
    for item in items:
        meter.used += 1
        if meter.used > meter.check_at:
            meter.check()
        env[var] = item
        verdict = keep(env)
        if verdict is True:
            out.append(item)
        elif verdict is not False:
            raise CelError(NO_SUCH_OVERLOAD)
    return out


def _quantifier(stop_on: bool):
    """all() stops at the first false, exists() at the first true; an error elsewhere only counts when no
    item decides the answer (CEL's commutative logic)."""

    def loop(env, meter, var, items, args):
        predicate = args[0]
        error = None
        for item in items:
            meter.used += 1
            if meter.used > meter.check_at:
                meter.check()
            env[var] = item
            try:
                verdict = predicate(env)
            except CelError as exc:
                error = error or exc
                continue
            if verdict is stop_on:
                return stop_on
            if verdict is not (not stop_on):
                error = error or CelError(NO_SUCH_OVERLOAD)
        if error is not None:
            raise error
        return not stop_on

    return loop


def _loop_exists_one(env, meter, var, items, args):
    predicate = args[0]
    count = 0
    for item in items:
        meter.used += 1
        if meter.used > meter.check_at:
            meter.check()
        env[var] = item
        verdict = predicate(env)
        if verdict is True:
            count += 1
        elif verdict is not False:
            raise CelError(NO_SUCH_OVERLOAD)
    return count == 1


_LOOPS = {
    "map": _loop_map,
    "filter": _loop_filter,
    "all": _quantifier(False),
    "exists": _quantifier(True),
    "exists_one": _loop_exists_one,
}


# --- Literals ---------------------------------------------------------------------------------------


def _list(node: ast.ListLit) -> Closure:
    parts = [build(item) for item in node.items]
    size = 8 * len(parts)

    def make(env):
        env[METER].charge(size)
        return [part(env) for part in parts]

    return make


def _map(node: ast.MapLit) -> Closure:
    entries = [(build(k), build(v)) for k, v in node.entries]
    size = 32 * len(entries)

    def make(env):
        env[METER].charge(size)
        out = {}
        for key_of, value_of in entries:
            key = key_of(env)
            if type(key) not in (str, int, UInt, bool):
                raise CelError(f"A map key must be a string, int, uint or bool, not {_kind(key)}.")
            if key in out:
                raise CelError(f"Duplicate key '{key}' in a map literal.")
            out[key] = value_of(env)
        return out

    return make


# --- Operators --------------------------------------------------------------------------------------


def _add(meter: Meter, a, b):
    ta = type(a)
    if ta is type(b):
        if ta is int:
            return check_int(a + b)
        if ta is float:
            return a + b
        if ta is str or ta is bytes:
            meter.reserve(len(a) + len(b))
            return a + b
        if ta is list:
            meter.reserve(8 * (len(a) + len(b)))
            return a + b
        if ta is UInt:
            return check_uint(a + b)
    if isinstance(a, dt.timedelta) and isinstance(b, (dt.timedelta, dt.datetime)):
        return _time_arith(lambda: b + a)
    if isinstance(a, dt.datetime) and isinstance(b, dt.timedelta):
        return _time_arith(lambda: a + b)
    raise CelError(NO_SUCH_OVERLOAD)


def _time_arith(compute):
    try:
        return compute()
    except OverflowError:
        raise CelError("The timestamp or duration is out of range.") from None


def _sub(meter: Meter, a, b):
    ta = type(a)
    if ta is type(b):
        if ta is int:
            return check_int(a - b)
        if ta is float:
            return a - b
        if ta is UInt:
            return check_uint(a - b)
    if isinstance(a, dt.datetime) and isinstance(b, (dt.datetime, dt.timedelta)):
        return _time_arith(lambda: a - b)
    if isinstance(a, dt.timedelta) and isinstance(b, dt.timedelta):
        return a - b
    raise CelError(NO_SUCH_OVERLOAD)


def _mul(meter: Meter, a, b):
    ta = type(a)
    if ta is type(b):
        if ta is int:
            return check_int(a * b)
        if ta is float:
            return a * b
        if ta is UInt:
            return check_uint(a * b)
    raise CelError(NO_SUCH_OVERLOAD)


def _div(meter: Meter, a, b):
    ta = type(a)
    if ta is type(b):
        if ta is int or ta is UInt:
            if b == 0:
                raise CelError("Division by zero.")
            q = abs(a) // abs(b)
            q = q if (a >= 0) == (b >= 0) else -q  # CEL truncates toward zero
            return check_int(q) if ta is int else UInt(q)
        if ta is float:
            if b == 0:
                return math.nan if a == 0 or math.isnan(a) else math.copysign(math.inf, a) * math.copysign(1, b)
            return a / b
    raise CelError(NO_SUCH_OVERLOAD)


def _mod(meter: Meter, a, b):
    ta = type(a)
    if ta is type(b) and (ta is int or ta is UInt):
        if b == 0:
            raise CelError("Modulus by zero.")
        r = abs(a) % abs(b)
        return -r if a < 0 else ta(r)  # the remainder takes the dividend's sign
    raise CelError(NO_SUCH_OVERLOAD)


def _in(meter: Meter, item, container):
    if isinstance(container, list):
        meter.charge(len(container))
        return any(equal(item, x, meter) for x in container)
    if isinstance(container, dict):
        try:
            return item in container
        except TypeError:
            return False
    raise CelError(NO_SUCH_OVERLOAD)


_OPERATORS = {
    "+": _add,
    "-": _sub,
    "*": _mul,
    "/": _div,
    "%": _mod,
    "in": _in,
    "==": lambda m, a, b: equal(a, b, m),
    "!=": lambda m, a, b: not equal(a, b, m),
    "<": lambda m, a, b: less(a, b, m),
    ">": lambda m, a, b: less(b, a, m),
    "<=": lambda m, a, b: not less(b, a, m) and _ordered(a, b),
    ">=": lambda m, a, b: not less(a, b, m) and _ordered(a, b),
}


def _ordered(a, b) -> bool:
    """False only for NaN: `x <= NaN` is false, as in IEEE 754."""
    return not (type(a) is float and math.isnan(a) or type(b) is float and math.isnan(b))


def _binary(node: ast.Binary) -> Closure:
    left = build(node.left)
    right = build(node.right)
    op = _OPERATORS[node.op]

    if node.op == "==":  # the commonest condition: skip the dispatch when both sides are plain strings

        def eq(env):
            a = left(env)
            b = right(env)
            if type(a) is str and type(b) is str and len(a) <= 256:
                return a == b
            return equal(a, b, env[METER])

        return eq

    return lambda env: op(env[METER], left(env), right(env))


def _unary(node: ast.Unary) -> Closure:
    operand = build(node.operand)
    if node.op == "!":

        def negate(env):
            value = operand(env)
            if type(value) is not bool:
                raise CelError(NO_SUCH_OVERLOAD)
            return not value

        return negate

    def minus(env):
        value = operand(env)
        t = type(value)
        if t is int:
            return check_int(-value)
        if t is float or isinstance(value, dt.timedelta):
            return -value
        raise CelError(NO_SUCH_OVERLOAD)

    return minus


def _logical(node: ast.Logical) -> Closure:
    operands = [build(o) for o in node.operands]
    decisive = node.op == "||"  # the value that decides: true for ||, false for &&

    def logical(env):
        error = None
        for operand in operands:
            try:
                value = operand(env)
            except CelError as exc:
                error = error or exc
                continue
            if value is decisive:
                return decisive
            if value is not (not decisive):
                error = error or CelError(NO_SUCH_OVERLOAD)
        if error is not None:
            raise error
        return not decisive

    return logical


def _conditional(node: ast.Conditional) -> Closure:
    condition = build(node.condition)
    then = build(node.then)
    otherwise = build(node.otherwise)

    def choose(env):
        value = condition(env)
        if value is True:
            return then(env)
        if value is False:
            return otherwise(env)
        raise CelError(NO_SUCH_OVERLOAD)

    return choose


_BUILDERS: dict[type, Callable[[Any], Closure]] = {
    ast.Const: _const,
    ast.Ident: _ident,
    ast.Select: _select,
    ast.Index: _index,
    ast.Has: _has,
    ast.Call: _call,
    ast.Comprehension: _comprehension,
    ast.ListLit: _list,
    ast.MapLit: _map,
    ast.Binary: _binary,
    ast.Unary: _unary,
    ast.Logical: _logical,
    ast.Conditional: _conditional,
}

__all__ = ["METER", "CelError", "CompileError", "LimitExceeded", "Meter", "NUMBERS", "build"]
