"""`end`: produces the run output, a map of key -> expression or one expression."""

from builder.catalog.base import NodeType, Output
from builder.catalog.schemas import EXPRESSION, EXPRESSION_MAP

NODE_TYPE = NodeType(
    type="end",
    group="core",
    rank=2,
    label="End",
    description="Produces the run output: a map of key → expression, or one expression.",
    icon="■",
    properties={"output": {"oneOf": [EXPRESSION_MAP, EXPRESSION]}},
    defaults={"output": {"result": "input"}},
    static_ports=(),
    output=Output(keys_from="/output"),
    inline=True,
)
