"""`while`: runs the body on the `loop` port while the condition holds, then continues on `exit`."""

from django.conf import settings

from builder.catalog.base import Checks, NodeType
from builder.catalog.schemas import EXPRESSION


def check(checks: Checks, node_id: str, config: dict) -> None:
    limit = settings.RUN_MAX_LOOP_ITERATIONS
    wanted = config.get("max_iterations")
    if wanted is None:
        # DESIGN §4: a loop states its own bound; without one it would silently run to the server's.
        checks.add(
            "error",
            node_id,
            "config.max_iterations",
            f"Set max_iterations: how many times the loop may run at most (up to {limit}).",
        )
    elif isinstance(wanted, int) and wanted > limit:
        checks.add(
            "warning",
            node_id,
            "config.max_iterations",
            f"The server stops loops after {limit} iterations; {wanted} will not be reached.",
        )


NODE_TYPE = NodeType(
    type="while",
    group="logic",
    rank=1,
    label="While",
    description="Runs the body on the `loop` port while the condition holds, then continues on `exit`.",
    icon="↻",
    properties={
        "condition": EXPRESSION,
        "max_iterations": {"type": "integer", "minimum": 1, "maximum": 10000},
    },
    required=("condition",),
    defaults={"condition": "loop.index < 3", "max_iterations": 10},
    static_ports=("loop", "exit"),
    inline=True,
    executor="runs.executors.while_loop",
    check=check,
)
