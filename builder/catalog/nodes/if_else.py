"""`if_else`: the first case whose condition is true fires its port, else `else`."""

from builder.catalog.base import Checks, DynamicPorts, NodeType, duplicates
from builder.catalog.schemas import ERROR_PORT, EXPRESSION, ID_PATTERN


def check(checks: Checks, node_id: str, config: dict) -> None:
    for i, port in duplicates(config.get("cases"), "port"):
        checks.add("error", node_id, f"config.cases[{i}].port", f"Duplicate case port '{port}'.")


NODE_TYPE = NodeType(
    type="if_else",
    group="logic",
    rank=0,
    label="If / else",
    description="The first case whose condition is true wins; otherwise `else`.",
    icon="⇉",
    properties={
        "cases": {
            "type": "array",
            "minItems": 1,
            "maxItems": 50,
            "items": {
                "type": "object",
                "properties": {
                    "port": {"type": "string", "pattern": ID_PATTERN, "not": {"enum": ["else", ERROR_PORT]}},
                    "label": {"type": "string", "maxLength": 100},
                    "condition": EXPRESSION,
                },
                "required": ["port", "condition"],
                "additionalProperties": False,
            },
        }
    },
    required=("cases",),
    defaults={"cases": [{"port": "case_1", "label": "Case 1", "condition": "true"}]},
    static_ports=("else",),
    dynamic_ports=DynamicPorts(list_field="cases", id_key="port", label_key="label"),
    inline=True,
    check=check,
)
