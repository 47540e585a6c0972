"""Fairness and backpressure: a process advances at most `max_active` runs at once and at most
`per_workspace` of one workspace; the rest wait, queued, and the workspaces with waiting runs take turns.
A workspace's model calls in flight are capped too."""

import statistics
import threading
from concurrent.futures import Future

import pytest

from builder.models import Workflow
from runs import dispatch
from runs.dispatch import inline_wait_idle
from runs.engine.admission import Admission
from runs.engine.pool import RunPool
from runs.models import Run
from runs.process_engine import engine
from runs.services import run_start
from runs.tests.conftest import _n
from runs.tests.test_many_in_flight import agent_graph

# --- the scheduler alone ----------------------------------------------------------------------------


def test_runs_over_the_caps_wait_and_workspaces_take_turns():
    admission = Admission(max_active=3, per_workspace=2)
    started: list[str] = []

    def ask(name: str, workspace: str):
        return admission.admit(workspace, lambda: started.append(name))

    a1, a2, a3, a4 = (ask(f"a{i}", "A") for i in range(1, 5))  # a flood from A
    b1, b2, b3 = (ask(f"b{i}", "B") for i in range(1, 4))
    # A holds its cap of 2, B took the last slot of 3; the rest wait
    assert started == ["a1", "a2", "b1"]
    assert admission.counts() == (3, 4)
    # a slot frees: it goes to the waiting workspace whose turn it is and that is under its cap
    admission.release(a1)
    assert started[-1] == "a3"
    admission.release(b1)
    assert started[-1] == "b2"  # A's a4 is older, but A went last time: B's turn
    admission.release(a2)
    assert started[-1] == "a4"
    admission.release(a3)
    assert started[-1] == "b3"
    assert admission.counts() == (3, 0)
    for ticket in (a4, b2, b3):
        admission.release(ticket)
    assert admission.counts() == (0, 0)
    assert admission.active == {}


def test_a_workspace_at_its_cap_waits_even_when_the_process_has_room():
    admission = Admission(max_active=10, per_workspace=1)
    started: list[str] = []
    first = admission.admit("A", lambda: started.append("a1"))
    admission.admit("A", lambda: started.append("a2"))
    admission.admit("B", lambda: started.append("b1"))
    assert started == ["a1", "b1"]
    admission.release(first)
    assert started == ["a1", "b1", "a2"]


def test_a_cancelled_waiting_run_starts_at_once_over_the_caps_and_only_once():
    admission = Admission(max_active=1, per_workspace=1)
    started: list[str] = []
    first = admission.admit("A", lambda: started.append("a1"))
    waiting = admission.admit("A", lambda: started.append("a2"))
    admission.expedite(waiting)
    admission.expedite(waiting)
    assert started == ["a1", "a2"]
    assert admission.counts() == (2, 0)
    admission.release(first)
    admission.release(waiting)
    assert started == ["a1", "a2"] and admission.counts() == (0, 0)


