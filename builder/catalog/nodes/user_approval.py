"""`user_approval`: pauses the run until a member (or the chat visitor) approves or rejects."""

from builder.catalog.base import NodeType, Output
from builder.catalog.schemas import TEMPLATE

NODE_TYPE = NodeType(
    type="user_approval",
    group="logic",
    rank=2,
    label="User approval",
    description="Pauses the run until a member approves or rejects.",
    icon="✔",
    properties={
        "message": TEMPLATE,
        "approvers": {
            "enum": ["editor", "admin", "owner", "visitor"],
            "description": "Minimum role that may decide; visitor: the chat visitor decides in the chat.",
        },
    },
    required=("message",),
    defaults={"message": "Please review: {{ input }}", "approvers": "editor", "timeout_s": 86400},
    static_ports=("approved", "rejected"),
    output=Output(
        schema={
            "type": "object",
            "properties": {"decision": {"type": "string"}, "comment": {"type": "string"}, "by": {"type": "string"}},
        }
    ),
    inline=True,
)
