"""What makes the OpenAPI document true beyond what drf-spectacular infers: every operation declares the
error answers the API can give it, all in the one error shape of DESIGN §7, and field types say exactly what
the API sends and takes (a URL field that may be blank is not a `format: uri` string)."""

from drf_spectacular.extensions import OpenApiSerializerExtension, OpenApiSerializerFieldExtension
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

ERROR_SCHEMA = {
    "type": "object",
    "description": "The one error shape of the API.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "machine-readable, e.g. `validation_error`, `not_found`"},
                "message": {"type": "string", "description": "for a person"},
                "details": {"description": "what exactly failed: usually a list of `{field, message}`; `[]` when none"},
            },
            "required": ["code", "message", "details"],
        }
    },
    "required": ["error"],
}

# status -> (component name, description). Any route can answer these: a query or header the server refuses
# (even a NUL byte), a missing or bad credential, a role too low or a failed CSRF check, an object of another
# workspace (404, never 403), or too many requests.
_ANY_ROUTE = {
    400: ("BadRequest", "The request is not valid (`validation_error`, `bad_request`, …)."),
    401: ("NotAuthenticated", "No valid session or API token."),
    403: ("PermissionDenied", "The role (or the CSRF check, or the token's scope) does not allow it."),
    404: ("NotFound", "No such object in this workspace (another workspace's object answers 404 too)."),
    429: ("Throttled", "Too many requests; `Retry-After` says when to try again."),
}
# Routes that change something can also meet a conflict (a stale draft revision, the last owner, a name
# taken), a body over TRELLIS_MAX_REQUEST_BYTES, or a request that is well-formed but refused by a rule (422).
_WRITES = {
    409: ("Conflict", "The change conflicts with the current state (e.g. a stale `revision`, the last owner)."),
    413: ("PayloadTooLarge", "The request body is over the size limit."),
    422: ("Unprocessable", "Well-formed, but refused by a rule (e.g. publishing a graph with errors)."),
}
# Operations that call a server the workspace configured (an MCP server, a model provider) pass its failure on.
_GATEWAY = {
    502: ("BadGateway", "A server the workspace configured (an MCP server, a model provider) failed or refused."),
    504: ("GatewayTimeout", "A server the workspace configured did not answer in time."),
}
_GATEWAY_OPERATIONS = {
    ("post", "/api/v1/mcp-servers/{server_id}/tools"),
    ("post", "/api/v1/knowledge-bases/{kb_id}/search"),
    ("post", "/api/v1/finetune-jobs"),
}
_WRITE_METHODS = {"post", "put", "patch", "delete"}
_METHODS = _WRITE_METHODS | {"get", "head", "options", "trace"}


def _response(description: str, status: int) -> dict:
    response = {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
    if status == 429:
        response["headers"] = {
            "Retry-After": {"schema": {"type": "integer"}, "description": "seconds to wait before trying again"}
        }
    return response


def add_error_responses(result, generator, request, public):
    """drf-spectacular POSTPROCESSING_HOOKS entry: adds the error shape and the standard error responses to
    every operation, leaving any response a view declared itself untouched."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    responses = components.setdefault("responses", {})
    for status, (name, description) in {**_ANY_ROUTE, **_WRITES, **_GATEWAY}.items():
        responses[name] = _response(description, status)

    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in _METHODS:
                continue
            declared = operation.setdefault("responses", {})
            statuses = {**_ANY_ROUTE, **(_WRITES if method in _WRITE_METHODS else {})}
            if (method, path) in _GATEWAY_OPERATIONS:
                statuses.update(_GATEWAY)
            for status, (name, _) in statuses.items():
                declared.setdefault(str(status), {"$ref": f"#/components/responses/{name}"})
    return result


class BlankableUrlField(OpenApiSerializerFieldExtension):
    """A URLField with allow_blank (a provider's default endpoint, no callback) holds "" or a URL: "" is not a
    `format: uri` value, so such a field is documented as either."""

    target_class = "rest_framework.fields.URLField"
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if not getattr(self.target, "allow_blank", False):
            return schema
        url = {"type": "string", "format": schema.pop("format", "uri")}
        if self.target.max_length is not None:
            url["maxLength"] = self.target.max_length
        schema.pop("type", None)
        return {"anyOf": [url, {"type": "string", "enum": [""]}], **schema}


class ClosedSerializer(serializers.Serializer):
    """The documented shape of a body whose view refuses unknown fields (the graph format's rule)."""


class ClosedSerializerSchema(OpenApiSerializerExtension):
    """...documented with `additionalProperties: false`, so that a client (and Schemathesis) knows."""

    target_class = ClosedSerializer
    match_subclasses = True

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_serializer(self.target, direction, bypass_extensions=True)
        return {**schema, "additionalProperties": False}


def documented(schema: dict, **kwargs) -> serializers.Field:
    """A field documented by a JSON Schema that no serializer field maps to (a union, a value or empty)."""
    return extend_schema_field(schema)(type("DocumentedField", (serializers.JSONField,), {}))(**kwargs)


def or_empty(schema: dict) -> dict:
    """`schema`, or an empty value: the services read these fields as `value or default`, so null, false, 0, "",
    [] and {} all mean "not given". (Each empty value is written as a bounded type rather than as an enum, which
    Schemathesis's negative cases would not know to avoid.)"""
    empty = [
        {"type": "object", "maxProperties": 0},
        {"type": "array", "maxItems": 0},
        {"type": "string", "maxLength": 0},
        {"type": "number", "minimum": 0, "maximum": 0},
        {"type": "boolean", "enum": [False]},
    ]
    return {"anyOf": [schema, *empty], "nullable": True}
