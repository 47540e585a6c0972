"""`start`: where a run begins; checks the run input against a schema and declares state variables."""

from builder.catalog.base import Checks, NodeType, Output, json_schema_problem
from builder.catalog.schemas import JSON_SCHEMA, STATE_NAME


def check(checks: Checks, node_id: str, config: dict) -> None:
    if "input_schema" in config:
        problem = json_schema_problem(config["input_schema"])
        if problem:
            checks.add("error", node_id, "config.input_schema", problem)


NODE_TYPE = NodeType(
    type="start",
    group="core",
    rank=0,
    label="Start",
    description="Where a run begins: checks the run input against a schema and declares state variables.",
    icon="▶",
    properties={
        "input_schema": JSON_SCHEMA,
        "state": {
            "type": "object",
            "description": "State variables and their initial values.",
            "propertyNames": {"pattern": STATE_NAME},
            "maxProperties": 200,
        },
    },
    defaults={
        "input_schema": {"type": "object", "properties": {"message": {"type": "string"}}, "required": ["message"]},
        "state": {},
    },
    output=Output(schema_from="/input_schema"),
    inline=True,
    check=check,
)
