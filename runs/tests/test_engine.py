"""Engine semantics: activation, branches, loops, errors, retries, timeouts and limits."""


import pytest

from runs.models import RunEvent, Step
from runs.services import run_start
from runs.tests.helpers import line, node, start

pytestmark = pytest.mark.django_db


def steps_of(run):
    return list(Step.objects.filter(run=run).order_by("order", "started_at"))


def test_a_line_of_transforms_produces_the_end_output(make_workflow, advance):
    # given
    g = line(
        start(),
        node("a", "transform", output={"greeting": "'hello ' + workflow.input.name"}),
        node("b", "transform", output={"loud": "input.greeting.upperAscii()", "n": "size(input.greeting)"}),
        node("end", "end", output={"text": "nodes.b.output.loud", "n": "nodes.b.output.n"}),
    )
    run = run_start(workflow=make_workflow(g), input={"name": "ada"})
    # when
    run = advance(run)
    # then
    assert run.status == "succeeded"
    assert run.output == {"text": "HELLO ADA", "n": 9}
    assert run.error is None
    assert [(s.node_id, s.status) for s in steps_of(run)] == [
        ("start", "succeeded"),
        ("a", "succeeded"),
        ("b", "succeeded"),
        ("end", "succeeded"),
    ]
    assert run.started_at and run.finished_at
    types = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("type", flat=True))
    assert types[0] == "run.status" and types[1] == "run.status" and types[-1] == "run.finished"
    assert types.count("step.started") == 4 and types.count("step.finished") == 4
    seqs = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
