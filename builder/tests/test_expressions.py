import pytest

from builder.expressions import (
    ExpressionError,
    check_template,
    compile_expression,
    evaluate,
    referenced_nodes,
    referenced_roots,
    referenced_state,
    render_template,
    template_expressions,
    unknown_roots,
    uses_loop,
)

SCOPE = {
    "workflow": {"input": {"message": "Hello", "amount": 120, "price": 9.5, "note": None}},
    "input": {"text": "hi"},
    "nodes": {"triage": {"output": {"intent": "refund", "tags": ["a", "b"]}}, "other": {"output": 1}},
    "state": {"attempts": 2},
    "run": {"id": "r1", "started_at": "2026-01-01T00:00:00Z"},
    "trigger": {"type": "webhook", "headers": {"x-a": "1"}, "query": {}},
    "loop": {"index": 3},
}


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("nodes.triage.output.intent == 'refund'", True),
        ("has(workflow.input.message)", True),
        ("has(workflow.input.missing)", False),
        ("nodes.triage.output.tags.map(t, t + '!')", ["a!", "b!"]),
        ("nodes.triage.output.tags.filter(t, t == 'b')", ["b"]),
        ("nodes.triage.output.tags.exists(t, t == 'a')", True),
        ("workflow.input.message.startsWith('He') && workflow.input.message.contains('ll')", True),
        ("workflow.input.message.lowerAscii()", "hello"),
        ("'a,b'.split(',')", ["a", "b"]),
        ("workflow.input.note == null", True),
        ("workflow.input.amount > 100.5", True),
        ("workflow.input.price * 2.0", 19.0),
        ("workflow.input.amount / 7", 17),
        ("state.attempts + 1", 3),
        ("loop.index", 3),
        ("{'intent': nodes.triage.output.intent, 'n': size(input.text)}", {"intent": "refund", "n": 2}),
        ("timestamp(run.started_at)", "2026-01-01T00:00:00Z"),
        ("trigger.headers['x-a']", "1"),
    ],
)
def test_evaluate_returns_plain_values(source, expected):
    assert evaluate(source, SCOPE) == expected


def test_missing_key_is_a_readable_error():
    with pytest.raises(ExpressionError) as exc:
        evaluate("workflow.input.missing", SCOPE)
    assert exc.value.message == "No such key: 'missing'. Use has(...) to test for a field that may be missing."


def test_mixing_int_and_double_arithmetic_is_an_error_not_a_silent_coercion():
    with pytest.raises(ExpressionError) as exc:
        evaluate("workflow.input.amount + 0.5", SCOPE)
    assert exc.value.message == (
        "No such overload: the operation is not defined for the given operand types. "
        "CEL does not mix types (int and double included): convert with int(), double() or string()."
    )


def test_unknown_name_is_an_error():
    with pytest.raises(ExpressionError) as exc:
        evaluate("nodse.triage", SCOPE)
    assert exc.value.message == "'nodse' is not defined here."


def test_syntax_error_carries_offset():
    with pytest.raises(ExpressionError) as exc:
        compile_expression("state.attempts ==")
    assert exc.value.position == 17
    assert exc.value.message == "Syntax error at position 17: the expression ends too early"


def test_syntax_error_offset_on_second_line():
    with pytest.raises(ExpressionError) as exc:
        compile_expression("1 +\n  'x")
    assert exc.value.position == 6


def test_compiled_programs_are_cached():
    assert compile_expression("1 + 2") is compile_expression("1 + 2")


def test_python_is_never_evaluated():
    with pytest.raises(ExpressionError):
        evaluate("__import__('os').system('true')", SCOPE)


def test_references_are_found_statically():
    source = "nodes.triage.output.tags.exists(t, t == state.mode) && nodes['other'].output > loop.index"
    assert referenced_roots(source) == {"nodes", "state", "loop"}
    assert referenced_nodes(source) == {"triage", "other"}
    assert referenced_state(source) == {"mode"}
    assert uses_loop(source) is True
    assert uses_loop("input.loop") is False
    assert referenced_nodes("'nodes.fake' + input.nodes.x") == set()
    assert unknown_roots("[1].map(q, q + nodse.a)") == {"nodse"}


def test_render_template_inserts_strings_raw_and_other_values_as_json():
    text = render_template("Hi {{ workflow.input.message }}: {{ nodes.triage.output.tags }} {{1 + 1}}", SCOPE)
    assert text == 'Hi Hello: ["a", "b"] 2'


def test_template_hole_may_contain_braces_in_strings_and_maps():
    assert render_template("{{ {'a': '}}'} }}!", SCOPE) == '{"a": "}}"}!'


def test_template_expressions_lists_sources_and_offsets():
    assert template_expressions("a {{ x.y }} b {{z}}") == [("x.y", 5), ("z", 16)]


def test_unclosed_hole_is_an_error_with_position():
    with pytest.raises(ExpressionError) as exc:
        template_expressions("Hello {{ workflow.input")
    assert exc.value.position == 6


def test_check_template_reports_offsets_into_the_template():
    [error] = check_template("ab {{ x == }} c")
    assert error.position == 10
    assert error.message == "Syntax error at position 10: the expression ends too early"
