"""Engine semantics: activation, branches, loops, errors, retries, timeouts and limits."""

import time

import pytest

from runs.models import RunEvent, Step
from runs.tests.helpers import CALLS, edge, graph, line, node, start

pytestmark = pytest.mark.django_db


def steps_of(run):
    return list(Step.objects.filter(run=run).order_by("order", "started_at"))


def test_a_line_of_transforms_produces_the_end_output(make_run, advance):
    # given
    g = line(
        start(),
        node("a", "transform", output={"greeting": "'hello ' + workflow.input.name"}),
        node("b", "transform", output={"loud": "input.greeting.upperAscii()", "n": "size(input.greeting)"}),
        node("end", "end", output={"text": "nodes.b.output.loud", "n": "nodes.b.output.n"}),
    )
    run = make_run(g, {"name": "ada"})
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
    assert types[0] == "run.status" and types[-1] == "run.finished"
    assert types.count("step.started") == 4 and types.count("step.finished") == 4
    seqs = list(RunEvent.objects.filter(run=run).order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))


def test_if_else_activates_exactly_one_port_and_skips_the_other_branch(make_run, advance):
    g = graph(
        [
            start(),
            node("route", "if_else", cases=[{"port": "big", "label": "Big", "condition": "workflow.input.n > 10"}]),
            node("big", "transform", output={"size": "'big'"}),
            node("small", "transform", output={"size": "'small'"}),
            node("after_small", "transform", output={"size": "input.size"}),
            node("end", "end", output={"size": "input.size"}),
        ],
        [
            edge("start", "route"),
            edge("route", "big", "big"),
            edge("route", "small", "else"),
            edge("small", "after_small"),
            edge("big", "end"),
            edge("after_small", "end"),
        ],
    )
    run = advance(make_run(g, {"n": 50}))
    assert run.status == "succeeded"
    assert run.output == {"size": "big"}
    status = {s.node_id: s.status for s in steps_of(run)}
    assert status == {
        "start": "succeeded",
        "route": "succeeded",
        "big": "succeeded",
        "small": "skipped",
        "after_small": "skipped",
        "end": "succeeded",
    }
    assert Step.objects.get(run=run, node_id="route").port == "big"

    run = advance(make_run(g, {"n": 1}))
    assert run.output == {"size": "small"}
    assert Step.objects.get(run=run, node_id="big").status == "skipped"


def test_fan_out_branches_run_concurrently(make_run, advance):
    g = graph(
        [
            start(),
            node("one", "test_sleep", seconds=1),
            node("two", "test_sleep", seconds=1),
            node("join", "transform", output={"a": "nodes.one.output.slept", "b": "nodes.two.output.slept"}),
            node("end", "end", output="nodes.join.output"),
        ],
        [edge("start", "one"), edge("start", "two"), edge("one", "join"), edge("two", "join"), edge("join", "end")],
    )
    run = make_run(g, {})
    t0 = time.monotonic()
    run = advance(run)
    elapsed = time.monotonic() - t0
    assert run.status == "succeeded"
    assert run.output == {"a": 1, "b": 1}
    assert elapsed < 1.6, elapsed
    assert Step.objects.filter(run=run, node_id="join").count() == 1


def test_while_loop_repeats_its_body_with_loop_index_and_state(make_run, advance):
    g = graph(
        [
            start(state={"count": 0, "seen": []}),
            node("loop", "while", condition="state.count < 3", max_iterations=10),
            node(
                "inc",
                "set_state",
                assignments=[
                    {"variable": "count", "expression": "state.count + 1"},
                    {"variable": "seen", "expression": "state.seen + [loop.index]"},
                ],
            ),
            node("end", "end", output={"count": "state.count", "seen": "state.seen"}),
        ],
        [edge("start", "loop"), edge("loop", "inc", "loop"), edge("inc", "loop"), edge("loop", "end", "exit")],
    )
    run = advance(make_run(g, {}))
    assert run.status == "succeeded", run.error
    assert run.output == {"count": 3, "seen": [0, 1, 2]}
    inc = [(s.iteration, s.status) for s in steps_of(run) if s.node_id == "inc"]
    assert inc == [(0, "succeeded"), (1, "succeeded"), (2, "succeeded")]
    loops = [(s.iteration, s.port) for s in steps_of(run) if s.node_id == "loop"]
    assert loops == [(0, "loop"), (1, "loop"), (2, "loop"), (3, "exit")]


def test_while_loop_exits_at_max_iterations(make_run, advance):
    g = graph(
        [
            start(state={"count": 0}),
            node("loop", "while", condition="true", max_iterations=2),
            node("inc", "set_state", assignments=[{"variable": "count", "expression": "state.count + 1"}]),
            node("end", "end", output={"count": "state.count"}),
        ],
        [edge("start", "loop"), edge("loop", "inc", "loop"), edge("inc", "loop"), edge("loop", "end", "exit")],
    )
    run = advance(make_run(g, {}))
    assert run.status == "succeeded"
    assert run.output == {"count": 2}


