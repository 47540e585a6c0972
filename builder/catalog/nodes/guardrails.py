"""`guardrails`: pass/fail checks on text (PII, moderation, jailbreak, custom rules)."""

from builder.catalog.base import NodeType, Output
from builder.catalog.schemas import EXPRESSION

NODE_TYPE = NodeType(
    type="guardrails",
    group="tools",
    rank=1,
    label="Guardrails",
    description="Pass/fail checks on text: PII, moderation, jailbreak, custom rules.",
    icon="◈",
    properties={
        "text": EXPRESSION,
        "checks": {
            "type": "array",
            "maxItems": 20,
            "items": {
                "oneOf": [
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": "pii"},
                            "mode": {"enum": ["detect", "mask"]},
                            "entities": {
                                "type": "array",
                                "items": {
                                    "enum": [
                                        "email",
                                        "phone",
                                        "credit_card",
                                        "iban",
                                        "ssn",
                                        "ip_address",
                                        "url",
                                    ]
                                },
                                "uniqueItems": True,
                            },
                        },
                        "required": ["type"],
                        "additionalProperties": False,
                    },
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": "moderation"},
                            "categories": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
                        },
                        "required": ["type"],
                        "additionalProperties": False,
                    },
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": "jailbreak"},
                            "threshold": {"type": "number", "minimum": 0, "maximum": 1},
                        },
                        "required": ["type"],
                        "additionalProperties": False,
                    },
                    {
                        "type": "object",
                        "properties": {
                            "type": {"const": "custom"},
                            "name": {"type": "string", "maxLength": 100},
                            "condition": {**EXPRESSION, "description": "CEL; true means the check passes."},
                            "criterion": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 5000,
                                "description": "Judged by an LLM.",
                            },
                            "model": {"type": "string", "maxLength": 200},
                        },
                        "required": ["type"],
                        "oneOf": [{"required": ["condition"]}, {"required": ["criterion"]}],
                        "additionalProperties": False,
                    },
                ]
            },
        },
    },
    required=("text", "checks"),
    defaults={"text": "workflow.input.message", "checks": [{"type": "pii", "mode": "detect"}]},
    static_ports=("pass", "fail"),
    output=Output(
        schema={
            "type": "object",
            "properties": {"passed": {"type": "boolean"}, "text": {"type": "string"}, "checks": {"type": "array"}},
        }
    ),
)
