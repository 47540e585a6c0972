"""Shared JSON Schema pieces of the node catalog, and the fields every executable node has."""

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
ERROR_PORT = "error"
DEFAULT_PORT = "out"

EXPRESSION = {"type": "string", "minLength": 1, "maxLength": 10000, "x-trellis": "expression"}
TEMPLATE = {"type": "string", "maxLength": 100000, "x-trellis": "template"}
NAME = {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_-]{0,63}$"}
SECRET_REF = {
    "type": "string",
    "pattern": r"^[A-Za-z_][A-Za-z0-9_.-]{0,99}$",
    "description": "Name of a workspace secret.",
}
EXPRESSION_MAP = {
    "type": "object",
    "propertyNames": {"pattern": r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"},
    "additionalProperties": EXPRESSION,
    "maxProperties": 200,
}
TEMPLATE_MAP = {"type": "object", "additionalProperties": TEMPLATE, "maxProperties": 100}
JSON_SCHEMA = {"type": "object", "description": "A JSON Schema (draft 2020-12)."}
AUTH = {
    "type": "object",
    "description": "Credentials from a workspace secret: bearer token, a named header, or basic auth.",
    "properties": {
        "type": {"enum": ["bearer", "header", "basic"]},
        "secret": SECRET_REF,
        "header": {"type": "string", "pattern": r"^[A-Za-z0-9-]{1,100}$"},
        "username": {"type": "string", "maxLength": 200},
    },
    "required": ["type", "secret"],
    "additionalProperties": False,
    "if": {"properties": {"type": {"const": "header"}}},
    "then": {"required": ["type", "secret", "header"]},
}
HTTP_METHOD = {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]}

COMMON_PROPERTIES = {
    "on_error": {
        "enum": ["fail", "continue", "route"],
        "description": "fail the run, continue with a null output, or route to the `error` port.",
    },
    "retry": {
        "type": "object",
        "properties": {
            "max_attempts": {"type": "integer", "minimum": 1, "maximum": 10},
            "backoff_s": {"type": "number", "minimum": 0, "maximum": 3600},
        },
        "additionalProperties": False,
    },
    # Up to 30 days: for user_approval this is how long the run waits for a decision.
    "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 30 * 86400},
}
COMMON_DEFAULTS = {"on_error": "fail", "retry": {"max_attempts": 1, "backoff_s": 1}}
STATE_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,63}$"
