"""`while`: fires `loop` while its condition holds (and `max_iterations` is not reached), else `exit`.

The engine tracks iterations: `ctx.iteration` is the index the body would run with (`loop.index`).
"""

from runs.executors.base import NodeContext, NodeError, NodeExecutor, NodeResult, register


@register
class WhileExecutor(NodeExecutor):
    type = "while"

    def run(self, ctx: NodeContext) -> NodeResult:
        passthrough = ctx.scope.get("input")
        max_iterations = ctx.config.get("max_iterations")
        if max_iterations is not None and ctx.iteration >= int(max_iterations):
            return NodeResult(output=passthrough, port="exit")
        value = ctx.evaluate(ctx.config.get("condition") or "false")
        if not isinstance(value, bool):
            raise NodeError(
                f"The loop condition gave {type(value).__name__}, not a boolean.",
                code="expression_error",
                details={"field": "condition"},
            )
        return NodeResult(output=passthrough, port="loop" if value else "exit")
