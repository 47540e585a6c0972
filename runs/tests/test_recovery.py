"""Recovery: a run that keeps killing its worker fails instead of being picked up forever; the reaper sends
a stuck run once (not on every pass from every reaper), a lease lost before the first commit counts at once,
and a lost step's re-execution is its next attempt."""

import datetime as dt
import threading
import time
from collections import deque

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.utils import timezone

from runs import dispatch
from runs.engine.core import Claim, Engine, Limits
from runs.models import Run, RunEvent, Step
from runs.persistence.engine import DjangoStore, holder_name
from runs.services import run_cancel, run_start
from runs.tests.helpers import CALLS, CUT_OFF, WorkerDied, line, node, start, wait_for

LIMITS = Limits(lease_s=30, heartbeat_s=3600, max_recoveries=3)


def _expire_lease(run) -> None:
    Run.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))


def _advance(run) -> str | None:
    return Engine(DjangoStore(), LIMITS, owner="worker").advance(str(run.pk))


@pytest.fixture
def sent(monkeypatch):
    """What the reaper dispatched: {"fresh": [...], "recovered": [...]} (nothing reaches a broker)."""
    out: dict[str, list[str]] = {"fresh": [], "recovered": []}
    monkeypatch.setattr(dispatch, "dispatch_run", lambda run_id: out["fresh"].append(str(run_id)))
    monkeypatch.setattr(
        dispatch, "dispatch_recovered", lambda run_ids, alone=False: out["recovered"].extend(map(str, run_ids))
    )
    return out


@pytest.mark.django_db
def test_a_run_whose_lease_expired_three_times_without_a_step_finishing_fails_with_crashed_repeatedly(make_run):
    CALLS.pop("boom", None)
    run = make_run(line(start(), node("boom", "test_die"), node("end", "end", output="1")), {})
    # given a node that kills every worker that runs it, picked up again each time its lease expires
    for pickup in range(3):
        with pytest.raises(WorkerDied):
            _advance(run)
        run.refresh_from_db()
        assert (run.status, run.recoveries) == ("running", pickup)
        _expire_lease(run)
    # when the reaper hands it to a fourth worker
    status = _advance(run)
    # then that worker fails it without running the node again
    assert status == "failed"
    run.refresh_from_db()
    assert CALLS["boom"] == 3
    assert (run.status, run.recoveries, run.lease_owner) == ("failed", 3, None)
    assert run.error == {
        "code": "crashed_repeatedly",
        "message": "The worker running this run stopped 3 times in a row while running 'boom' before a step could "
        "finish; the run is not started again (TRELLIS_RUN_MAX_RECOVERIES = 3).",
        "node_id": "boom",
    }
    finished = RunEvent.objects.get(run=run, type="run.finished")
    assert finished.data == {"status": "failed", "output": None, "error": run.error}
    # each lost execution is recorded, as attempts 1, 2 and 3
    booms = Step.objects.filter(run=run, node_id="boom").order_by("attempt")
    assert [(s.attempt, s.status, s.error["code"]) for s in booms] == [
        (1, "cancelled", "worker_lost"),
        (2, "cancelled", "worker_lost"),
        (3, "cancelled", "worker_lost"),
    ]
    assert not Step.objects.filter(run=run, node_id="end").exists()
    # and nobody picks it up again
    _expire_lease(run)
    assert _advance(run) is None


@pytest.mark.django_db
def test_a_step_that_commits_between_crashes_resets_the_count(make_run):
    for key in ("a", "b", "c"):
        CALLS.pop(key, None)
    # given three nodes that each kill the first worker that runs them: three expired leases in all,
    # but each recovery finishes a step before the next crash
    g = line(
        start(),
        node("a", "test_die", times=1),
        node("b", "test_die", times=1),
        node("c", "test_die", times=1),
        node("end", "end", output="[nodes.a.output.calls, nodes.b.output.calls, nodes.c.output.calls]"),
    )
    run = make_run(g, {})
    counts = []
    for _ in range(3):
        with pytest.raises(WorkerDied):
            _advance(run)
        run.refresh_from_db()
        counts.append(run.recoveries)
        _expire_lease(run)
    # when
    status = _advance(run)
    # then the run finishes: no node crashed twice in a row
    assert counts == [0, 0, 0]  # the count went to 1 at each pickup, and back to 0 when a step committed
    assert status == "succeeded"
    run.refresh_from_db()
    assert (run.output, run.recoveries) == ([2, 2, 2], 0)


