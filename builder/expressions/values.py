"""CEL values on plain Python ones, and the meter that bounds one evaluation.

Scope values arrive as JSON-ish Python (dict, list, str, int, float, bool, None) and are used as they are:
nothing is converted on the way in. CEL's extra types: `UInt`, `Optional`, `CelType`, and `datetime` /
`timedelta` for timestamps and durations.
"""

from __future__ import annotations

import datetime as dt
import gc
import threading
import time

from builder.expressions.parser import UInt

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
UINT64_MAX = 2**64 - 1
NUMBERS = (int, UInt, float)  # `type(x) in NUMBERS` is False for bool, as CEL wants

NO_SUCH_OVERLOAD = "No such overload: the operation is not defined for the given operand types."


class CelError(Exception):
    """A run-time error inside an expression (no such key, division by zero, …): `&&`, `||` and the
    comprehensions may absorb it, as CEL's commutative logic says."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class LimitExceeded(Exception):
    """The evaluation went over its cost budget or its deadline. Never absorbed: it ends the evaluation."""

    def __init__(self, limit: str, message: str):
        super().__init__(message)
        self.limit = limit  # "cost" or "time"
        self.message = message


class Optional:
    __slots__ = ("value",)
    NONE: Optional

    def __init__(self, value=None):
        self.value = value

    def has_value(self) -> bool:
        return self is not Optional.NONE

    def __eq__(self, other) -> bool:
        if not isinstance(other, Optional):
            return False
        if not self.has_value() or not other.has_value():
            return self is other
        return equal(self.value, other.value)

    __hash__ = None


Optional.NONE = Optional()


class CelType:
    """A type as a value: `type(x) == int`."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __eq__(self, other) -> bool:
        return isinstance(other, CelType) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        return self.name


TYPES = {
    name: CelType(name)
    for name in ("int", "uint", "double", "bool", "string", "bytes", "list", "map", "null_type", "type")
}
TYPES["google.protobuf.Timestamp"] = CelType("google.protobuf.Timestamp")
TYPES["google.protobuf.Duration"] = CelType("google.protobuf.Duration")


def type_of(value) -> CelType:
    t = type(value)
    if t is bool:
        return TYPES["bool"]
    if t is UInt:
        return TYPES["uint"]
    if t is int:
        return TYPES["int"]
    if t is float:
        return TYPES["double"]
    if t is str:
        return TYPES["string"]
    if t is bytes:
        return TYPES["bytes"]
    if value is None:
        return TYPES["null_type"]
    if isinstance(value, list):
        return TYPES["list"]
    if isinstance(value, dict):
        return TYPES["map"]
    if isinstance(value, dt.datetime):
        return TYPES["google.protobuf.Timestamp"]
    if isinstance(value, dt.timedelta):
        return TYPES["google.protobuf.Duration"]
    if isinstance(value, CelType):
        return TYPES["type"]
    if isinstance(value, Optional):
        return CelType("optional_type")
    return CelType(type(value).__name__)


def type_name(value) -> str:
    return type_of(value).name.replace("google.protobuf.", "").lower()


