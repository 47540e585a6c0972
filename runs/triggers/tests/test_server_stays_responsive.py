"""The server keeps answering while the worst expressions run: the evaluator is Python and gives the GIL
up every few milliseconds, so a run's expression never freezes the web process that hosts it (default
mode: runs execute in threads of the web process, as here)."""

import time

import pytest

from builder.tests.test_expression_limits import NESTED_EXISTS, NESTED_MAP
from runs.models import Run

GRAPH_INPUT = {"type": "object", "properties": {"items": {"type": "array"}}}


def graph_with(expression: str) -> dict:
    def node(nid, ntype, x, config):
        return {"id": nid, "type": ntype, "name": nid, "position": {"x": x, "y": 0}, "config": config}

    return {
        "format": "trellis.graph/1",
        "nodes": [
            node("start", "start", 0, {"input_schema": GRAPH_INPUT, "state": {}}),
            node("work", "transform", 200, {"output": {"value": expression}}),
            node("done", "end", 400, {"output": "nodes.work.output"}),
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "work"},
            {"id": "e2", "source": "work", "target": "done"},
        ],
    }


UNBOUNDED = 10**12
WORST_CASES = {
    # kind: (expression, number of input items, cost budget, how the run ends). The allocating kinds keep the
    # default budget: it is what bounds their memory (and so the garbage collector's pauses).
    # map over the 930 KB webhook body now finishes in tens of ms (runs/tests/test_expression_limits_in_runs.py);
    # a list that long built in the expression keeps the thread busy for the whole time limit instead.
    "map over a long list": ("size(lists.range(3000000).map(x, x * 2))", 0, UNBOUNDED, "finished"),
    "nested exists": (NESTED_EXISTS, 0, UNBOUNDED, "failed"),
    "nested map": (f"[1,2,3,4,5,6,7,8,9,10].map(z, {NESTED_MAP})", 0, None, "failed"),
    "map inside map": ("size(workflow.input.items.map(a, workflow.input.items.map(b, b)))", 20_000, None, "failed"),
    "lists.range": ("size(lists.range(5000000))", 0, None, "failed"),
}


@pytest.mark.parametrize("kind", list(WORST_CASES))
def test_healthz_answers_within_200_ms_while_the_worst_expression_of_each_kind_runs(
    kind, make_workflow, make_trigger, http, settings
):
    # given: a time limit raised so that each expression keeps a thread busy for up to 1.5 s of CPU
    expression, items, max_cost, final_status = WORST_CASES[kind]
    settings.EXPRESSION_TIMEOUT_MS = 1500
    if max_cost is not None:
        settings.EXPRESSION_MAX_COST = max_cost
    workflow = make_workflow(graph=graph_with(expression))
    trigger, _ = make_trigger(workflow, auth_mode="none")
    http.get("/healthz")  # the connection is open before timing starts
    # when
    response = http.post(f"/hooks/{trigger.key}", json={"items": list(range(items))})
    assert response.status_code == 202, response.text
    run_id = response.json()["run_id"]
    latencies = []
    deadline = time.monotonic() + 60
    while True:  # ask at least once: on a fast machine the run may be over before the first question
        started = time.perf_counter()
        assert http.get("/healthz").status_code == 200
        latencies.append((time.perf_counter() - started) * 1000)
        if not Run.objects.filter(pk=run_id, status__in=["queued", "running"]).exists():
            break
        if time.monotonic() > deadline:
            break
        time.sleep(0.02)
    # then
    run = Run.objects.get(pk=run_id)
    # "finished": linear work that ends near the time limit, whichever side of it this machine lands on
    assert run.status == final_status or final_status == "finished" and run.status in ("succeeded", "failed"), run.error
    if run.status == "failed":
        assert run.error["code"] == "expression_limit"
    assert latencies, "the run finished before /healthz was asked once"
    # A frozen server answers every /healthz after the run (~1.5 s); a busy machine (CI beside other work) may
    # delay a single answer past 200 ms, so the bound is on the 90th percentile, with a hard ceiling.
    ordered = sorted(latencies)
    p90 = ordered[int(len(ordered) * 0.9) - 1] if len(ordered) >= 10 else ordered[-1]
    assert p90 < 200 and ordered[-1] < 1000, f"/healthz p90 {p90:.0f} ms, slowest: {ordered[-5:]}"