@pytest.mark.django_db
def test_a_lost_step_runs_again_as_its_next_attempt(make_run):
    CALLS.pop("b", None)
    run = make_run(line(start(), node("b", "test_die", times=1), node("end", "end", output="nodes.b.output")), {})
    with pytest.raises(WorkerDied):
        _advance(run)
    _expire_lease(run)
    assert _advance(run) == "succeeded"
    steps = Step.objects.filter(run=run, node_id="b").order_by("attempt")
    assert [(s.attempt, s.status) for s in steps] == [(1, "cancelled"), (2, "succeeded")]
    started = RunEvent.objects.filter(run=run, type="step.started", node_id="b").order_by("seq")
    assert [e.data["attempt"] for e in started] == [1, 2]


@pytest.mark.django_db
def test_a_queued_run_whose_worker_died_before_its_first_commit_is_recoverable_at_once(make_run, sent):
    # given a run created a second ago, whose worker took the lease and died before committing anything
    run = make_run(line(start(), node("end", "end", output="1")), {})

    class DiesAtFirstCommit(DjangoStore):
        def commit(self, *args, **kwargs):
            raise WorkerDied()

    with pytest.raises(WorkerDied):
        Engine(DiesAtFirstCommit(), LIMITS, owner="w1").advance(str(run.pk))
    run.refresh_from_db()
    assert run.status == "queued" and run.lease_owner.startswith("w1:")
    # while the lease is live, nothing is sent
    assert dispatch.reap() == []
    # when the lease expires (30 s later): the reaper sends it at once, ahead of the queue, not only once the
    # run is RUN_QUEUED_GRACE_S (60 s) old
    assert dispatch.reap(now=timezone.now() + dt.timedelta(seconds=31)) == [str(run.pk)]
    assert sent == {"fresh": [], "recovered": [str(run.pk)]}
    _expire_lease(run)
    assert _advance(run) == "succeeded"


@pytest.mark.django_db
def test_the_reaper_sends_a_run_that_lost_its_worker_once_however_many_passes(make_run, sent):
    run = make_run(line(start(), node("b", "test_die"), node("end", "end", output="1")), {})
    with pytest.raises(WorkerDied):
        _advance(run)
    now = timezone.now() + dt.timedelta(seconds=31)  # the lease (30 s) has expired
    # when three reapers pass every 15 s for 45 s
    for seconds in (0, 0, 0, 15, 15, 15, 30, 30, 30, 45, 45, 45):
        dispatch.reap(now=now + dt.timedelta(seconds=seconds))
    # then the run was sent once, and once more only when that message was overdue (60 s without a worker)
    assert sent == {"fresh": [], "recovered": [str(run.pk)]}
    dispatch.reap(now=now + dt.timedelta(seconds=61))
    assert sent["recovered"] == [str(run.pk), str(run.pk)]
    run.refresh_from_db()
    assert run.redispatches == 2
    assert run.dispatched_at == now + dt.timedelta(seconds=61)


@pytest.mark.django_db
def test_queued_runs_are_sent_again_only_when_overdue_and_then_less_and_less_often(make_run, sent):
    # given 30 runs queued just now and 20 whose message went out 61 s ago and no worker took them
    graph = line(start(), node("end", "end", output="1"))
    fresh = [make_run(graph, {}) for _ in range(30)]
    old = [make_run(graph, {}) for _ in range(20)]
    now = timezone.now()
    Run.objects.filter(pk__in=[r.pk for r in old]).update(created_at=now - dt.timedelta(seconds=61))
    # when three reapers pass every 15 s for a minute
    for seconds in range(0, 60, 15):
        for _ in range(3):
            dispatch.reap(now=now + dt.timedelta(seconds=seconds))
    # then each overdue run was sent again once, at the back of the queue, and the new ones not at all
    assert sorted(sent["fresh"]) == sorted(str(r.pk) for r in old)
    assert sent["recovered"] == []
    # and then not before twice the grace (120 s) has passed since that send
    sent["fresh"].clear()
    dispatch.reap(now=now + dt.timedelta(seconds=119))
    assert sorted(sent["fresh"]) == sorted(str(r.pk) for r in fresh)  # now 119 s old: their first re-send
    sent["fresh"].clear()
    dispatch.reap(now=now + dt.timedelta(seconds=121))
    assert sorted(sent["fresh"]) == sorted(str(r.pk) for r in old)
    assert sorted(Run.objects.filter(pk__in=[r.pk for r in old]).values_list("redispatches", flat=True)) == [2] * 20