def equal(a, b, meter: Meter | None = None) -> bool:
    """CEL equality: numbers compare by value across int, uint and double; other types never equal.

    With a `meter`, long strings and every container level are charged: comparing is linear in the data,
    and a comprehension could otherwise repeat a large comparison for free."""
    ta = type(a)
    tb = type(b)
    if ta is tb and (ta is str or ta is bytes):
        if meter is not None and len(a) > 256:
            meter.charge(len(a) >> 6)
        return a == b
    if ta is tb and (ta is int or ta is bool or ta is float or a is None):
        return a == b
    if ta in NUMBERS and tb in NUMBERS:
        return a == b
    if ta is bool or tb is bool:
        return False
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return False
        if meter is not None:
            meter.charge(len(a))
        return all(equal(x, y, meter) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        if len(a) != len(b):
            return False
        if meter is not None:
            meter.charge(len(a))
        missing = object()
        return all(equal(v, b.get(k, missing), meter) for k, v in a.items())
    if ta is tb:
        return a == b
    if isinstance(a, Optional) or isinstance(b, Optional):
        return False
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a == b
    return False


def less(a, b, meter: Meter | None = None) -> bool:
    ta = type(a)
    tb = type(b)
    if ta in NUMBERS and tb in NUMBERS:
        return a < b
    if ta is tb and ta in (str, bytes, bool, dt.timedelta):
        if meter is not None and ta is not bool and ta is not dt.timedelta and len(a) > 256:
            meter.charge(len(a) >> 6)
        return a < b
    if isinstance(a, dt.datetime) and isinstance(b, dt.datetime):
        return a < b
    raise CelError(NO_SUCH_OVERLOAD)


def check_int(value: int) -> int:
    if INT64_MIN <= value <= INT64_MAX:
        return value
    raise CelError("Integer overflow: the result does not fit in a 64-bit int.")


def check_uint(value: int) -> UInt:
    if 0 <= value <= UINT64_MAX:
        return UInt(value)
    raise CelError("Integer overflow: the result does not fit in a 64-bit uint.")


# --- Metering ----------------------------------------------------------------------------------------

CHECK_EVERY = 2048  # cost units between clock reads: a clock read costs about as much as 20 iterations


class Meter:
    """Counts the cost of one evaluation (comprehension iterations plus bytes allocated) and watches its
    time limit. Every loop and every allocation that grows with the data goes through `charge`, so neither
    limit can be skipped; the clock is read every CHECK_EVERY units.

    Time is the evaluating thread's CPU time, not the wall clock: on a busy machine (two cores, a web
    server and runs in one process) a wall-clock limit failed expressions that would have finished, and
    the evaluator never waits on anything, so its CPU time is all the time it takes. The clock starts at
    the first check: reading it costs about 1 µs, a third of a typical evaluation."""

    __slots__ = ("used", "limit", "check_at", "timeout_s", "started", "timeout_ms", "holds_gc")

    def __init__(self, limit: int, timeout_ms: float):
        self.used = 0
        self.limit = limit
        self.timeout_ms = timeout_ms
        self.timeout_s = timeout_ms / 1000
        self.started: float | None = None
        self.check_at = min(limit, CHECK_EVERY)
        self.holds_gc = False

    def close(self) -> None:
        """Ends the evaluation: lets the garbage collector run again if this evaluation paused it."""
        if self.holds_gc:
            self.holds_gc = False
            _resume_gc()

    def charge(self, units: int) -> None:
        self.used += units
        if self.used > self.check_at:
            self.check()

    def check(self) -> None:
        if self.used > self.limit:
            raise LimitExceeded(
                "cost", f"Expression limit: the evaluation went over its cost budget of {self.limit:,} units."
            )
        time.sleep(0)  # give the GIL away: other threads of the process (the web server's) answer meanwhile
        now = time.thread_time()
        if self.started is None:
            self.started = now
            # A large evaluation makes many containers but no reference cycles (values are trees), so the
            # cycle collector has nothing to find in them; left on, it stops every thread of the process
            # to walk them (a 144 ms pause measured for a nested map within the default budget).
            self.holds_gc = _pause_gc()
        elif now - self.started > self.timeout_s:
            raise LimitExceeded(
                "time", f"Expression limit: the evaluation ran longer than its {self.timeout_ms:g} ms deadline."
            )
        self.check_at = min(self.limit, self.used + CHECK_EVERY)

    def reserve(self, units: int) -> None:
        """Charge for an allocation before making it: what would go over the budget is never allocated."""
        if self.used + units > self.limit:
            self.used += units
            self.check()
        self.charge(units)


_gc_lock = threading.Lock()
_gc_holders = 0


def _pause_gc() -> bool:
    global _gc_holders
    with _gc_lock:
        if _gc_holders == 0:
            if not gc.isenabled():
                return False  # paused by someone else: theirs to resume
            gc.disable()
        _gc_holders += 1
        return True


def _resume_gc() -> None:
    global _gc_holders
    with _gc_lock:
        _gc_holders -= 1
        if _gc_holders == 0:
            gc.enable()
