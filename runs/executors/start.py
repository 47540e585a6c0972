"""`start`: the run input (already validated against input_schema when the run was created)."""

from runs.executors.base import NodeContext, NodeExecutor, NodeResult, register


@register
class StartExecutor(NodeExecutor):
    type = "start"

    def run(self, ctx: NodeContext) -> NodeResult:
        return NodeResult(output=ctx.scope["workflow"]["input"])
