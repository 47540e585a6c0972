"""The functions an expression can call: CEL's standard functions and conversions, plus the extension
libraries that cel-go ships (strings, math, lists, sets, base64, optional).

Each implementation takes the evaluation's `Meter` first. Whatever allocates in proportion to its input
reserves that cost before allocating, so that no single call can build more than the budget allows.
`matches` uses RE2 (linear time): a user's pattern can never backtrack for minutes.
"""

from __future__ import annotations

import base64 as _base64
import datetime as dt
import math as _math
import re
import zoneinfo
from collections.abc import Callable

import re2

from builder.expressions.parser import UInt
from builder.expressions.values import (
    INT64_MAX,
    INT64_MIN,
    NO_SUCH_OVERLOAD,
    NUMBERS,
    UINT64_MAX,
    CelError,
    Meter,
    Optional,
    check_int,
    equal,
    less,
    type_of,
)

FUNCTIONS: dict[str, Callable] = {}


def function(*names: str):
    def register(fn):
        for name in names or (fn.__name__.rstrip("_"),):
            FUNCTIONS[name] = fn
        return fn

    return register


def _str(value) -> str:
    if type(value) is not str:
        raise CelError(NO_SUCH_OVERLOAD)
    return value


def _int(value) -> int:
    if type(value) not in (int, UInt):
        raise CelError(NO_SUCH_OVERLOAD)
    return int(value)


def _list(value) -> list:
    if not isinstance(value, list):
        raise CelError(NO_SUCH_OVERLOAD)
    return value


# --- Core ----------------------------------------------------------------------------------------------


@function()
def size(m: Meter, value):
    if isinstance(value, (str, bytes, list, dict)):
        return len(value)
    raise CelError(NO_SUCH_OVERLOAD)


@function()
def contains(m: Meter, value, item):
    if type(value) is str:
        m.charge(len(value) >> 4)
        return _str(item) in value
    if isinstance(value, list):
        m.charge(len(value))
        return any(equal(x, item, m) for x in value)
    raise CelError(NO_SUCH_OVERLOAD)


@function()
def startsWith(m: Meter, value, prefix):  # noqa: N802 (CEL's name)
    m.charge(len(_str(prefix)) >> 4)
    return _str(value).startswith(prefix)


@function()
def endsWith(m: Meter, value, suffix):  # noqa: N802
    m.charge(len(_str(suffix)) >> 4)
    return _str(value).endswith(suffix)


_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.max_mem = 8 << 20
_RE2_OPTIONS.log_errors = False


def _regex(pattern: str):
    try:
        return re2.compile(pattern, _RE2_OPTIONS)
    except re2.error as exc:
        raise CelError(f"Invalid regular expression '{pattern}': {exc}") from None


@function()
def matches(m: Meter, value, pattern):
    text = _str(value)
    m.charge(len(text) >> 4)
    return _regex(_str(pattern)).search(text) is not None


@function("dyn")
def dyn(m: Meter, value):
    return value


@function("type")
def type_(m: Meter, value):
    return type_of(value)


# --- Conversions -------------------------------------------------------------------------------------


@function("int")
def to_int(m: Meter, value):
    t = type(value)
    if t is int:
        return value
    if t is UInt:
        return check_int(int(value))
    if t is float:
        if _math.isnan(value) or not (INT64_MIN <= value < 2.0**63):
            raise CelError("int(): the double is out of the int range.")
        return int(value)
    if t is str:
        try:
            return check_int(int(value, 10))
        except ValueError:
            raise CelError(f"int(): '{value[:40]}' is not an integer.") from None
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    raise CelError(NO_SUCH_OVERLOAD)


@function("uint")
def to_uint(m: Meter, value):
    t = type(value)
    if t in (int, UInt):
        if not 0 <= value <= UINT64_MAX:
            raise CelError("uint(): the value is out of the uint range.")
        return UInt(value)
    if t is float:
        if _math.isnan(value) or not (0 <= value < 2.0**64):
            raise CelError("uint(): the double is out of the uint range.")
        return UInt(int(value))
    if t is str:
        try:
            return to_uint(m, int(value, 10))
        except ValueError:
            raise CelError(f"uint(): '{value[:40]}' is not an integer.") from None
    raise CelError(NO_SUCH_OVERLOAD)


