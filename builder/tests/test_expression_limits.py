"""Every evaluation is bounded: a cost budget (iterations plus bytes allocated) and a deadline. The cases are
the ones that froze the server before (issue: hardening, section 1)."""

import pytest

from builder.expressions import ExpressionError, ExpressionLimitError, compile_expression, evaluate

TEN = "[1,2,3,4,5,6,7,8,9,10]"
# 10^7 iterations: 16.8 s before.
NESTED_EXISTS = (
    f"{TEN}.exists(a, {TEN}.exists(b, {TEN}.exists(c, {TEN}.exists(d, {TEN}.exists(e, {TEN}.exists(f, "
    f"{TEN}.exists(g, g < 0)))))))"
)
# 10^6 lists of lists: 328 MB before.
NESTED_MAP = f"{TEN}.map(a, {TEN}.map(b, {TEN}.map(c, {TEN}.map(d, {TEN}.map(e, {TEN}.map(f, f * 2))))))"


def items_scope(n: int) -> dict:
    return {"workflow": {"input": {"items": list(range(n))}}}


def test_map_over_the_930_kb_webhook_body_finishes_within_the_default_cost_budget():
    # 130,000 items, under the 1 MiB webhook cap: froze the server for more than 7 minutes before. The default
    # deadline (100 ms) is a speed, measured by bench/bench_expressions.py, not asserted here: on a busy 2-core
    # machine this took 110 ms.
    assert evaluate("size(workflow.input.items.map(x, x * 2))", items_scope(130_000), timeout_ms=60_000) == 130_000


def test_map_and_filter_build_their_lists_in_order():
    # Order, not speed (the test above holds the default limits): a generous deadline, so that a busy machine
    # does not fail it.
    scope = items_scope(100_000)
    doubled = evaluate("workflow.input.items.map(x, x * 2)", scope, timeout_ms=60_000)
    assert len(doubled) == 100_000 and doubled[:3] == [0, 2, 4] and doubled[-1] == 199_998
    found = evaluate("workflow.input.items.filter(x, x % 25000 == 0)", scope, timeout_ms=60_000)
    assert found == [0, 25_000, 50_000, 75_000]


def test_seven_nested_exists_stop_at_the_cost_budget():
    with pytest.raises(ExpressionLimitError) as exc:
        evaluate(NESTED_EXISTS, {}, max_cost=1_000_000, timeout_ms=600_000)
    assert exc.value.limit == "cost"
    assert exc.value.message == "Expression limit: the evaluation went over its cost budget of 1,000,000 units."


def test_seven_nested_exists_stop_at_the_deadline():
    with pytest.raises(ExpressionLimitError) as exc:
        evaluate(NESTED_EXISTS, {}, max_cost=10**12, timeout_ms=50)
    assert exc.value.limit == "time"
    assert exc.value.message == "Expression limit: the evaluation ran longer than its 50 ms deadline."


def test_six_nested_maps_stop_at_the_cost_budget_before_they_fill_memory():
    with pytest.raises(ExpressionLimitError) as exc:
        evaluate(NESTED_MAP, {}, max_cost=1_000_000, timeout_ms=600_000)
    assert exc.value.limit == "cost"


def test_lists_range_is_refused_before_it_allocates():
    with pytest.raises(ExpressionLimitError) as exc:
        evaluate("size(lists.range(5000000))", {}, max_cost=10_000_000, timeout_ms=600_000)
    assert exc.value.limit == "cost"
    assert evaluate("lists.range(3)", {}) == [0, 1, 2]


def test_a_quadratic_map_over_the_input_stops_at_the_cost_budget():
    with pytest.raises(ExpressionLimitError) as exc:
        evaluate(
            "size(workflow.input.items.map(a, workflow.input.items.map(b, b)))",
            items_scope(20_000),
            timeout_ms=600_000,
        )
    assert exc.value.limit == "cost"


def test_comparing_large_values_inside_a_comprehension_is_charged():
    # Each comparison walks 5,000 items: free comparisons would make this 2.5 * 10^7 steps for 5,000 units.
    with pytest.raises(ExpressionLimitError) as exc:
        evaluate(
            "workflow.input.items.all(x, workflow.input.items == workflow.input.items)",
            items_scope(5_000),
            max_cost=1_000_000,
            timeout_ms=600_000,
        )
    assert exc.value.limit == "cost"


def test_replace_that_would_build_a_huge_string_is_refused_before_it_builds_it():
    scope = {"input": {"text": "a" * 100_000}}
    with pytest.raises(ExpressionLimitError) as exc:
        evaluate("size(input.text.replace('a', input.text))", scope)
    assert exc.value.limit == "cost"


def test_a_regex_that_backtracks_for_ever_elsewhere_is_linear_here():
    scope = {"input": {"text": "a" * 30_000 + "!"}}
    assert evaluate("input.text.matches('^(a+)+$')", scope) is False


def test_limits_are_not_absorbed_by_logical_operators():
    # `true || error` is true in CEL, but running out of budget is not an error the expression may hide.
    with pytest.raises(ExpressionLimitError):
        evaluate(f"false || {NESTED_EXISTS}", {}, max_cost=100_000, timeout_ms=600_000)


def test_deeply_nested_source_is_a_syntax_error_not_a_crash():
    with pytest.raises(ExpressionError) as exc:
        compile_expression("(" * 500 + "1" + ")" * 500)
    assert exc.value.message == "Syntax error at position 80: the expression nests too deeply (more than 80 levels)"
    with pytest.raises(ExpressionError) as exc:
        compile_expression(" + ".join(["1"] * 200))
    assert "nests too deeply" in exc.value.message


def test_an_unknown_function_is_refused_when_compiled():
    with pytest.raises(ExpressionError) as exc:
        compile_expression("input.text.shout()")
    assert exc.value.message == "Syntax error at position 11: unknown function 'shout'"


def test_limits_come_from_the_settings(settings):
    settings.EXPRESSION_MAX_COST = 5_000
    with pytest.raises(ExpressionLimitError) as exc:
        evaluate("size(workflow.input.items.map(x, x))", items_scope(10_000))
    assert exc.value.message == "Expression limit: the evaluation went over its cost budget of 5,000 units."


def test_the_garbage_collector_runs_again_after_a_large_evaluation():
    import gc

    # given: an evaluation large enough to pause the collector (values are trees: no cycles to find)
    assert gc.isenabled()
    with pytest.raises(ExpressionLimitError):
        evaluate(NESTED_MAP, {}, max_cost=1_000_000, timeout_ms=600_000)
    # then
    assert gc.isenabled()
    assert evaluate("size(lists.range(100000))", {}) == 100_000
    assert gc.isenabled()
