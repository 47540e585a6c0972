"""Each validation rule, with the exact issue it reports."""

from builder.services.templates import TEMPLATES
from builder.services.validation import has_errors, validate_graph
from builder.tests.factories import edge, end, graph, linear, node, start


def issue(severity, node_id, field, message):
    return {"severity": severity, "node_id": node_id, "field": field, "message": message}


def test_a_clean_graph_has_no_issues():
    assert validate_graph(linear()) == []


def test_every_template_is_valid():
    for template in TEMPLATES.values():
        assert validate_graph(template.graph()) == [], template.slug


def test_malformed_graph_reports_its_shape_errors():
    g = linear()
    g["nodes"][1]["id"] = "Work"
    assert validate_graph(g) == [issue("error", "Work", "nodes[1].id", "A node id must match [a-z][a-z0-9_]{0,63}.")]


def test_duplicate_ids_are_errors():
    g = linear()
    g["nodes"].append(node("work", "transform", output={}))
    assert validate_graph(g) == [issue("error", "work", "nodes[3].id", "Duplicate node id 'work'.")]


def test_missing_start_is_an_error():
    g = graph([node("work", "transform", output={}), end()], [edge("work", "done")])
    assert issue("error", None, "nodes", "The workflow needs a Start node.") in validate_graph(g)


def test_a_second_start_is_an_error():
    g = linear()
    g["nodes"].append(node("start2", "start"))
    g["edges"].append(edge("start2", "done"))
    assert validate_graph(g) == [
        issue("error", "start2", "type", "A workflow has exactly one Start node; remove this one.")
    ]


def test_missing_end_is_an_error():
    g = graph([start(), node("work", "transform", output={})], [edge("start", "work")])
    assert validate_graph(g) == [issue("error", None, "nodes", "The workflow needs an End node.")]


def test_an_end_that_start_cannot_reach_is_an_error():
    g = graph([start(), node("work", "transform", output={}), end()], [edge("start", "work")])
    assert validate_graph(g) == [
        issue("error", None, "nodes", "No End node can be reached from Start."),
        issue("warning", "done", None, "'done' is not connected and will never run."),
    ]


def test_edges_must_reference_existing_nodes():
    g = linear()
    g["edges"].append(edge("work", "ghost", edge_id="e9"))
    assert validate_graph(g) == [issue("error", None, "edges.e9.target", "Edge e9 ends at unknown node 'ghost'.")]


def test_edges_must_leave_from_a_valid_port():
    g = linear()
    g["edges"][1]["source_port"] = "yes"
    g["edges"][1]["id"] = "e2"
    issues = validate_graph(g)
    assert issues[0] == issue("error", "work", "edges.e2.source_port", "'work' has no port 'yes' (ports: out).")


def test_the_error_port_exists_only_when_on_error_is_route():
    g = linear()
    g["nodes"].append(end("failed"))
    g["edges"].append(edge("work", "failed", "error", edge_id="e_err"))
    assert validate_graph(g)[0] == issue(
        "error", "work", "edges.e_err.source_port", "'work' has no port 'error' (ports: out)."
    )
    g["nodes"][1]["config"]["on_error"] = "route"
    assert validate_graph(g) == []


def test_end_nodes_have_no_output_ports():
    g = linear()
    g["nodes"].append(end("after"))
    g["edges"].append(edge("done", "after", edge_id="e3"))
    assert validate_graph(g)[0] == issue("error", "done", "edges.e3.source_port", "End nodes have no output ports.")


def test_duplicate_edges_are_errors():
    g = linear()
    g["edges"].append(edge("work", "done", edge_id="again"))
    assert validate_graph(g) == [issue("error", "work", "edges.again", "Duplicate edge from 'work' (out) to 'done'.")]


def test_a_cycle_outside_a_while_loop_is_an_error():
    g = graph(
        [start(), node("a", "transform", output={}), node("b", "transform", output={}), end()],
        [edge("start", "a"), edge("a", "b"), edge("b", "a"), edge("b", "done")],
    )
    assert validate_graph(g) == [
        issue("error", "a", None, "Cycle a → b → a does not go through a While node's loop port.")
    ]


