"""`delay`: asks the engine to park the run until a time (a timer wait), then passes its input on.

The step waits like an approval (no worker held; the reaper wakes the run at `wake_at`), but with
`on_timeout`, so its time ends it on `out` instead of a decision.
"""

import datetime as dt

from builder.catalog.nodes.delay import MAX_DELAY_S
from runs.executors.base import NodeContext, NodeError, NodeExecutor, NodeResult, register


def _moment(value) -> dt.datetime:
    if isinstance(value, dt.datetime):
        when = value
    elif isinstance(value, str):
        try:
            when = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise NodeError(f"'until' gave {value[:100]!r}, not an ISO 8601 time.", code="expression_error") from None
    else:
        raise NodeError(f"'until' gave {type(value).__name__}, not a time.", code="expression_error")
    if when.tzinfo is None:
        raise NodeError("'until' needs a time zone (e.g. 2026-12-24T18:00:00Z).", code="expression_error")
    return when


@register
class DelayExecutor(NodeExecutor):
    type = "delay"

    def run(self, ctx: NodeContext) -> NodeResult:
        passthrough = ctx.scope.get("input")
        if "until" in ctx.config:
            until = _moment(ctx.evaluate(ctx.config["until"]))
            seconds = (until - dt.datetime.now(dt.UTC)).total_seconds()
        else:
            seconds = float(ctx.config.get("seconds") or 0)
        if seconds > MAX_DELAY_S:
            raise NodeError(f"A delay is at most {MAX_DELAY_S // 86400} days; this one is {seconds:.0f} s.")
        if seconds <= 0:
            return NodeResult(output=passthrough)
        return NodeResult(
            wait={"kind": "timer", "timeout_s": seconds, "on_timeout": {"port": "out", "output": passthrough}}
        )
