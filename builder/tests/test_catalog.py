from jsonschema import Draft202012Validator

from builder.catalog import NODE_TYPES, ports_for

DESIGN_TYPES = {
    "start": "core",
    "agent": "core",
    "end": "core",
    "note": "core",
    "http_request": "tools",
    "guardrails": "tools",
    "file_search": "tools",
    "mcp": "tools",
    "if_else": "logic",
    "while": "logic",
    "user_approval": "logic",
    "transform": "data",
    "set_state": "data",
}


def test_every_design_node_type_is_registered_in_its_group():
    # Types added since DESIGN §4 (one file each, CONTRIBUTING.md) are welcome; none of these may go missing.
    assert {t: NODE_TYPES[t].group for t in DESIGN_TYPES if t in NODE_TYPES} == DESIGN_TYPES


def test_defaults_of_every_type_satisfy_its_schema():
    for node_type in NODE_TYPES.values():
        Draft202012Validator.check_schema(node_type.config_schema)
        errors = list(node_type.validator.iter_errors(node_type.full_defaults()))
        assert errors == [], node_type.type


def test_schemas_reject_unknown_fields():
    for node_type in NODE_TYPES.values():
        assert not node_type.validator.is_valid({**node_type.full_defaults(), "surprise": 1}), node_type.type


def test_only_note_is_not_executable_and_every_type_is_available():
    assert [t for t, nt in NODE_TYPES.items() if not nt.executable] == ["note"]
    assert sorted(t for t, nt in NODE_TYPES.items() if not nt.available) == []
    assert NODE_TYPES["mcp"].available and NODE_TYPES["file_search"].available


def test_ports_are_derived_from_type_and_config():
    cases = [{"port": "refund", "condition": "true"}, {"port": "other", "condition": "false"}]
    assert ports_for({"type": "if_else", "config": {"cases": cases}}) == ["refund", "other", "else"]
    assert ports_for({"type": "while", "config": {}}) == ["loop", "exit"]
    assert ports_for({"type": "user_approval", "config": {}}) == ["approved", "rejected"]
    assert ports_for({"type": "guardrails", "config": {"on_error": "route"}}) == ["pass", "fail", "error"]
    assert ports_for({"type": "agent", "config": {}}) == ["out"]
    assert ports_for({"type": "end", "config": {}}) == []
    assert ports_for({"type": "note", "config": {"on_error": "route"}}) == []


def test_node_types_api_lists_the_catalog(client_for, viewer, workspace):
    response = client_for(viewer, workspace).get("/api/v1/node-types")
    assert response.status_code == 200
    by_type = {item["type"]: item for item in response.json()}
    assert list(by_type) == list(NODE_TYPES)
    assert set(DESIGN_TYPES) <= set(by_type)
    assert by_type["if_else"]["dynamic_ports"] == {"list_field": "cases", "id_key": "port", "label_key": "label"}
    assert by_type["agent"]["dynamic_ports"] is None
    assert by_type["transform"]["inline"] is True
    assert by_type["agent"]["inline"] is False
    assert by_type["start"]["output"] == {"schema": None, "schema_from": "/input_schema", "keys_from": None}
    assert by_type["if_else"]["ports"] == ["else"]
    assert by_type["agent"]["config_schema"]["additionalProperties"] is False
    assert by_type["agent"]["defaults"]["model"] == "gpt-4.1-mini"
    assert by_type["file_search"]["available"] is True
    assert by_type["mcp"]["available"] is True
    assert set(by_type["agent"]) == {
        "type",
        "group",
        "label",
        "description",
        "icon",
        "docs_url",
        "config_schema",
        "defaults",
        "ports",
        "dynamic_ports",
        "output",
        "executable",
        "inline",
        "available",
        "unavailable_reason",
    }


def test_node_types_api_needs_a_login(client):
    assert client.get("/api/v1/node-types").status_code in (401, 403)


def test_header_auth_must_name_its_header():
    schema = NODE_TYPES["http_request"].validator
    config = {"method": "GET", "url": "https://x", "auth": {"type": "header", "secret": "KEY"}}
    assert not schema.is_valid(config)
    config["auth"]["header"] = "X-Api-Key"
    assert schema.is_valid(config)
    assert NODE_TYPES["http_request"].fast_validator.is_valid(config)


def test_the_fast_and_the_explaining_validators_agree():
    from builder.services.templates import TEMPLATES

    configs = [(nt, nt.full_defaults()) for nt in NODE_TYPES.values()]
    configs += [(nt, {**nt.full_defaults(), "surprise": 1}) for nt in NODE_TYPES.values()]
    for template in TEMPLATES.values():
        configs += [(NODE_TYPES[n["type"]], n["config"]) for n in template.graph()["nodes"]]
    configs += [
        (NODE_TYPES["if_else"], {"cases": [{"port": "else", "condition": "true"}]}),
        (
            NODE_TYPES["agent"],
            {"model": "m", "tools": [{"type": "http", "name": "bad name", "method": "GET", "url": ""}]},
        ),
        (NODE_TYPES["guardrails"], {"text": "x", "checks": [{"type": "custom"}]}),
        (NODE_TYPES["end"], {"output": {"a": ""}}),
    ]
    for node_type, config in configs:
        assert node_type.fast_validator.is_valid(config) == node_type.validator.is_valid(config), (
            node_type.type,
            config,
        )


def test_expression_and_template_fields_come_from_the_schema_marks():
    agent = {
        "model": "m",
        "instructions": "Hi {{ input.name }}",
        "messages": [{"role": "user", "content": "{{ input.q }}"}],
        "tools": [
            {"type": "http", "name": "t", "method": "GET", "url": "https://x/{{ input.id }}", "headers": {"A": "b"}},
            {"type": "file_search", "name": "s", "knowledge_base": "kb"},
        ],
    }
    assert list(NODE_TYPES["agent"].fields(agent)) == [
        ("config.instructions", "Hi {{ input.name }}", "template"),
        ("config.messages[0].content", "{{ input.q }}", "template"),
        ("config.tools[0].url", "https://x/{{ input.id }}", "template"),
        ("config.tools[0].headers.A", "b", "template"),
    ]
    http = NODE_TYPES["http_request"]
    assert list(http.fields({"method": "POST", "url": "u", "body": {"k": "input.v"}})) == [
        ("config.url", "u", "template"),
        ("config.body.k", "input.v", "expression"),
    ]
    assert list(http.fields({"method": "POST", "url": "u", "body": "raw {{ input.v }}"}))[1] == (
        "config.body",
        "raw {{ input.v }}",
        "template",
    )
    checks = [{"type": "pii"}, {"type": "custom", "condition": "size(input) > 0"}]
    assert list(NODE_TYPES["guardrails"].fields({"text": "input", "checks": checks})) == [
        ("config.text", "input", "expression"),
        ("config.checks[1].condition", "size(input) > 0", "expression"),
    ]
    assert list(NODE_TYPES["end"].fields({"output": "input"})) == [("config.output", "input", "expression")]
