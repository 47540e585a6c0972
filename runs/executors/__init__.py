"""Node executors, one module per node type. Importing this package registers them all."""

import importlib

from runs.executors.base import EXECUTORS, NodeContext, NodeError, NodeExecutor, NodeResult, register

__all__ = ["EXECUTORS", "NodeContext", "NodeError", "NodeExecutor", "NodeResult", "register", "get_executor"]

_MODULES = [
    "start",
    "end",
    "transform",
    "set_state",
    "if_else",
    "while_loop",
    "user_approval",
    "agent",
    "http_request",
    "guardrails",
    "mcp",
    "file_search",
]

for _name in _MODULES:
    try:
        importlib.import_module(f"runs.executors.{_name}")
    except ModuleNotFoundError as _exc:  # an executor module that is not written yet
        if _exc.name != f"runs.executors.{_name}":
            raise


def get_executor(node_type: str) -> NodeExecutor | None:
    return EXECUTORS.get(node_type)
