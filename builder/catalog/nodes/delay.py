"""`delay`: waits a number of seconds, or until a time, then goes on; the run holds no worker meanwhile."""

from builder.catalog.base import NodeType
from builder.catalog.schemas import EXPRESSION

MAX_DELAY_S = 30 * 86400

NODE_TYPE = NodeType(
    type="delay",
    group="logic",
    rank=3,
    label="Delay",
    description="Waits N seconds, or until a time, then passes its input on. The run is parked meanwhile.",
    icon="◷",  # geometric shapes render in every font; the hourglass emoji did not in Chromium on Linux
    properties={
        "seconds": {"type": "number", "minimum": 0, "maximum": MAX_DELAY_S, "description": "How long to wait."},
        "until": {
            **EXPRESSION,
            "description": "When to go on: an ISO 8601 time with a zone (e.g. workflow.input.remind_at).",
        },
    },
    extra_schema={"oneOf": [{"required": ["seconds"]}, {"required": ["until"]}]},
    defaults={"seconds": 60},
    inline=True,
)
