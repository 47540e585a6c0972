"""`http_request`: calls an HTTP API (SSRF-guarded); the body is a template or a map of expressions."""

from builder.catalog.base import NodeType, Output
from builder.catalog.schemas import AUTH, EXPRESSION_MAP, HTTP_METHOD, TEMPLATE, TEMPLATE_MAP

NODE_TYPE = NodeType(
    type="http_request",
    group="tools",
    rank=0,
    label="HTTP request",
    description="Calls an HTTP API. A string body is a template sent as-is; an object body maps keys "
    "to expressions and is sent as JSON.",
    icon="⇄",
    properties={
        "method": HTTP_METHOD,
        "url": TEMPLATE,
        "headers": TEMPLATE_MAP,
        "query": TEMPLATE_MAP,
        "body": {"oneOf": [TEMPLATE, EXPRESSION_MAP, {"type": "null"}]},
        "auth": {"oneOf": [AUTH, {"type": "null"}]},
        "expect": {"enum": ["json", "text"]},
    },
    required=("method", "url"),
    defaults={
        "method": "GET",
        "url": "https://example.com/api",
        "headers": {},
        "query": {},
        "body": None,
        "expect": "json",
    },
    output=Output(
        schema={
            "type": "object",
            "properties": {
                "status": {"type": "integer"},
                "headers": {"type": "object"},
                "body": {},
                "url": {"type": "string"},
            },
        }
    ),
)
