"""Node executors, one module per node type. Importing this package registers them all."""

from runs.executors.base import EXECUTORS, NodeContext, NodeError, NodeExecutor, NodeResult, register

__all__ = ["EXECUTORS", "NodeContext", "NodeError", "NodeExecutor", "NodeResult", "register", "get_executor"]


def get_executor(node_type: str) -> NodeExecutor | None:
    return EXECUTORS.get(node_type)
