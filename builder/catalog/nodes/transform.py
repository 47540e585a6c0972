"""`transform`: builds a new object from a map of key -> expression."""

from builder.catalog.base import NodeType, Output
from builder.catalog.schemas import EXPRESSION_MAP

NODE_TYPE = NodeType(
    type="transform",
    group="data",
    rank=0,
    label="Transform",
    description="Builds a new object: a map of key → expression.",
    icon="ƒ",
    properties={"output": EXPRESSION_MAP},
    required=("output",),
    defaults={"output": {"value": "input"}},
    output=Output(keys_from="/output"),
    inline=True,
)
