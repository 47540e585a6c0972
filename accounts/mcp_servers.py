"""Workspace MCP servers: writes, "Fetch tools", and the connection details a call needs.

Like model providers (accounts/providers.py) this module talks to the network, so it has its own file.
Header values are references to workspace secrets, resolved only when a call is made; no API response,
step or log ever holds their values."""

from __future__ import annotations

import re
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from accounts.models import McpServer, Secret, Workspace
from accounts.services import secret_value
from trellis.errors import ApplicationError
from trellis.mcp_client import McpError, list_tools

HEADER_NAME_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,100}$")
TOOL_NAME_RE = re.compile(r"^[A-Za-z0-9_.\-/]{1,128}$")
MAX_HEADERS = 20
MAX_ALLOWED_TOOLS = 500
_UNSET = object()


def _invalid(message: str, field: str) -> ApplicationError:
    return ApplicationError("validation_error", message, [{"field": field, "message": message}])


def _clean(*, workspace_id, name=_UNSET, url=_UNSET, headers=_UNSET, allowed_tools=_UNSET) -> dict:
    fields: dict = {}
    if name is not _UNSET:
        name = (name or "").strip() if isinstance(name, str) else ""
        if not name or len(name) > 100:
            raise _invalid("An MCP server needs a name (at most 100 characters).", "name")
        fields["name"] = name
    if url is not _UNSET:
        url = (url or "").strip() if isinstance(url, str) else ""
        try:
            URLValidator(schemes=["http", "https"])(url)
        except ValidationError:
            raise _invalid("The URL must be an http(s) URL (the server's streamable HTTP endpoint).", "url") from None
        if len(url) > 2000:
            raise _invalid("The URL is longer than 2000 characters.", "url")
        fields["url"] = url
    if headers is not _UNSET:
        headers = headers or {}
        if not isinstance(headers, dict) or len(headers) > MAX_HEADERS:
            raise _invalid(
                f'headers must be an object of at most {MAX_HEADERS} entries {{"H": {{"secret": "NAME"}}}}.', "headers"
            )
        cleaned = {}
        for key, value in headers.items():
            if not HEADER_NAME_RE.match(str(key)):
                raise _invalid(f"{key!r} is not a valid header name.", f"headers.{key}")
            if not (isinstance(value, dict) and set(value) == {"secret"} and isinstance(value["secret"], str)):
                # Plain values are refused so that a credential never sits unencrypted in the config.
                raise _invalid(
                    f'Header {key!r}: the value must be a secret reference {{"secret": "NAME"}}.', f"headers.{key}"
                )
            if not Secret.objects.filter(workspace_id=workspace_id, name=value["secret"]).exists():
                raise _invalid(
                    f"Header {key!r}: no secret named {value['secret']!r} in this workspace.", f"headers.{key}"
                )
            cleaned[str(key)] = {"secret": value["secret"]}
        fields["headers"] = cleaned
    if allowed_tools is not _UNSET:
        if allowed_tools is not None:
            if (
                not isinstance(allowed_tools, list)
                or len(allowed_tools) > MAX_ALLOWED_TOOLS
                or not all(isinstance(t, str) and TOOL_NAME_RE.match(t) for t in allowed_tools)
            ):
                raise _invalid("allowed_tools must be a list of tool names (or null for every tool).", "allowed_tools")
            allowed_tools = list(dict.fromkeys(allowed_tools))
        fields["allowed_tools"] = allowed_tools
    return fields


@transaction.atomic
def mcp_server_create(
    *, workspace: Workspace, name: str, url: str, headers: dict | None = None, allowed_tools: list[str] | None = None
) -> McpServer:
    fields = _clean(workspace_id=workspace.pk, name=name, url=url, headers=headers or {}, allowed_tools=allowed_tools)
    if McpServer.objects.filter(workspace=workspace, name=fields["name"]).exists():
        raise ApplicationError(
            "mcp_server_exists", f"An MCP server named {fields['name']!r} already exists.", status=409
        )
    try:
        with transaction.atomic():
            return McpServer.objects.create(workspace=workspace, **fields)
    except IntegrityError:
        raise ApplicationError(
            "mcp_server_exists", f"An MCP server named {fields['name']!r} already exists.", status=409
        )


@transaction.atomic
def mcp_server_update(*, server: McpServer, **changes) -> McpServer:
    """`changes` may hold name, url, headers, allowed_tools. A new URL forgets the cached tool list."""
    unknown = set(changes) - {"name", "url", "headers", "allowed_tools"}
    if unknown:
        raise ApplicationError("validation_error", f"Unknown fields: {sorted(unknown)}.")
    fields = _clean(workspace_id=server.workspace_id, **changes)
    if "name" in fields and fields["name"] != server.name:
        if McpServer.objects.filter(workspace_id=server.workspace_id, name=fields["name"]).exists():
            raise ApplicationError(
                "mcp_server_exists", f"An MCP server named {fields['name']!r} already exists.", status=409
            )
    if "url" in fields and fields["url"] != server.url:
        server.tools, server.tools_fetched_at = None, None
    for key, value in fields.items():
        setattr(server, key, value)
    server.save()
    return server


def mcp_server_delete(*, server: McpServer) -> None:
    server.delete()


def mcp_server_headers(*, server: McpServer, resolve: Callable[[str], str] | None = None) -> dict[str, str]:
    """The HTTP headers with their secrets resolved (through `resolve`, the engine's redacting resolver, in
    runs). Raises ApplicationError when a referenced secret is gone."""
    resolve = resolve or (lambda name: secret_value(workspace_id=server.workspace_id, name=name))
    return {key: resolve(ref["secret"]) for key, ref in (server.headers or {}).items()}


def allowed(server: McpServer, tools: list[dict]) -> list[dict]:
    if server.allowed_tools is None:
        return tools
    names = set(server.allowed_tools)
    return [t for t in tools if t["name"] in names]


def mcp_server_fetch_tools(*, server: McpServer) -> list[dict]:
    """Lists the server's tools (through the SSRF guard), keeps the allowed ones on the row, returns them."""

    try:
        headers = mcp_server_headers(server=server)
    except ValueError as exc:
        raise ApplicationError("mcp_error", f"A header secret cannot be read: {exc}", status=502) from None
    try:
        tools = list_tools(url=server.url, headers=headers)
    except McpError as exc:
        status = 504 if exc.code == "timeout" else 502
        raise ApplicationError(exc.code, exc.message, status=status) from None
    for tool in tools:
        schema = tool["input_schema"]
        try:
            Draft202012Validator.check_schema(schema if isinstance(schema, dict) else {})
        except SchemaError:
            tool["input_schema"] = {"type": "object"}  # unusable for checks; the server still gets the call
    tools = allowed(server, tools)
    server.tools, server.tools_fetched_at = tools, timezone.now()
    server.save(update_fields=["tools", "tools_fetched_at", "updated_at"])
    return tools