@pytest.mark.django_db(transaction=True)
def test_reapers_running_at_the_same_time_send_each_stuck_run_once(make_run, sent):
    graph = line(start(), node("end", "end", output="1"))
    runs = [make_run(graph, {}) for _ in range(40)]
    now = timezone.now()
    # given 40 runs sent 40 s ago, whose worker died: their leases expired a second ago
    Run.objects.filter(pk__in=[r.pk for r in runs]).update(
        status="running",
        created_at=now - dt.timedelta(seconds=40),
        lease_owner="dead:1",
        lease_expires_at=now - dt.timedelta(seconds=1),
    )
    found: list[list[str]] = []

    def other_reaper():
        try:
            found.append(dispatch.reap())
        finally:
            connections.close_all()

    # when one reaper is in the middle of its pass (its claim not committed yet) and another one passes
    with transaction.atomic():
        first = dispatch.reap()
        other = threading.Thread(target=other_reaper)
        other.start()
        other.join(3)
        during = list(found)
    other.join(30)
    # then the other one skipped the runs being claimed instead of sending them a second time
    assert sorted(first) == sorted(str(r.pk) for r in runs)
    assert during == [[]]
    assert found == [[]]
    assert dispatch.reap() == []
    assert sorted(sent["recovered"]) == sorted(str(r.pk) for r in runs)


@pytest.mark.django_db
def test_runs_held_by_a_worker_that_died_are_recovered_at_once_and_not_counted_as_crashes(make_run, sent):
    # given two queued runs that a worker received in one message and held, then died before starting them
    graph = line(start(), node("end", "end", output="1"))
    runs = [make_run(graph, {}) for _ in range(2)]
    assert DjangoStore().hold([str(r.pk) for r in runs], holder_name("dead-1"), 30) == 2
    assert dispatch.reap() == []
    # when the hold expires, they are sent again at once, ahead of the queue
    later = timezone.now() + dt.timedelta(seconds=31)
    assert sorted(dispatch.reap(now=later)) == sorted(str(r.pk) for r in runs)
    assert sorted(sent["recovered"]) == sorted(str(r.pk) for r in runs)
    # and another worker runs them, a lost hold not counting as a crash of the run
    for run in runs:
        _expire_lease(run)
        assert _advance(run) == "succeeded"
        run.refresh_from_db()
        assert run.recoveries == 0


@pytest.mark.django_db
def test_a_held_run_is_taken_by_its_own_worker_and_cancelled_at_once(make_run, owner):
    graph = line(start(), node("end", "end", output="1"))
    mine, cancelled = make_run(graph, {}), make_run(graph, {})
    DjangoStore().hold([str(mine.pk), str(cancelled.pk)], holder_name("w7"), 30)
    # another worker cannot take a run while it is held
    assert Engine(DjangoStore(), LIMITS, owner="w8").advance(str(mine.pk)) is None
    # the holding worker can
    assert Engine(DjangoStore(), LIMITS, owner="w7").advance(str(mine.pk)) == "succeeded"
    # cancelling a held run does not wait for the worker to start it
    assert run_cancel(run=cancelled, by=owner).status == "cancelled"
    assert Engine(DjangoStore(), LIMITS, owner="w7").advance(str(cancelled.pk)) is None
    assert not Step.objects.filter(run=cancelled).exists()


@pytest.mark.django_db
def test_a_worker_holds_only_unleased_queued_runs_and_renews_only_its_own_holds(make_run):
    graph = line(start(), node("end", "end", output="1"))
    free, taken, started = (make_run(graph, {}) for _ in range(3))
    Run.objects.filter(pk=taken.pk).update(lease_owner="w9:1", lease_expires_at=timezone.now())
    Run.objects.filter(pk=started.pk).update(status="running")
    store, ids = DjangoStore(), [str(r.pk) for r in (free, taken, started)]
    # a hold takes only the queued run nobody leases
    assert store.hold(ids, holder_name("w7"), 30) == 1
    assert Run.objects.get(pk=free.pk).lease_owner == holder_name("w7")
    assert Run.objects.get(pk=taken.pk).lease_owner == "w9:1"
    # and renewing moves only this worker's holds on
    before = {r.pk: r.lease_expires_at for r in Run.objects.filter(pk__in=ids)}
    assert store.renew_holds(ids, holder_name("w7"), 300) == 1
    after = {r.pk: r.lease_expires_at for r in Run.objects.filter(pk__in=ids)}
    assert after[free.pk] > before[free.pk] + dt.timedelta(seconds=200)
    assert after[taken.pk] == before[taken.pk] and after[started.pk] == before[started.pk]


