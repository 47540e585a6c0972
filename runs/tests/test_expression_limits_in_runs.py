"""An expression past its cost budget or deadline fails its step with `expression_limit`, naming the limit,
the expression and the node; the run ends instead of holding a worker."""

import pytest

from builder.tests.test_expression_limits import NESTED_EXISTS
from runs.models import Step
from runs.tests.helpers import line, node, start

pytestmark = pytest.mark.django_db


def test_a_transform_past_its_deadline_fails_the_run_with_expression_limit(make_run, advance, settings):
    # given
    settings.EXPRESSION_MAX_COST = 10**12
    settings.EXPRESSION_TIMEOUT_MS = 50
    g = line(start(), node("work", "transform", output={"any": NESTED_EXISTS}), node("end", "end", output="1"))
    run = make_run(g, {})
    # when
    run = advance(run)
    # then
    assert run.status == "failed"
    assert run.error["code"] == "expression_limit"
    assert run.error["node_id"] == "work"
    assert run.error["message"] == (
        f"Expression '{NESTED_EXISTS[:119]}…' on node 'work': "
        "Expression limit: the evaluation ran longer than its 50 ms deadline."
    )
    step = Step.objects.get(run=run, node_id="work")
    assert step.status == "failed"
    assert step.error["details"] == {"limit": "time", "expression": NESTED_EXISTS, "node_id": "work"}
    assert not Step.objects.filter(run=run, node_id="end").exists()


def test_a_template_past_its_cost_budget_fails_with_expression_limit(make_run, advance, settings):
    settings.EXPRESSION_MAX_COST = 100_000
    template = "Items: {{ size(lists.range(1000000)) }}"
    g = line(start(), node("fetch", "http_request", method="GET", url=template), node("end", "end", output="1"))
    run = advance(make_run(g, {}))
    assert run.status == "failed"
    assert run.error["code"] == "expression_limit"
    step = Step.objects.get(run=run, node_id="fetch")
    assert step.error["details"] == {"limit": "cost", "expression": template, "node_id": "fetch"}
    assert step.error["message"] == (
        "Template on node 'fetch': In '{{ size(lists.range(1000000)) }}': "
        "Expression limit: the evaluation went over its cost budget of 100,000 units."
    )


def test_map_over_a_130_000_item_input_succeeds_with_the_default_limits(make_run, advance):
    g = line(
        start(),
        node("double", "transform", output={"n": "size(workflow.input.items.map(x, x * 2))"}),
        node("end", "end", output={"n": "nodes.double.output.n"}),
    )
    run = advance(make_run(g, {"items": list(range(130_000))}))
    assert run.status == "succeeded", run.error
    assert run.output == {"n": 130_000}
