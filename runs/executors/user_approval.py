"""`user_approval`: asks the engine to pause; POST /api/v1/runs/<id>/approvals decides the port."""

from runs.executors.base import NodeContext, NodeExecutor, NodeResult, register


@register
class UserApprovalExecutor(NodeExecutor):
    type = "user_approval"

    def run(self, ctx: NodeContext) -> NodeResult:
        message = ctx.render(ctx.config.get("message") or "")
        return NodeResult(
            wait={
                "message": message,
                "approvers": ctx.config.get("approvers") or "editor",
                "timeout_s": ctx.config.get("timeout_s"),
            }
        )