@pytest.mark.django_db
def test_a_workers_fresh_held_runs_are_leased_to_their_advances_in_one_statement(make_run, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("queue mode's batched lease is PostgreSQL's (elsewhere each run takes its lease as it starts)")
    # given runs a worker received: two fresh it holds, one fresh nobody holds yet (a worker with room leases
    # without holding first), one that already ran a step (it replays), one held by another worker
    graph = line(start(), node("end", "end", output="1"))
    fresh, other_fresh, unheld, replaying, elsewhere = (make_run(graph, {}) for _ in range(5))
    store = DjangoStore()
    store.hold([str(r.pk) for r in (fresh, other_fresh, replaying)], holder_name("w7"), 30)
    store.hold([str(elsewhere.pk)], holder_name("w9"), 30)
    Run.objects.filter(pk=replaying.pk).update(step_counter=1)
    runs = (fresh, other_fresh, unheld, replaying, elsewhere)
    owners = {str(r.pk): f"w7:{i}" for i, r in enumerate(runs)}
    # when the worker leases them at once
    leased = store.claim_held(owners, holder_name("w7"), 30)
    # then only the fresh runs not held by another are leased, each to its own advance
    assert sorted(leased) == sorted([str(fresh.pk), str(other_fresh.pk), str(unheld.pk)])
    for run_id, (owner, expires_at, run) in leased.items():
        assert owner == owners[run_id] == Run.objects.get(pk=run_id).lease_owner == run.lease_owner
        assert run.recoveries == 0 and expires_at > timezone.now() + dt.timedelta(seconds=25)
    # and such a run starts from its claim, without taking its lease again
    owner, expires_at, run = leased[str(fresh.pk)]
    monkeypatch.setattr(DjangoStore, "acquire", lambda *a: pytest.fail("a leased run took its lease again"))
    claim = Claim(owner, expires_at, lambda: store.adopt(run))
    assert _advance_here(Engine(store, LIMITS, owner="w7"), fresh, claim) == "succeeded"
    # the others take their leases as they start, as before
    assert Run.objects.get(pk=replaying.pk).lease_owner == holder_name("w7")
    assert Run.objects.get(pk=elsewhere.pk).lease_owner == holder_name("w9")


def test_beats_reap_goes_ahead_of_the_run_backlog_and_expires_instead_of_piling_up():
    entry = settings.CELERY_BEAT_SCHEDULE["runs.reap"]
    assert entry["schedule"] == settings.RUN_REAPER_INTERVAL_S
    # at broker priority 0, above fresh runs (PRIORITY_FRESH), and dropped by the worker once one interval old
    assert entry["options"] == {"expires": settings.RUN_REAPER_INTERVAL_S, "priority": 0}
    assert dispatch.PRIORITY_RECOVERY == 0 < dispatch.PRIORITY_FRESH


# --- a new run stored already leased to the advance that starts it (default mode: runs/dispatch.py) --------


def _advance_here(engine: Engine, run, claim: Claim) -> str | None:
    """engine.advance_async with its work done on this thread (the test's transaction sees the rows)."""
    work: deque = deque()
    future = engine.advance_async(str(run.pk), work.append, claim=claim)
    while not future.done():
        work.popleft()()
    return future.result()


@pytest.mark.django_db(transaction=True)
def test_a_new_run_in_default_mode_starts_without_taking_its_lease_again(make_workflow, monkeypatch, settings):
    settings.TRELLIS_EXECUTOR, settings.INLINE_PARKING = "inline", True
    acquired = []
    real_acquire = DjangoStore.acquire
    monkeypatch.setattr(
        DjangoStore, "acquire", lambda self, run_id, *a: acquired.append(run_id) or real_acquire(self, run_id, *a)
    )
    workflow = make_workflow(line(start(), node("end", "end", output="workflow.input.n")))
    # when
    run = run_start(workflow=workflow, input={"n": 7})
    # then: the run was stored with the lease of the advance that runs it, which started without a write to take it
    assert run.lease_owner.startswith(f"{dispatch.engine().owner}:")
    assert dispatch.inline_wait_idle(10)
    run.refresh_from_db()
    assert (run.status, run.output, run.recoveries, run.lease_owner) == ("succeeded", 7, 0, None)
    assert acquired == []


@pytest.mark.django_db
def test_a_claimed_run_started_late_takes_its_own_lease_again_without_counting_a_recovery(make_run):
    run = make_run(line(start(), node("end", "end", output="1")), {})
    store, engine = DjangoStore(), Engine(DjangoStore(), LIMITS, owner="w9")
    owner = engine.new_owner()
    store.claim(run, owner, 30)
    run.lease_expires_at = timezone.now() + dt.timedelta(seconds=5)  # less than half of a lease left
    run.save()

    def stale_snapshot():
        raise AssertionError("a claim with less than half of its lease left must not be trusted")

    claim = Claim(owner, run.lease_expires_at, stale_snapshot)
    # when
    status = _advance_here(engine, run, claim)
    # then
    run.refresh_from_db()
    assert (status, run.status, run.recoveries) == ("succeeded", "succeeded", 0)


@pytest.mark.django_db
@pytest.mark.parametrize("left_s, extends", [(29, False), (17, True)])
def test_a_claimed_run_that_waited_is_trusted_and_its_first_commit_extends_the_lease_by_its_age(
    make_run, monkeypatch, left_s, extends
):
    run = make_run(line(start(), node("end", "end", output="1")), {})
    engine = Engine(DjangoStore(), LIMITS, owner="w9")
    owner = engine.new_owner()
    DjangoStore.claim(run, owner, LIMITS.lease_s)
    run.lease_expires_at = timezone.now() + dt.timedelta(seconds=left_s)  # it waited for a slot this long
    run.save()
    monkeypatch.setattr(DjangoStore, "acquire", lambda *a: pytest.fail("a claim with half its lease left is trusted"))
    commits = []
    real_commit = DjangoStore.commit
    monkeypatch.setattr(
        DjangoStore,
        "commit",
        lambda self, run_id, o, s, commit: commits.append(commit) or real_commit(self, run_id, o, s, commit),
    )
    # when
    status = _advance_here(engine, run, Claim(owner, run.lease_expires_at, lambda: engine.store.adopt(run)))
    # then: over a third of the lease gone, the first commit extends it (a fresh claim's does not)
    assert status == "succeeded"
    assert commits[0].extend_lease is extends


@pytest.mark.django_db
def test_a_claimed_run_whose_process_died_before_starting_it_is_recovered_by_another(make_run, sent):
    run = make_run(line(start(), node("end", "end", output="1")), {})
    DjangoStore.claim(run, "dead-engine:0000abcd", 30)
    run.save()
    # another advance cannot take it while the lease runs
    assert _advance(run) is None
    # when the lease expires, the reaper sends it again at once and another worker runs it
    assert dispatch.reap(now=timezone.now() + dt.timedelta(seconds=31)) == [str(run.pk)]
    _expire_lease(run)
    assert _advance(run) == "succeeded"


@pytest.mark.django_db
def test_cancelling_a_claimed_run_not_started_yet_ends_it_at_once_and_its_advance_then_does_nothing(make_run, owner):
    run = make_run(line(start(), node("end", "end", output="1")), {})
    engine = Engine(DjangoStore(), LIMITS, owner="w10")
    claimed_by = engine.new_owner()
    DjangoStore.claim(run, claimed_by, 30)
    run.save()
    # when
    assert run_cancel(run=run, by=owner).status == "cancelled"
    # then: the advance it was leased to starts from what was stored, and its first commit finds the lease gone
    claim = Claim(claimed_by, run.lease_expires_at, lambda: engine.store.adopt(run))
    assert _advance_here(engine, run, claim) is None
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert not Step.objects.filter(run=run).exists()


@pytest.mark.django_db
def test_a_call_started_before_the_first_commit_is_cut_off_when_that_commit_finds_the_run_cancelled(make_run, owner):
    # given a claimed run whose first node waits on the network, cancelled before its advance starts
    run = make_run(line(start(), node("nap", "test_async_sleep", seconds=30), node("end", "end", output="1")), {})
    engine = Engine(DjangoStore(), LIMITS, owner="w11")
    claimed_by = engine.new_owner()
    DjangoStore.claim(run, claimed_by, 30)
    run.save()
    CALLS.pop("nap", None)
    CUT_OFF.pop("nap", None)
    assert run_cancel(run=run, by=owner).status == "cancelled"
    # when its advance starts the node's call, then commits its running row
    claim = Claim(claimed_by, run.lease_expires_at, lambda: engine.store.adopt(run))
    assert _advance_here(engine, run, claim) is None
    # then the commit found the lease gone: the call was cut off where it waited (or before it began), and nothing
    # was stored
    wait_for(lambda: CALLS.get("nap", 0) == CUT_OFF.get("nap", 0), 5, "the call to be cut off")
    time.sleep(0.2)
    assert CALLS.get("nap", 0) == CUT_OFF.get("nap", 0) <= 1
    run.refresh_from_db()
    assert run.status == "cancelled"
    assert not Step.objects.filter(run=run).exists()