def test_admission_is_consistent_under_concurrent_use():
    admission = Admission(max_active=8, per_workspace=3)
    peak = {"all": 0}
    active: dict[str, int] = {}
    lock = threading.Lock()
    tickets: list = []
    done = threading.Semaphore(0)

    def starter(workspace: str):
        def start() -> None:
            with lock:
                active[workspace] = active.get(workspace, 0) + 1
                assert active[workspace] <= 3
                peak["all"] = max(peak["all"], sum(active.values()))
            done.release()

        return start

    def submit(workspace: str) -> None:
        for _ in range(50):
            tickets.append((workspace, admission.admit(workspace, starter(workspace))))

    threads = [threading.Thread(target=submit, args=(w,)) for w in "ABCD"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    finished = 0
    while finished < 200:
        assert done.acquire(timeout=5)
        finished += 1
        with lock:
            # end one started run: the first started ticket not yet released
            workspace, ticket = next((w, t) for w, t in tickets if t.started)
            tickets.remove((workspace, ticket))
            active[workspace] -= 1
        admission.release(ticket)
    assert peak["all"] <= 8
    assert admission.counts() == (0, 0)


# --- in a process: a flood from one workspace does not starve another ---------------------------------


def _workflow_in(workspace, owner) -> Workflow:
    return Workflow.objects.create(
        workspace=workspace, name=f"Flow {next(_n)}", draft_graph=agent_graph(), created_by=owner
    )


def _latencies(runs) -> list[float]:
    rows = Run.objects.filter(pk__in=[r.pk for r in runs])
    assert {r.status for r in rows} == {"succeeded"}, [r.error for r in rows if r.status != "succeeded"][:3]
    return [(r.finished_at - r.created_at).total_seconds() for r in rows]


@pytest.mark.django_db(transaction=True)
def test_one_workspace_flooding_does_not_starve_another(slow_model, make_workspace, monkeypatch):
    # given: two workspaces with a start → agent → end workflow against a model that answers in 1 s, and a
    # process that advances at most 60 runs at once, 30 of one workspace
    admission = engine().admission
    monkeypatch.setattr(admission, "max_active", 60)
    monkeypatch.setattr(admission, "per_workspace", 30)
    flooder, quiet = make_workspace(name="Flood"), make_workspace(name="Quiet")
    flood_flow = _workflow_in(flooder, flooder.memberships.get().user)
    quiet_flow = _workflow_in(quiet, quiet.memberships.get().user)
    idle = [run_start(workflow=quiet_flow, input={"n": i}) for i in range(6)]
    assert inline_wait_idle(60)
    idle_p50 = statistics.median(_latencies(idle))
    # when: the first workspace sends 300 runs at once, then the second sends its 6
    flood = [run_start(workflow=flood_flow, input={"n": i}) for i in range(300)]
    waiting = admission.counts()[1]
    queued_in_db = Run.objects.filter(pk__in=[r.pk for r in flood], status="queued").count()
    loaded = [run_start(workflow=quiet_flow, input={"n": i}) for i in range(6)]
    assert inline_wait_idle(120)
    # then: the flood waited its turn (queued in the database, none dropped), never over its cap of 30 calls
    # at once, and the quiet workspace's runs took at most twice as long as when the process was idle
    assert waiting > 50 and queued_in_db > 50, (waiting, queued_in_db)
    assert len(_latencies(flood)) == 300
    loaded_p50 = statistics.median(_latencies(loaded))
    assert loaded_p50 <= 2 * idle_p50, (loaded_p50, idle_p50)
    assert slow_model.stats()["peak"] <= 30 + 6
    assert admission.counts() == (0, 0)


@pytest.mark.django_db(transaction=True)
def test_a_workspace_model_calls_in_flight_are_capped(make_workflow, slow_model, settings):
    # given: a workspace may have 10 model calls in flight in this process
    settings.MODEL_CALLS_MAX_PER_WORKSPACE = 10
    workflow = make_workflow(agent_graph())
    # when: 40 runs call the model at once
    runs = [run_start(workflow=workflow, input={"n": i}) for i in range(40)]
    assert inline_wait_idle(60)
    # then: all finished, the model never saw more than 10 calls at once
    assert len(_latencies(runs)) == 40
    stats = slow_model.stats()
    assert stats["served"] == 40 and stats["peak"] == 10, stats


def test_the_run_pool_serves_waited_on_runs_then_runs_in_flight_then_new_ones():
    pool = RunPool(1, "test-pool")
    gate = threading.Event()
    order: list[str] = []
    pool.submit(gate.wait)  # the one thread is busy
    later = [pool.submit_later(order.append, f"new {i}") for i in range(2)]
    now = [pool.submit(order.append, f"in flight {i}") for i in range(2)]
    urgent = [pool.submit_urgent(order.append, f"waited on {i}") for i in range(2)]
    gate.set()
    for future in now + later + urgent:
        future.result(timeout=5)
    assert order == ["waited on 0", "waited on 1", "in flight 0", "in flight 1", "new 0", "new 1"]
    failing = pool.submit(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        failing.result(timeout=5)


def test_a_run_a_caller_waits_on_is_advanced_ahead_of_the_others(monkeypatch, settings):
    settings.TRELLIS_EXECUTOR, settings.INLINE_PARKING = "inline", True
    seen = []

    def advance_async(run_id, schedule, schedule_start, claim=None):
        seen.append((run_id, schedule, schedule_start))
        done: Future = Future()
        done.set_result("succeeded")
        return done

    monkeypatch.setattr(engine(), "advance_async", advance_async)
    dispatch.dispatch_run("waited-on", caller_waits=True)
    dispatch.dispatch_run("fire-and-forget")
    pool = dispatch._inline_pool()
    assert seen == [
        ("waited-on", pool.submit_urgent, pool.submit_urgent),
        ("fire-and-forget", pool.submit, pool.submit_later),
    ]
