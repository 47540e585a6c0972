"""OpenAPI description of the `Authorization: Bearer trl_…` scheme for drf-spectacular."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.BearerTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "trl_…",
            "description": "A workspace-scoped API token (Settings → API tokens, or `manage.py create_api_token`).",
        }
