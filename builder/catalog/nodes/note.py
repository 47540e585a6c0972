"""`note`: a comment on the canvas; never runs and never connects."""

from builder.catalog.base import NodeType

NODE_TYPE = NodeType(
    type="note",
    group="core",
    rank=3,
    label="Note",
    description="A comment on the canvas. Never runs.",
    icon="✎",
    properties={"text": {"type": "string", "maxLength": 20000}},
    defaults={"text": "Write a note…"},
    executable=False,
    static_ports=(),
)
