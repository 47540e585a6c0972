import pytest

from builder import topology
from builder.services.graph import check_shape, shape_errors, triples
from builder.tests.factories import edge, end, graph, linear, node, start
from trellis.errors import ApplicationError


def fields(errors):
    return [(e["field"], e["message"]) for e in errors]


def test_a_well_formed_graph_has_no_shape_errors():
    assert shape_errors(linear()) == []


def test_unknown_fields_are_rejected_at_every_level():
    g = linear()
    g["extra"] = 1
    g["nodes"][0]["colour"] = "red"
    g["edges"][0]["label"] = "x"
    assert fields(shape_errors(g)) == [
        ("extra", "Unknown field 'extra'."),
        ("nodes[0].colour", "Unknown field 'colour'."),
        ("edges[0].label", "Unknown field 'label'."),
    ]


def test_the_format_is_checked():
    g = linear()
    g["format"] = "trellis.graph/2"
    assert fields(shape_errors(g)) == [("format", "The format must be 'trellis.graph/1'.")]


def test_node_ids_must_match_the_pattern_and_be_unique():
    g = graph([start(), node("Bad-Id", "transform", output={}), node("start", "end")], [])
    assert fields(shape_errors(g)) == [
        ("nodes[1].id", "A node id must match [a-z][a-z0-9_]{0,63}."),
        ("nodes[2].id", "Duplicate node id 'start'."),
    ]


def test_unknown_node_types_and_bad_types_are_rejected():
    g = graph([start(), {"id": "x", "type": "python", "config": []}], [{"id": "e", "source": 1, "target": "x"}])
    assert fields(shape_errors(g)) == [
        ("nodes[1].type", 'Unknown node type "python".'),
        ("nodes[1].config", "A config must be an object."),
        ("edges[0].source", "'source' must be a node id."),
    ]


def test_a_node_type_that_is_an_object_or_a_list_is_a_shape_error_not_a_crash():
    # Found by Schemathesis: `{"type": {}}` raised TypeError (unhashable) and the API answered 500.
    g = graph([start(), {"id": "a", "type": {}}, {"id": "b", "type": ["end"]}], [])

    assert fields(shape_errors(g)) == [
        ("nodes[1].type", "Unknown node type {}."),
        ("nodes[2].type", 'Unknown node type ["end"].'),
    ]


def test_size_limits_come_from_settings(settings):
    settings.GRAPH_MAX_NODES = 3
    g = graph([start(), end("a"), end("b"), end("c")], [])
    assert fields(shape_errors(g)) == [("nodes", "The graph has 4 nodes; the limit is 3.")]
    with pytest.raises(ApplicationError) as exc:
        check_shape(g)
    assert exc.value.status == 413


def test_deep_nesting_is_rejected():
    deep: dict = {}
    cursor = deep
    for _ in range(50):
        cursor["a"] = {}
        cursor = cursor["a"]
    g = graph([start(state=deep), end()], [])
    [error] = shape_errors(g)
    assert error["message"] == "The graph is nested more than 32 levels deep."


def test_malformed_graph_raises_400_with_details():
    with pytest.raises(ApplicationError) as exc:
        check_shape({"format": "trellis.graph/1", "nodes": {}, "edges": []})
    assert (exc.value.status, exc.value.code) == (400, "invalid_graph")
    assert exc.value.details == [{"node_id": None, "field": "nodes", "message": "'nodes' must be a list."}]


def test_upstream_includes_loop_bodies():
    g = graph(
        [start(), node("w", "while", condition="true"), node("body", "transform", output={}), end()],
        [edge("start", "w"), edge("w", "body", "loop"), edge("body", "w"), edge("w", "done", "exit")],
    )
    upstream = topology.upstream_sets([n["id"] for n in g["nodes"]], triples(g))
    assert upstream["start"] == set()
    assert upstream["body"] == {"start", "w", "body"}
    assert upstream["done"] == {"start", "w", "body"}