def test_a_cycle_through_a_while_loop_port_is_allowed_and_loop_index_is_in_scope_there():
    g = graph(
        [
            start(),
            node("w", "while", condition="loop.index < 3", max_iterations=5),
            node("body", "transform", output={"i": "loop.index"}),
            end(output={"count": "state.count"}),
        ],
        [edge("start", "w"), edge("w", "body", "loop"), edge("body", "w"), edge("w", "done", "exit")],
    )
    assert validate_graph(g) == []


def test_a_cycle_through_a_while_exit_port_is_an_error():
    g = graph(
        [start(), node("w", "while", condition="true"), node("after", "transform", output={}), end()],
        [edge("start", "w"), edge("w", "after", "exit"), edge("after", "w"), edge("w", "done", "loop")],
    )
    assert issue("error", "w", None, "Cycle w → after → w does not go through a While node's loop port.") in (
        validate_graph(g)
    )


def test_loop_index_outside_a_while_body_is_an_error():
    g = linear()
    g["nodes"][1]["config"]["output"] = {"i": "loop.index"}
    assert validate_graph(g) == [
        issue("error", "work", "config.output.i", "'loop' is only available inside a While loop.")
    ]


def test_unconnected_executable_nodes_are_warnings_but_notes_are_fine():
    g = linear()
    g["nodes"].append(node("stray", "transform", output={}))
    g["nodes"].append(node("memo", "note", text="hello"))
    assert validate_graph(g) == [issue("warning", "stray", None, "'stray' is not connected and will never run.")]
    assert not has_errors(validate_graph(g))


def test_config_is_checked_against_the_type_schema():
    g = linear()
    g["nodes"][1] = node("work", "http_request", method="FETCH", url="https://x", surprise=True)
    assert validate_graph(g) == [
        issue(
            "error", "work", "config.method", "'FETCH' is not one of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']"
        ),
        issue("error", "work", "config.surprise", "Unknown field 'surprise'."),
    ]


def test_required_config_is_reported():
    g = linear()
    g["nodes"][1] = node("work", "if_else")
    g["edges"][1]["source_port"] = "else"
    assert validate_graph(g) == [issue("error", "work", "config", "'cases' is a required property")]


def test_unavailable_node_types_block_publishing(monkeypatch):
    # every type is available today; a type can still ship greyed out (e.g. one that needs a missing service)
    from dataclasses import replace

    from builder.catalog import NODE_TYPES

    monkeypatch.setitem(
        NODE_TYPES, "transform", replace(NODE_TYPES["transform"], available=False, unavailable_reason="Not yet.")
    )
    assert validate_graph(linear()) == [issue("error", "work", "type", "Transform: Not yet.")]


def test_expression_syntax_errors_point_at_the_field_and_position():
    g = linear()
    g["nodes"][1]["config"]["output"] = {"upper": "workflow.input.message =="}
    assert validate_graph(g) == [
        issue("error", "work", "config.output.upper", "Syntax error at position 25: the expression ends too early")
    ]


def test_template_errors_point_at_the_field():
    g = linear()
    g["nodes"][1] = node("work", "agent", model="m", instructions="Hi {{ workflow.input.message ")
    assert validate_graph(g) == [issue("error", "work", "config.instructions", "Unclosed '{{' at position 3.")]


def test_references_to_missing_or_downstream_nodes_are_errors():
    g = linear()
    g["nodes"][1]["config"]["output"] = {"a": "nodes.done.output", "b": "nodes.ghost.output"}
    assert validate_graph(g) == [
        issue("error", "work", "config.output.a", "Node 'done' is not upstream of 'work'."),
        issue("error", "work", "config.output.b", "Node 'ghost' does not exist."),
    ]


