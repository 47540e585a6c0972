"""Workspace MCP servers: the API, "Fetch tools" against a real MCP server (FastMCP on loopback), the client's
limits (timeout, size cap, garbage answers, the SSRF guard), tenancy and secret handling."""

import pytest

from accounts.models import McpServer
from accounts.services import secret_create
from trellis import mcp_client


@pytest.fixture
def admin(workspace, member):
    return member(workspace, "admin")


def _create(client, **body):
    return client.post("/api/v1/mcp-servers", body, format="json")


@pytest.mark.django_db
def test_an_admin_adds_a_server_whose_headers_are_secret_references(workspace, admin, client_for):
    secret_create(workspace=workspace, name="MCP_TOKEN", value="tok-very-secret")

    response = _create(
        client_for(admin, workspace),
        name="Tools",
        url="https://mcp.example.com/mcp",
        headers={"Authorization": {"secret": "MCP_TOKEN"}},
        allowed_tools=["add"],
    )

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Tools"
    assert body["url"] == "https://mcp.example.com/mcp"
    assert body["headers"] == {"Authorization": {"secret": "MCP_TOKEN"}}
    assert body["allowed_tools"] == ["add"]
    assert body["tools"] is None
    assert "tok-very-secret" not in response.content.decode()


@pytest.mark.django_db
def test_a_plain_header_value_is_refused_so_credentials_are_never_stored_unencrypted(workspace, admin, client_for):
    response = _create(
        client_for(admin, workspace),
        name="Tools",
        url="https://mcp.example.com/mcp",
        headers={"Authorization": "Bearer x"},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert response.json()["error"]["details"][0]["field"] == "headers.Authorization"
    assert McpServer.objects.count() == 0


@pytest.mark.django_db
def test_a_header_naming_a_missing_secret_is_refused(workspace, admin, client_for):
    response = _create(
        client_for(admin, workspace),
        name="Tools",
        url="https://mcp.example.com/mcp",
        headers={"Authorization": {"secret": "NOPE"}},
    )

    assert response.status_code == 400
    assert "no secret named 'NOPE'" in response.json()["error"]["message"]
    assert McpServer.objects.count() == 0


@pytest.mark.django_db
def test_a_url_that_is_not_http_is_refused(workspace, admin, client_for):
    response = _create(client_for(admin, workspace), name="Tools", url="file:///etc/passwd")

    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "url"
    assert McpServer.objects.count() == 0


@pytest.mark.django_db
def test_a_second_server_with_the_same_name_is_a_conflict(workspace, admin, client_for):
    client = client_for(admin, workspace)
    assert _create(client, name="Tools", url="https://a.example.com/mcp").status_code == 201

    response = _create(client, name="Tools", url="https://b.example.com/mcp")

    assert response.status_code == 409
    assert McpServer.objects.get().url == "https://a.example.com/mcp"


@pytest.mark.django_db
def test_editors_cannot_add_change_or_delete_servers_but_can_read_them(workspace, admin, editor, client_for):
    server_id = _create(client_for(admin, workspace), name="Tools", url="https://a.example.com/mcp").json()["id"]
    client = client_for(editor, workspace)

    assert _create(client, name="Other", url="https://b.example.com/mcp").status_code == 403
    assert client.patch(f"/api/v1/mcp-servers/{server_id}", {"name": "X"}, format="json").status_code == 403
    assert client.delete(f"/api/v1/mcp-servers/{server_id}").status_code == 403
    assert client.get(f"/api/v1/mcp-servers/{server_id}").json()["name"] == "Tools"
    assert [s["name"] for s in client.get("/api/v1/mcp-servers").json()] == ["Tools"]
    assert McpServer.objects.get().name == "Tools"


@pytest.mark.django_db
def test_another_workspaces_server_answers_404_everywhere(workspace, admin, client_for, make_workspace):
    server_id = _create(client_for(admin, workspace), name="Tools", url="https://a.example.com/mcp").json()["id"]
    other = make_workspace(name="Other")
    stranger = other.memberships.get().user
    client = client_for(stranger, other)

    assert client.get(f"/api/v1/mcp-servers/{server_id}").status_code == 404
    assert client.patch(f"/api/v1/mcp-servers/{server_id}", {"name": "Mine"}, format="json").status_code == 404
    assert client.post(f"/api/v1/mcp-servers/{server_id}/tools").status_code == 404
    assert client.delete(f"/api/v1/mcp-servers/{server_id}").status_code == 404
    assert client.get("/api/v1/mcp-servers").json() == []
    assert McpServer.objects.get().name == "Tools"


@pytest.mark.django_db
def test_fetch_tools_lists_the_real_servers_allowed_tools_with_their_schemas_and_caches_them(
    workspace, admin, editor, client_for, mcp_test_server, allow_loopback
):
    server_id = _create(
        client_for(admin, workspace), name="Tools", url=mcp_test_server.url, allowed_tools=["add", "echo"]
    ).json()["id"]

    response = client_for(editor, workspace).post(f"/api/v1/mcp-servers/{server_id}/tools")

    assert response.status_code == 200
    tools = response.json()
    assert [t["name"] for t in tools] == ["add", "echo"]
    assert tools[0]["description"] == "Adds two integers."
    assert tools[0]["input_schema"]["required"] == ["a", "b"]
    assert tools[0]["input_schema"]["properties"]["a"]["type"] == "integer"
    server = McpServer.objects.get()
    assert [t["name"] for t in server.tools] == ["add", "echo"]
    assert server.tools_fetched_at is not None


@pytest.mark.django_db
def test_fetch_tools_sends_the_headers_secret_value_and_never_returns_it(
    workspace, admin, client_for, mcp_test_server, allow_loopback
):
    secret_create(workspace=workspace, name="MCP_TOKEN", value="Bearer tok-123")
    server = McpServer.objects.create(
        workspace=workspace, name="Tools", url=mcp_test_server.url, headers={"Authorization": {"secret": "MCP_TOKEN"}}
    )
    from accounts.mcp_servers import mcp_server_headers

    result = mcp_client.call_tool(
        url=server.url, headers=mcp_server_headers(server=server), tool="whoami", arguments={}
    )
    response = client_for(admin, workspace).post(f"/api/v1/mcp-servers/{server.pk}/tools")

    assert result.text == "auth=Bearer tok-123"
    assert response.status_code == 200
    assert "tok-123" not in response.content.decode()
    assert "tok-123" not in client_for(admin, workspace).get(f"/api/v1/mcp-servers/{server.pk}").content.decode()


@pytest.mark.django_db
def test_fetch_tools_on_a_loopback_server_is_refused_by_the_ssrf_guard(workspace, admin, client_for, mcp_test_server):
    server_id = _create(client_for(admin, workspace), name="Tools", url=mcp_test_server.url).json()["id"]

    response = client_for(admin, workspace).post(f"/api/v1/mcp-servers/{server_id}/tools")

    assert response.status_code == 502
    assert response.json()["error"]["code"] == "blocked_url"
    assert "loopback" in response.json()["error"]["message"]
    assert McpServer.objects.get().tools is None


@pytest.mark.django_db
def test_fetch_tools_on_a_server_answering_garbage_is_a_clear_error_and_keeps_nothing(
    workspace, admin, client_for, mcp_test_server, allow_loopback
):
    server_id = _create(client_for(admin, workspace), name="Tools", url=mcp_test_server.garbage_url).json()["id"]

    response = client_for(admin, workspace).post(f"/api/v1/mcp-servers/{server_id}/tools")

    assert response.status_code == 502
    assert response.json()["error"] == {
        "code": "mcp_protocol_error",
        "message": "The server did not answer as an MCP server (streamable HTTP): it sent text/html, "
        "not JSON or an event stream. Check the URL.",
        "details": [],
    }
    assert McpServer.objects.get().tools is None


def test_a_call_returns_structured_content_when_the_tool_has_some(mcp_test_server, allow_loopback):
    result = mcp_client.call_tool(url=mcp_test_server.url, headers={}, tool="add", arguments={"a": 2, "b": 3})

    assert result.is_error is False
    assert result.structured == {"sum": 5}
    assert result.value == {"sum": 5}


def test_a_call_of_a_text_tool_returns_its_text(mcp_test_server, allow_loopback):
    result = mcp_client.call_tool(url=mcp_test_server.url, headers={}, tool="echo", arguments={"text": "hi"})

    assert result.text == "echo: hi"


def test_a_tool_error_comes_back_as_an_error_result(mcp_test_server, allow_loopback):
    result = mcp_client.call_tool(url=mcp_test_server.url, headers={}, tool="explode", arguments={"reason": "x"})

    assert result.is_error is True
    assert result.text == "Error executing tool explode: exploded: x"


def test_a_hanging_server_fails_the_call_with_a_timeout(mcp_test_server, allow_loopback):
    with pytest.raises(mcp_client.McpError) as caught:
        mcp_client.call_tool(url=mcp_test_server.url, headers={}, tool="hang", arguments={}, timeout_s=1)

    assert caught.value.code == "timeout"
    assert caught.value.message == "The MCP server did not answer within 1 s."
    assert caught.value.retryable is True


def test_a_huge_result_is_cut_off_at_the_size_cap(mcp_test_server, allow_loopback):
    with pytest.raises(mcp_client.McpError) as caught:
        mcp_client.call_tool(url=mcp_test_server.url, headers={}, tool="huge", arguments={}, max_bytes=100_000)

    assert caught.value.code == "response_too_large"
    assert caught.value.message == (
        "The MCP server's answer is larger than the limit of 100000 bytes (TRELLIS_MCP_MAX_RESPONSE_BYTES)."
    )


def test_json_that_is_not_json_rpc_is_a_protocol_error(mcp_test_server, allow_loopback):
    with pytest.raises(mcp_client.McpError) as caught:
        mcp_client.list_tools(url=mcp_test_server.url.replace("/mcp/", "/json/mcp"), headers={}, timeout_s=5)

    assert caught.value.code == "mcp_protocol_error"
    assert "not a valid JSON-RPC message" in caught.value.message


def test_an_unauthorised_answer_names_the_status(mcp_test_server, allow_loopback):
    with pytest.raises(mcp_client.McpError) as caught:
        mcp_client.list_tools(url=mcp_test_server.url.replace("/mcp/", "/locked/mcp"), headers={}, timeout_s=5)

    assert caught.value.code == "http_error"
    assert caught.value.message == "The MCP server answered HTTP 401 (check the headers and their secrets)."


def test_a_private_address_is_refused_before_any_connection():
    with pytest.raises(mcp_client.McpError) as caught:
        mcp_client.list_tools(url="http://10.1.2.3/mcp", headers={})

    assert caught.value.code == "blocked_url"
    assert "private address" in caught.value.message
