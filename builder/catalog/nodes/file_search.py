"""`file_search`: ranked chunks from a workspace knowledge base."""

from builder.catalog.base import NodeType, Output
from builder.catalog.schemas import TEMPLATE

NODE_TYPE = NodeType(
    type="file_search",
    group="tools",
    rank=2,
    label="File search",
    description="Ranked chunks from a workspace knowledge base (keyword, vector or hybrid search).",
    icon="⌕",
    properties={
        "knowledge_base": {"type": "string", "maxLength": 100, "description": "Knowledge base id or name."},
        "query": TEMPLATE,
        "top_k": {"type": "integer", "minimum": 1, "maximum": 50},
        "mode": {"enum": ["hybrid", "keyword", "vector"]},
        "filters": {
            "type": "object",
            "properties": {
                "file_id": {"type": "array", "items": {"type": "string", "maxLength": 255}, "maxItems": 100},
                "tags": {"type": "array", "items": {"type": "string", "maxLength": 100}, "maxItems": 100},
            },
            "additionalProperties": False,
        },
    },
    required=("knowledge_base", "query"),
    defaults={
        "knowledge_base": "",
        "query": "{{ workflow.input.message }}",
        "top_k": 5,
        "mode": "hybrid",
        "filters": {},
    },
    output=Output(schema={"type": "object", "properties": {"query": {"type": "string"}, "results": {"type": "array"}}}),
)
