"""`transform`: builds a new object from a map of key -> expression."""

from runs.executors._mapping import evaluate_mapping
from runs.executors.base import NodeContext, NodeExecutor, NodeResult, register


@register
class TransformExecutor(NodeExecutor):
    type = "transform"

    def run(self, ctx: NodeContext) -> NodeResult:
        return NodeResult(output=evaluate_mapping(ctx, ctx.config.get("output", {})))