def test_a_loop_past_the_iteration_limit_fails_the_run(make_run, advance):
    g = graph(
        [
            start(),
            node("loop", "while", condition="true", max_iterations=1000),
            node("body", "transform", output={"i": "loop.index"}),
            node("end", "end", output="1"),
        ],
        [edge("start", "loop"), edge("loop", "body", "loop"), edge("body", "loop"), edge("loop", "end", "exit")],
    )
    run = advance(make_run(g, {}), max_loop_iterations=5)
    assert run.status == "failed"
    assert run.error["code"] == "loop_limit"
    assert run.error["node_id"] == "loop"
    assert "RUN_MAX_LOOP_ITERATIONS" in run.error["message"]
    assert Step.objects.filter(run=run, node_id="body").count() == 5


def test_retryable_errors_are_retried_with_backoff(make_run, advance):
    CALLS.pop("flaky", None)
    g = line(
        start(),
        node("flaky", "test_flaky", failures=2, retry={"max_attempts": 3, "backoff_s": 0.05}),
        node("end", "end", output="nodes.flaky.output.calls"),
    )
    t0 = time.monotonic()
    run = advance(make_run(g, {}))
    assert time.monotonic() - t0 >= 0.15  # 0.05 + 0.1
    assert run.status == "succeeded"
    assert run.output == 3
    attempts = [(s.attempt, s.status) for s in steps_of(run) if s.node_id == "flaky"]
    assert attempts == [(1, "failed"), (2, "failed"), (3, "succeeded")]


def test_permanent_errors_are_not_retried_and_fail_the_run(make_run, advance):
    CALLS.pop("flaky", None)
    g = line(
        start(),
        node("flaky", "test_flaky", failures=5, permanent=True, code="bad_request", retry={"max_attempts": 3}),
        node("end", "end", output="1"),
    )
    run = advance(make_run(g, {}))
    assert run.status == "failed"
    assert run.error == {"code": "bad_request", "message": "failure 1", "node_id": "flaky"}
    assert CALLS["flaky"] == 1
    assert not Step.objects.filter(run=run, node_id="end").exists()


def test_on_error_continue_passes_null_and_route_takes_the_error_port(make_run, advance):
    CALLS.pop("bad", None)
    g = line(
        start(),
        node("bad", "test_flaky", failures=9, permanent=True, on_error="continue"),
        node("end", "end", output={"bad": "nodes.bad.output"}),
    )
    run = advance(make_run(g, {}))
    assert run.status == "succeeded"
    assert run.output == {"bad": None}
    assert Step.objects.get(run=run, node_id="bad").status == "failed"

    CALLS.pop("bad", None)
    g = graph(
        [
            start(),
            node("bad", "test_flaky", failures=9, permanent=True, code="boom", on_error="route"),
            node("ok", "end", output="'ok'"),
            node("handler", "end", output={"code": "input.error.code"}),
        ],
        [edge("start", "bad"), edge("bad", "ok"), edge("bad", "handler", "error")],
    )
    run = advance(make_run(g, {}))
    assert run.status == "succeeded"
    assert run.output == {"code": "boom"}
    assert Step.objects.get(run=run, node_id="ok").status == "skipped"


def test_a_node_past_its_timeout_fails_with_a_timeout_error(make_run, advance):
    g = line(start(), node("slow", "test_sleep", seconds=5, timeout_s=0.3), node("end", "end", output="1"))
    t0 = time.monotonic()
    run = advance(make_run(g, {}))
    assert time.monotonic() - t0 < 2
    assert run.status == "failed"
    assert run.error["code"] == "timeout"
    assert run.error["node_id"] == "slow"
    step = Step.objects.get(run=run, node_id="slow")
    assert step.status == "failed" and step.error["code"] == "timeout"


def test_the_first_end_node_finishes_the_run_and_cancels_other_branches(make_run, advance):
    g = graph(
        [start(), node("fast", "end", output="'fast'"), node("slow", "test_sleep", seconds=5), node("late", "end")],
        [edge("start", "fast"), edge("start", "slow"), edge("slow", "late")],
    )
    # `slow` starts before `fast` finishes only if it is scheduled first; order the edges that way.
    g["edges"] = [g["edges"][1], g["edges"][0], g["edges"][2]]
    t0 = time.monotonic()
    run = advance(make_run(g, {}))
    assert time.monotonic() - t0 < 2
    assert run.status == "succeeded"
    assert run.output == "fast"
    assert Step.objects.get(run=run, node_id="slow").status == "cancelled"
    assert not Step.objects.filter(run=run, node_id="late").exists()


def test_the_step_limit_ends_the_run(make_run, advance):
    g = line(start(), *[node(f"t{i}", "transform", output="1") for i in range(10)], node("end", "end"))
    run = advance(make_run(g, {}), max_steps=5)
    assert run.status == "failed"
    assert run.error["code"] == "step_limit"
    assert "RUN_MAX_STEPS" in run.error["message"]
    assert Step.objects.filter(run=run).count() == 5