def test_references_on_a_parallel_branch_are_not_upstream():
    g = graph(
        [
            start(),
            node("left", "transform", output={}),
            node("right", "transform", output={"x": "nodes.left.output"}),
            end(),
        ],
        [edge("start", "left"), edge("start", "right"), edge("left", "done"), edge("right", "done")],
    )
    assert validate_graph(g) == [issue("error", "right", "config.output.x", "Node 'left' is not upstream of 'right'.")]


def test_state_variables_must_be_declared_on_start():
    g = linear()
    g["nodes"][1] = node(
        "work", "set_state", assignments=[{"variable": "total", "expression": "state.count + state.missing"}]
    )
    assert validate_graph(g) == [
        issue("error", "work", "config.assignments[0].variable", "State variable 'total' is not declared on Start."),
        issue(
            "error", "work", "config.assignments[0].expression", "State variable 'missing' is not declared on Start."
        ),
    ]


def test_unknown_names_in_expressions_are_errors():
    g = linear()
    g["nodes"][1]["config"]["output"] = {"a": "[1].map(x, x + nodse.a)"}
    assert validate_graph(g) == [issue("error", "work", "config.output.a", "Unknown name 'nodse'.")]


def test_invalid_json_schemas_are_errors():
    g = linear()
    g["nodes"][0]["config"]["input_schema"] = {"type": "banana"}
    [only] = validate_graph(g)
    assert (only["node_id"], only["field"]) == ("start", "config.input_schema")
    assert only["message"].startswith("Not a valid JSON Schema: ")


def test_duplicate_if_else_ports_are_errors():
    g = linear()
    g["nodes"][1] = node(
        "work", "if_else", cases=[{"port": "a", "condition": "true"}, {"port": "a", "condition": "false"}]
    )
    g["edges"][1]["source_port"] = "else"
    assert validate_graph(g) == [issue("error", "work", "config.cases[1].port", "Duplicate case port 'a'.")]


def test_size_limits_are_reported(settings):
    settings.GRAPH_MAX_NODES = 2
    assert validate_graph(linear()) == [issue("error", None, "nodes", "The graph has 3 nodes; the limit is 2.")]


def test_a_loop_limit_above_the_server_limit_is_a_warning(settings):
    settings.RUN_MAX_LOOP_ITERATIONS = 10
    g = graph(
        [start(), node("w", "while", condition="true", max_iterations=50), node("b", "transform", output={}), end()],
        [edge("start", "w"), edge("w", "b", "loop"), edge("b", "w"), edge("w", "done", "exit")],
    )
    assert validate_graph(g) == [
        issue(
            "warning",
            "w",
            "config.max_iterations",
            "The server stops loops after 10 iterations; 50 will not be reached.",
        )
    ]


def test_workspace_references_are_checked_when_a_workspace_is_given(workspace, owner):
    from accounts.models import ModelProvider
    from accounts.services import secret_set

    g = linear()
    g["nodes"][1] = node(
        "work",
        "agent",
        model="m",
        provider="local",
        tools=[
            {
                "type": "http",
                "name": "lookup",
                "method": "GET",
                "url": "https://api.example.com",
                "auth": {"type": "bearer", "secret": "API_KEY"},
            }
        ],
    )
    assert validate_graph(g) == []  # without a workspace, nothing to look up
    assert validate_graph(g, workspace_id=workspace.pk) == [
        issue("error", "work", "config.provider", "No model provider named 'local' in this workspace."),
        issue(
            "warning", "work", "config.tools[0].auth.secret", "Secret 'API_KEY' does not exist in this workspace yet."
        ),
    ]
    ModelProvider.objects.create(workspace=workspace, name="local")
    secret_set(workspace=workspace, name="API_KEY", value="s3cret", by=owner)
    assert validate_graph(g, workspace_id=workspace.pk) == []


def test_an_agent_workflow_tool_is_refused_at_validation_since_nothing_could_run_it():
    g = linear()
    g["nodes"][1] = node("work", "agent", model="m", tools=[{"type": "workflow", "workflow_id": "x", "name": "h"}])

    issues = validate_graph(g)

    assert [(i["severity"], i["node_id"], i["field"]) for i in issues] == [("error", "work", "config.tools[0]")]
