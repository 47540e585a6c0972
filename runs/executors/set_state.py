"""`set_state`: assigns workflow state variables; later nodes see them as `state.<var>`."""

from runs.executors.base import NodeContext, NodeError, NodeExecutor, NodeResult, register


@register
class SetStateExecutor(NodeExecutor):
    type = "set_state"

    def run(self, ctx: NodeContext) -> NodeResult:
        updates = {}
        state = ctx.scope.setdefault("state", {})
        for i, item in enumerate(ctx.config.get("assignments") or []):
            try:
                value = ctx.evaluate(item["expression"])
            except NodeError as exc:
                exc.details = {**(exc.details or {}), "field": f"assignments[{i}].expression"}
                raise
            updates[item["variable"]] = value
            # Later assignments of the same node see earlier ones.
            state = {**state, item["variable"]: value}
            ctx.scope["state"] = state
        return NodeResult(output=updates, state_updates=updates)