def test_an_output_over_the_payload_limit_ends_the_run(make_run, advance):
    g = line(start(), node("big", "test_big", bytes=5000), node("end", "end"))
    run = advance(make_run(g, {}), max_payload_bytes=2048)
    assert run.status == "failed"
    assert run.error["code"] == "payload_too_large"
    assert "STEP_MAX_PAYLOAD_BYTES" in run.error["message"]
    assert Step.objects.get(run=run, node_id="big").output is None


def test_a_run_past_its_duration_limit_times_out(make_run, advance):
    g = line(start(), node("slow", "test_sleep", seconds=5), node("end", "end"))
    run = advance(make_run(g, {}), max_duration_s=0.5)
    assert run.status == "timed_out"
    assert run.error["code"] == "run_timeout"
    assert Step.objects.get(run=run, node_id="slow").status == "cancelled"


def test_an_expression_error_names_the_node_and_the_expression(make_run, advance):
    g = line(start(), node("t", "transform", output={"x": "workflow.input.missing.deeper"}), node("end", "end"))
    run = advance(make_run(g, {}))
    assert run.status == "failed"
    assert run.error["code"] == "expression_error"
    assert run.error["node_id"] == "t"
    assert "workflow.input.missing.deeper" in run.error["message"]


def test_usage_is_summed_on_the_run(make_run, advance):
    g = line(start(), node("a", "test_stream", chunks=2), node("b", "test_stream", chunks=2), node("end", "end"))
    run = advance(make_run(g, {}))
    assert run.status == "succeeded"
    assert run.usage == {"input_tokens": 20, "output_tokens": 10, "cost_usd": 0.002}
    assert Step.objects.get(run=run, node_id="a").usage["input_tokens"] == 10


def test_a_branch_inside_a_loop_body_is_decided_again_on_every_iteration(make_run, advance):
    g = graph(
        [
            start(state={"log": []}),
            node("loop", "while", condition="loop.index < 4", max_iterations=10),
            node("parity", "if_else", cases=[{"port": "even", "label": "Even", "condition": "loop.index % 2 == 0"}]),
            node("even", "set_state", assignments=[{"variable": "log", "expression": "state.log + ['e']"}]),
            node("odd", "set_state", assignments=[{"variable": "log", "expression": "state.log + ['o']"}]),
            node("merge", "transform", output={"i": "loop.index"}),
            node("end", "end", output={"log": "state.log"}),
        ],
        [
            edge("start", "loop"),
            edge("loop", "parity", "loop"),
            edge("parity", "even", "even"),
            edge("parity", "odd", "else"),
            edge("even", "merge"),
            edge("odd", "merge"),
            edge("merge", "loop"),
            edge("loop", "end", "exit"),
        ],
    )
    run = advance(make_run(g, {}))
    assert run.status == "succeeded", run.error
    assert run.output == {"log": ["e", "o", "e", "o"]}
    merges = [s.iteration for s in steps_of(run) if s.node_id == "merge"]
    assert merges == [0, 1, 2, 3]
    skipped = [(s.node_id, s.iteration) for s in steps_of(run) if s.status == "skipped"]
    assert skipped == [("odd", 0), ("even", 1), ("odd", 2), ("even", 3)]


def test_nested_loops_reset_the_inner_loop_on_each_outer_iteration(make_run, advance):
    g = graph(
        [
            start(state={"n": 0}),
            node("outer", "while", condition="loop.index < 2", max_iterations=5),
            node("inner", "while", condition="loop.index < 3", max_iterations=5),
            node("count", "set_state", assignments=[{"variable": "n", "expression": "state.n + 1"}]),
            node("end", "end", output={"n": "state.n"}),
        ],
        [
            edge("start", "outer"),
            edge("outer", "inner", "loop"),
            edge("inner", "count", "loop"),
            edge("count", "inner"),
            edge("inner", "outer", "exit"),
            edge("outer", "end", "exit"),
        ],
    )
    run = advance(make_run(g, {}))
    assert run.status == "succeeded", run.error
    assert run.output == {"n": 6}


def test_validator_and_engine_agree_on_a_loop_body_with_an_end_inside(make_run, advance):
    # given: the loop body branches to an End (it never leads back to the while node) and that End uses `loop`
    from builder.services.validation import validate_graph
    from runs.engine.graph import Graph

    g = graph(
        [
            start(),
            node("w", "while", condition="loop.index < 5", max_iterations=10),
            node("step", "transform", output={"i": "loop.index"}),
            node("check", "if_else", cases=[{"port": "stop", "condition": "input.i == 2"}]),
            node("early", "end", output={"stopped_at": "loop.index"}),
            node("done", "end", output={"stopped_at": "-1"}),
        ],
        [
            edge("start", "w"),
            edge("w", "step", "loop"),
            edge("step", "check"),
            edge("check", "early", "stop"),
            edge("check", "w", "else"),
            edge("w", "done", "exit"),
        ],
    )
    # when
    issues = validate_graph(g)
    run = advance(make_run(g, {}))
    # then: the validator accepts `loop` in the End, the engine counts it in the body and runs it with `loop`
    assert issues == []
    assert Graph(g).body["w"] == frozenset({"step", "check", "early"})
    assert run.status == "succeeded"
    assert run.output == {"stopped_at": 2}
