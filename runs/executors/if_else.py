"""`if_else`: the first case whose condition is true fires its port, else `else`. Passes its input on."""

from runs.executors.base import NodeContext, NodeError, NodeExecutor, NodeResult, register


@register
class IfElseExecutor(NodeExecutor):
    type = "if_else"

    def run(self, ctx: NodeContext) -> NodeResult:
        for i, case in enumerate(ctx.config.get("cases") or []):
            value = ctx.evaluate(case["condition"])
            if not isinstance(value, bool):
                raise NodeError(
                    f"The condition of case '{case.get('port')}' gave {type(value).__name__}, not a boolean.",
                    code="expression_error",
                    details={"field": f"cases[{i}].condition"},
                )
            if value:
                return NodeResult(output=ctx.scope.get("input"), port=case["port"])
        return NodeResult(output=ctx.scope.get("input"), port="else")
