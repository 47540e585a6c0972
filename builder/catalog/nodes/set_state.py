"""`set_state`: assigns workflow state variables (declared on Start)."""

from builder.catalog.base import Checks, NodeType, Output
from builder.catalog.schemas import EXPRESSION, STATE_NAME


def check(checks: Checks, node_id: str, config: dict) -> None:
    assignments = config.get("assignments")
    for i, item in enumerate(assignments if isinstance(assignments, list) else ()):
        variable = item.get("variable") if isinstance(item, dict) else None
        if isinstance(variable, str) and variable not in checks.declared_state:
            checks.add(
                "error",
                node_id,
                f"config.assignments[{i}].variable",
                f"State variable '{variable}' is not declared on Start.",
            )


NODE_TYPE = NodeType(
    type="set_state",
    group="data",
    rank=1,
    label="Set state",
    description="Assigns workflow state variables.",
    icon="≔",
    properties={
        "assignments": {
            "type": "array",
            "maxItems": 100,
            "items": {
                "type": "object",
                "properties": {"variable": {"type": "string", "pattern": STATE_NAME}, "expression": EXPRESSION},
                "required": ["variable", "expression"],
                "additionalProperties": False,
            },
        }
    },
    required=("assignments",),
    defaults={"assignments": []},
    output=Output(schema={"type": "object", "description": "The values assigned, by variable."}),
    inline=True,
    check=check,
)
