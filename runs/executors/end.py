"""`end`: evaluates its output mapping; the engine makes it the run output and finishes the run."""

from runs.executors._mapping import evaluate_mapping
from runs.executors.base import NodeContext, NodeExecutor, NodeResult, register


@register
class EndExecutor(NodeExecutor):
    type = "end"

    def run(self, ctx: NodeContext) -> NodeResult:
        if "output" not in ctx.config:
            return NodeResult(output=ctx.scope.get("input"))
        return NodeResult(output=evaluate_mapping(ctx, ctx.config.get("output")))
