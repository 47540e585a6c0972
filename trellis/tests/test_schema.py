import pytest

ACCOUNT_PATHS = [
    "/api/v1/me",
    "/api/v1/workspaces",
    "/api/v1/workspaces/{workspace_id}",
    "/api/v1/workspaces/{workspace_id}/leave",
    "/api/v1/members",
    "/api/v1/members/{member_id}",
    "/api/v1/invitations",
    "/api/v1/invitations/{invitation_id}",
    "/api/v1/tokens",
    "/api/v1/tokens/{token_id}",
    "/api/v1/secrets",
    "/api/v1/secrets/{secret_id}",
    "/api/v1/providers",
    "/api/v1/providers/{provider_id}",
    "/api/v1/providers/{provider_id}/test",
]


@pytest.mark.django_db
def test_the_openapi_schema_loads_and_documents_the_accounts_api(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")

    schema = response.json()
    assert response.status_code == 200
    assert schema["info"]["title"] == "Trellis API"
    assert set(ACCOUNT_PATHS) <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["apiToken"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "trl_…",
        "description": "A workspace-scoped API token (Settings → API tokens, or `manage.py create_api_token`).",
    }
    # write-only fields never appear in a response schema
    assert "value" not in schema["components"]["schemas"]["SecretOut"]["properties"]
    assert "api_key" not in schema["components"]["schemas"]["ProviderOut"]["properties"]


@pytest.mark.django_db
def test_the_accounts_api_generates_without_schema_warnings():
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator

    GENERATOR_STATS.reset()
    GENERATOR_STATS.silent = True
    SchemaGenerator().get_schema(request=None, public=True)

    ours = [w for w in GENERATOR_STATS._warn_cache if "accounts/" in w or "trellis/" in w]
    ours += [e for e in GENERATOR_STATS._error_cache if "accounts/" in e or "trellis/" in e]
    assert ours == []


@pytest.mark.django_db
def test_the_api_docs_page_loads_with_local_assets(client):
    response = client.get("/api/docs/")

    body = response.content.decode()
    assert response.status_code == 200
    assert "swagger-ui" in body
    assert "cdn.jsdelivr" not in body and "unpkg" not in body


@pytest.fixture
def schema(db):
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def test_every_operation_declares_the_error_answers_in_the_error_shape(schema):
    methods = {"get", "post", "put", "patch", "delete"}
    operations = [(m, op) for ops in schema["paths"].values() for m, op in ops.items() if m in methods]

    for method, operation in operations:
        expected = {"400", "401", "403", "404", "429"} | ({"409", "413", "422"} if method != "get" else set())
        assert expected <= set(operation["responses"]), operation["operationId"]
    assert schema["components"]["responses"]["NotFound"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Error"
    }
    assert schema["components"]["schemas"]["Error"]["properties"]["error"]["required"] == [
        "code",
        "message",
        "details",
    ]


def test_a_status_a_view_declares_itself_is_kept(schema):
    members = schema["paths"]["/api/v1/members/{member_id}"]

    assert set(members["delete"]["responses"]) == {"204", "400", "401", "403", "404", "409", "413", "422", "429"}
    assert members["delete"]["responses"]["204"] == {"description": "No response body"}


def test_a_url_field_that_may_be_blank_is_documented_as_a_url_or_empty(schema):
    base_url = schema["components"]["schemas"]["ProviderOut"]["properties"]["base_url"]

    assert base_url == {
        "anyOf": [{"type": "string", "format": "uri", "maxLength": 500}, {"type": "string", "enum": [""]}]
    }


def test_a_non_blank_text_field_of_a_request_says_min_length_1(schema):
    token_in = schema["components"]["schemas"]["TokenInRequest"]

    assert token_in["properties"]["name"] == {"type": "string", "minLength": 1, "maxLength": 100}


def test_a_body_whose_view_refuses_unknown_fields_says_additional_properties_false(schema):
    schemas = schema["components"]["schemas"]

    assert schemas["WorkflowCreateInRequest"]["additionalProperties"] is False
    assert schemas["ImportInRequest"]["additionalProperties"] is False
    format_ref = schemas["ImportInRequest"]["properties"]["format"]["$ref"]
    assert schemas[format_ref.rsplit("/", 1)[1]]["enum"] == ["trellis.export/1"]
    assert "additionalProperties" not in schemas["TokenInRequest"]


def test_the_run_filters_document_exactly_the_values_they_take(schema):
    params = {p["name"]: p["schema"] for p in schema["paths"]["/api/v1/runs"]["get"]["parameters"]}

    assert params["version"]["pattern"] == "^(draft|[0-9]*[1-9][0-9]*)?$"
    assert params["status"]["pattern"].startswith("^(queued|running|")


def test_an_operation_that_calls_a_configured_server_documents_its_gateway_answers(schema):
    tools = schema["paths"]["/api/v1/mcp-servers/{server_id}/tools"]["post"]["responses"]
    members = schema["paths"]["/api/v1/members/{member_id}"]["delete"]["responses"]

    assert {"502", "504"} <= set(tools)
    assert not {"502", "504"} & set(members)