@function("double")
def to_double(m: Meter, value):
    t = type(value)
    if t in NUMBERS:
        return float(value)
    if t is str:
        try:
            return float(value)
        except ValueError:
            raise CelError(f"double(): '{value[:40]}' is not a number.") from None
    raise CelError(NO_SUCH_OVERLOAD)


def format_timestamp(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def format_duration(value: dt.timedelta) -> str:
    seconds = value.total_seconds()
    return f"{seconds:g}s" if seconds != int(seconds) else f"{int(seconds)}s"


@function("string")
def to_string(m: Meter, value):
    t = type(value)
    if t is str:
        return value
    if t is bool:
        return "true" if value else "false"
    if t in (int, UInt):
        return str(int(value))
    if t is float:
        return repr(value) if value != int(value) or abs(value) >= 1e16 else str(int(value))
    if t is bytes:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise CelError("string(): the bytes are not valid UTF-8.") from None
    if isinstance(value, dt.datetime):
        return format_timestamp(value)
    if isinstance(value, dt.timedelta):
        return format_duration(value)
    raise CelError(NO_SUCH_OVERLOAD)


@function("bytes")
def to_bytes(m: Meter, value):
    if type(value) is bytes:
        return value
    m.reserve(len(_str(value)))
    return value.encode("utf-8")


@function("bool")
def to_bool(m: Meter, value):
    if type(value) is bool:
        return value
    text = _str(value)
    if text in ("true", "True", "TRUE", "t", "1"):
        return True
    if text in ("false", "False", "FALSE", "f", "0"):
        return False
    raise CelError(f"bool(): '{text[:40]}' is not a boolean.")


_MIN_TIME = dt.datetime(1, 1, 1, tzinfo=dt.UTC)


@function()
def timestamp(m: Meter, value):
    if isinstance(value, dt.datetime):
        return value
    if type(value) is int:
        try:
            return _MIN_TIME + dt.timedelta(seconds=value + 62135596800)
        except OverflowError:
            raise CelError("timestamp(): out of range.") from None
    try:
        parsed = dt.datetime.fromisoformat(_str(value))
    except ValueError:
        raise CelError(f"timestamp(): '{value[:40]}' is not an RFC 3339 timestamp.") from None
    if parsed.tzinfo is None:
        raise CelError(f"timestamp(): '{value[:40]}' has no time zone (add Z or an offset).")
    return parsed


_DURATION_RE = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(h|m|s|ms|us|µs|ns)")
_UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


@function()
def duration(m: Meter, value):
    if isinstance(value, dt.timedelta):
        return value
    text = _str(value)
    sign = -1 if text.startswith("-") else 1
    body = text.lstrip("+-")
    pos = 0
    total = 0.0
    for match in _DURATION_RE.finditer(body):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    if not body or pos != len(body):
        raise CelError(f"duration(): '{text[:40]}' is not a duration like '1h30m' or '2.5s'.")
    try:
        return dt.timedelta(seconds=sign * total)
    except OverflowError:
        raise CelError("duration(): out of range.") from None


def _zone(tz) -> dt.tzinfo:
    name = _str(tz)
    offset = re.fullmatch(r"([+-])(\d{2}):(\d{2})", name)
    if offset:
        minutes = int(offset.group(2)) * 60 + int(offset.group(3))
        return dt.timezone(dt.timedelta(minutes=minutes if offset.group(1) == "+" else -minutes))
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise CelError(f"Unknown time zone '{name[:40]}'.") from None


def _local(value, tz) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise CelError(NO_SUCH_OVERLOAD)
    return value.astimezone(_zone(tz) if tz is not None else dt.UTC)


def _timestamp_getter(name: str, part: Callable[[dt.datetime], int]):
    def getter(m: Meter, value, tz=None):
        if isinstance(value, dt.timedelta) and name in _DURATION_PARTS:
            return _DURATION_PARTS[name](value)
        return part(_local(value, tz))

    FUNCTIONS[name] = getter


_DURATION_PARTS = {
    "getHours": lambda d: int(d.total_seconds() // 3600),
    "getMinutes": lambda d: int(d.total_seconds() // 60),
    "getSeconds": lambda d: int(d.total_seconds()),
    "getMilliseconds": lambda d: int(d.total_seconds() * 1000),
}
for _name, _part in {
    "getFullYear": lambda t: t.year,
    "getMonth": lambda t: t.month - 1,
    "getDate": lambda t: t.day,
    "getDayOfMonth": lambda t: t.day - 1,
    "getDayOfWeek": lambda t: (t.weekday() + 1) % 7,
    "getDayOfYear": lambda t: t.timetuple().tm_yday - 1,
    "getHours": lambda t: t.hour,
    "getMinutes": lambda t: t.minute,
    "getSeconds": lambda t: t.second,
    "getMilliseconds": lambda t: t.microsecond // 1000,
}.items():
    _timestamp_getter(_name, _part)


# --- Strings -----------------------------------------------------------------------------------------


@function()
def charAt(m: Meter, value, index):  # noqa: N802
    text, i = _str(value), _int(index)
    if not 0 <= i <= len(text):
        raise CelError(f"charAt(): index {i} is out of range.")
    return text[i : i + 1]


@function()
def indexOf(m: Meter, value, sub, offset=0):  # noqa: N802
    text, i = _str(value), _int(offset)
    if not 0 <= i <= len(text):
        raise CelError(f"indexOf(): offset {i} is out of range.")
    m.charge(len(text) >> 4)
    return text.find(_str(sub), i)


@function()
def lastIndexOf(m: Meter, value, sub, offset=None):  # noqa: N802
    text = _str(value)
    end = len(text) if offset is None else _int(offset)
    if not 0 <= end <= len(text):
        raise CelError(f"lastIndexOf(): offset {end} is out of range.")
    m.charge(len(text) >> 4)
    return text.rfind(_str(sub), 0, end + len(_str(sub)))


@function()
def substring(m: Meter, value, start, end=None):
    text = _str(value)
    s = _int(start)
    e = len(text) if end is None else _int(end)
    if not 0 <= s <= e <= len(text):
        raise CelError(f"substring(): range [{s}, {e}) is out of range for a string of length {len(text)}.")
    m.reserve(e - s)
    return text[s:e]


@function()
def replace(m: Meter, value, old, new, limit=-1):
    text, old, new, n = _str(value), _str(old), _str(new), _int(limit)
    count = text.count(old) if old else len(text) + 1
    if n >= 0:
        count = min(count, n)
    m.reserve(len(text) + count * len(new))
    return text.replace(old, new, count)


@function()
def split(m: Meter, value, sep, limit=-1):
    text, sep, n = _str(value), _str(sep), _int(limit)
    m.reserve(len(text) + 8 * (len(text) if not sep else text.count(sep) + 1))
    if n == 0:
        return []
    if not sep:
        chars = list(text)
        return chars if n < 0 or n >= len(chars) else [*chars[: n - 1], text[n - 1 :]]
    return text.split(sep, n - 1 if n > 0 else -1)


@function()
def join(m: Meter, value, sep=""):
    items = _list(value)
    sep = _str(sep)
    m.reserve(sum(len(_str(s)) for s in items) + len(sep) * len(items))
    return sep.join(items)


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@function()
def lowerAscii(m: Meter, value):  # noqa: N802
    m.reserve(len(_str(value)))
    return value.translate(_ASCII_LOWER)


@function()
def upperAscii(m: Meter, value):  # noqa: N802
    m.reserve(len(_str(value)))
    return value.translate(_ASCII_UPPER)


@function()
def trim(m: Meter, value):
    m.reserve(len(_str(value)))
    return value.strip()


@function()
def reverse(m: Meter, value):
    if type(value) is str:
        m.reserve(len(value))
        return value[::-1]
    m.reserve(8 * len(_list(value)))
    return value[::-1]


@function("strings.quote")
def quote(m: Meter, value):
    text = _str(value)
    m.reserve(2 * len(text) + 2)
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return '"' + escaped.replace("\t", "\\t") + '"'


# --- Math --------------------------------------------------------------------------------------------


def _numbers(args) -> list:
    values = args[0] if len(args) == 1 and isinstance(args[0], list) else list(args)
    if not values:
        raise CelError("No values to compare.")
    for v in values:
        if type(v) not in NUMBERS:
            raise CelError(NO_SUCH_OVERLOAD)
    return values


@function("math.greatest", "max")
def greatest(m: Meter, *args):
    values = _numbers(args)
    m.charge(len(values))
    return max(values)


@function("math.least", "min")
def least(m: Meter, *args):
    values = _numbers(args)
    m.charge(len(values))
    return min(values)


@function("sum")
def sum_(m: Meter, *args):
    values = args[0] if len(args) == 1 and isinstance(args[0], list) else list(args)
    m.charge(len(values))
    kinds = {type(v) for v in values}
    if len(kinds) > 1 or not kinds <= set(NUMBERS):
        raise CelError(NO_SUCH_OVERLOAD)
    total = sum(values) if values else 0
    return check_int(total) if kinds != {float} else total


def _number(value):
    if type(value) not in NUMBERS:
        raise CelError(NO_SUCH_OVERLOAD)
    return value


def _double(value) -> float:
    if type(value) is not float:
        raise CelError(NO_SUCH_OVERLOAD)
    return value


FUNCTIONS.update(
    {
        "math.abs": lambda m, v: check_int(abs(_number(v))) if type(v) is int else abs(_number(v)),
        "math.sign": lambda m, v: type(_number(v))((v > 0) - (v < 0)),
        "math.ceil": lambda m, v: float(_math.ceil(_double(v))) if _math.isfinite(v) else v,
        "math.floor": lambda m, v: float(_math.floor(_double(v))) if _math.isfinite(v) else v,
        "math.trunc": lambda m, v: float(_math.trunc(_double(v))) if _math.isfinite(v) else v,
        "math.round": lambda m, v: (float(_math.floor(abs(v) + 0.5)) * (1 if v >= 0 else -1))
        if _math.isfinite(_double(v))
        else v,
        "math.isNaN": lambda m, v: _math.isnan(_double(v)),
        "math.isInf": lambda m, v: _math.isinf(_double(v)),
        "math.isFinite": lambda m, v: _math.isfinite(_double(v)),
        "math.sqrt": lambda m, v: _math.sqrt(_number(v)) if v >= 0 else _math.nan,
        "math.bitOr": lambda m, a, b: _bits(a, b, lambda x, y: x | y),
        "math.bitAnd": lambda m, a, b: _bits(a, b, lambda x, y: x & y),
        "math.bitXor": lambda m, a, b: _bits(a, b, lambda x, y: x ^ y),
        "math.bitNot": lambda m, a: ~_int(a) if type(a) is int else UInt(UINT64_MAX ^ a),
        "math.bitShiftLeft": lambda m, a, n: _shift(a, n, left=True),
        "math.bitShiftRight": lambda m, a, n: _shift(a, n, left=False),
    }
)


def _bits(a, b, op):
    if type(a) is not type(b) or type(a) not in (int, UInt):
        raise CelError(NO_SUCH_OVERLOAD)
    return type(a)(op(a, b))


def _shift(value, count, *, left: bool):
    n = _int(count)
    if n < 0:
        raise CelError("math.bitShift: the shift must not be negative.")
    n = min(n, 64)  # every bit is shifted out by then: no huge intermediate ints
    if type(value) is UInt:
        return UInt(((value << n) & UINT64_MAX) if left else value >> n)
    v = _int(value) & UINT64_MAX
    result = ((v << n) & UINT64_MAX) if left else v >> n  # a logical shift, as in cel-go
    return result - (1 << 64) if result > INT64_MAX else result


# --- Lists and sets ----------------------------------------------------------------------------------


def _key(value):
    """A hashable stand-in that keeps CEL's equality (True and 1 apart, 1 and 1.0 together)."""
    t = type(value)
    if t is bool:
        return ("bool", value)
    if t in NUMBERS:
        return ("num", value)
    if t in (str, bytes) or value is None:
        return (t.__name__, value)
    return None


@function()
def distinct(m: Meter, value):
    items = _list(value)
    m.reserve(16 * len(items))
    seen: set = set()
    out = []
    for item in items:
        key = _key(item)
        if key is None:
            if not any(equal(item, o, m) for o in out):
                m.charge(len(out))
                out.append(item)
        elif key not in seen:
            seen.add(key)
            out.append(item)
    return out


@function()
def flatten(m: Meter, value, depth=1):
    items, d = _list(value), _int(depth)
    if d < 0:
        raise CelError("flatten(): the depth must not be negative.")
    out: list = []
    for item in items:
        if isinstance(item, list) and d > 0:
            out.extend(flatten(m, item, d - 1) if d > 1 else item)
        else:
            out.append(item)
    m.reserve(8 * len(out))
    return out


@function("slice")
def slice_(m: Meter, value, start, end):
    items, s, e = _list(value), _int(start), _int(end)
    if not 0 <= s <= e <= len(items):
        raise CelError(f"slice(): range [{s}, {e}) is out of range for a list of length {len(items)}.")
    m.reserve(8 * (e - s))
    return items[s:e]


@function()
def sort(m: Meter, value):
    items = _list(value)
    m.reserve(8 * len(items) + len(items) * max(len(items).bit_length(), 1))
    if not items:
        return []
    kinds = {type(x) for x in items}
    if not (kinds <= set(NUMBERS) or len(kinds) == 1 and kinds <= {str, bytes, bool, dt.timedelta}):
        raise CelError("sort(): the list must hold values of one comparable type.")
    return sorted(items)


@function()
def first(m: Meter, value):
    items = _list(value)
    return Optional(items[0]) if items else Optional.NONE


@function()
def last(m: Meter, value):
    items = _list(value)
    return Optional(items[-1]) if items else Optional.NONE


@function("lists.range")
def range_(m: Meter, count):
    n = _int(count)
    if n < 0:
        raise CelError("lists.range(): the count must not be negative.")
    m.reserve(36 * n)  # a new int object and a list slot each
    return list(range(n))


def _contains_all(m: Meter, a, b) -> bool:
    a, b = _list(a), _list(b)
    keys = {_key(x) for x in a}
    m.charge(len(a) + len(b))
    return all((_key(y) in keys) if _key(y) is not None else any(equal(x, y, m) for x in a) for y in b)


FUNCTIONS.update(
    {
        "sets.contains": _contains_all,
        "sets.equivalent": lambda m, a, b: _contains_all(m, a, b) and _contains_all(m, b, a),
        "sets.intersects": lambda m, a, b: any(_contains_all(m, _list(a), [y]) for y in _list(b)),
    }
)


# --- Encoders and optionals --------------------------------------------------------------------------


@function("base64.encode")
def b64encode(m: Meter, value):
    data = value if type(value) is bytes else _str(value).encode("utf-8")
    m.reserve(len(data) * 4 // 3 + 4)
    return _base64.b64encode(data).decode("ascii")


@function("base64.decode")
def b64decode(m: Meter, value):
    text = value.decode("ascii", "replace") if type(value) is bytes else _str(value)
    m.reserve(len(text))
    try:
        return _base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError:
        raise CelError("base64.decode(): the text is not valid base64.") from None


def _optional(value) -> Optional:
    if not isinstance(value, Optional):
        raise CelError(NO_SUCH_OVERLOAD)
    return value


def _value(m: Meter, opt):
    opt = _optional(opt)
    if not opt.has_value():
        raise CelError("optional.none() has no value.")
    return opt.value


_ZERO = (0, 0.0, "", b"", False, None)

FUNCTIONS.update(
    {
        "optional.of": lambda m, v: Optional(v),
        "optional.none": lambda m: Optional.NONE,
        "optional.ofNonZeroValue": lambda m, v: Optional.NONE
        if (type(v) is not bool and any(v == z and type(v) is type(z) for z in _ZERO)) or v in ([], {})
        else Optional(v),
        "hasValue": lambda m, o: _optional(o).has_value(),
        "value": _value,
        "orValue": lambda m, o, d: _optional(o).value if o.has_value() else d,
        "or": lambda m, o, other: o if _optional(o).has_value() else _optional(other),
    }
)

# The names a function call may use; anything else is refused when the expression is compiled.
KNOWN = frozenset(FUNCTIONS)

__all__ = ["FUNCTIONS", "KNOWN", "format_duration", "format_timestamp", "less"]
