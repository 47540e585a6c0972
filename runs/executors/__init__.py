"""Node executors, one module per node type (named by the type's catalog entry). Importing this package
registers them all, and refuses to start if an executable type has none."""

import importlib

from builder.catalog import NODE_TYPES
from runs.executors.base import EXECUTORS, NodeContext, NodeError, NodeExecutor, NodeResult, register

__all__ = ["EXECUTORS", "NodeContext", "NodeError", "NodeExecutor", "NodeResult", "register", "get_executor"]

for _node_type in NODE_TYPES.values():
    if _node_type.executor_module:
        importlib.import_module(_node_type.executor_module)
        if _node_type.type not in EXECUTORS:
            raise RuntimeError(f"{_node_type.executor_module} registers no executor for {_node_type.type!r}.")


def get_executor(node_type: str) -> NodeExecutor | None:
    return EXECUTORS.get(node_type)
