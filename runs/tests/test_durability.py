"""Durability: a worker that dies mid-run loses only the step in flight; leases keep workers apart."""

import datetime as dt

import pytest
from django.utils import timezone

from runs.engine.core import Engine, Limits
from runs.models import Run, Step
from runs.persistence.engine import DjangoStore
from runs.tests.helpers import CALLS, line, node, start

pytestmark = pytest.mark.django_db


class WorkerDied(BaseException):
    """Stands in for SIGKILL: not an Exception, so nothing in the engine catches it."""


class DyingStore(DjangoStore):
    def __init__(self, die_after_commits: int):
        super().__init__()
        self.left = die_after_commits

    def commit(self, *args, **kwargs):
        if self.left == 0:
            raise WorkerDied()
        self.left -= 1
        return super().commit(*args, **kwargs)


def test_a_run_resumes_after_a_crash_without_repeating_finished_steps(make_run):
    for key in ("a", "b", "c"):
        CALLS.pop(key, None)
    g = line(
        start(),
        node("a", "test_flaky"),
        node("b", "test_flaky"),
        node("c", "test_flaky"),
        node("end", "end", output={"calls": "[nodes.a.output.calls, nodes.b.output.calls, nodes.c.output.calls]"}),
    )
    run = make_run(g, {})
    limits = Limits(lease_s=30, heartbeat_s=3600)
    # given a worker that dies while `b` is in flight (start and a are committed, b has a running row)
    with pytest.raises(WorkerDied):
        Engine(DyingStore(die_after_commits=3), limits, owner="w1").advance(str(run.pk))
    run.refresh_from_db()
    assert run.status == "running" and run.lease_owner.startswith("w1:")
    assert {k: CALLS.get(k) for k in "abc"} == {"a": 1, "b": 1, "c": None}
    # a second worker cannot take the run while the lease is live
    assert Engine(DjangoStore(), limits, owner="w2").advance(str(run.pk)) is None
    # when the lease expires
    Run.objects.filter(pk=run.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))
    status = Engine(DjangoStore(), limits, owner="w2").advance(str(run.pk))
    # then
    assert status == "succeeded"
    run.refresh_from_db()
    assert run.output == {"calls": [1, 2, 1]}
    assert {k: CALLS.get(k) for k in "abc"} == {"a": 1, "b": 2, "c": 1}
    b_steps = list(Step.objects.filter(run=run, node_id="b").order_by("started_at").values_list("status", "error"))
    assert b_steps[0][0] == "cancelled" and b_steps[0][1]["code"] == "worker_lost"
    assert b_steps[1][0] == "succeeded"
    assert Step.objects.filter(run=run, node_id="a").count() == 1


def test_a_finished_run_is_never_advanced_again(make_run, advance):
    run = advance(make_run(line(start(), node("end", "end", output="1")), {}))
    assert run.status == "succeeded"
    assert Engine(DjangoStore(), Limits(heartbeat_s=3600)).advance(str(run.pk)) is None
    assert Step.objects.filter(run=run).count() == 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("n_steps", [1, 3])
def test_one_commit_finishes_several_stored_steps_and_none_without_the_lease(make_run, n_steps):
    import uuid

    from runs.engine.store import Commit, LeaseLost, StepRecord

    # given a run whose steps were stored running (on PostgreSQL one row is written as VALUES, several as arrays)
    run = make_run(line(start(), node("end", "end")))
    store = DjangoStore()
    assert store.acquire(str(run.pk), "me", 30) is not None
    started = timezone.now()
    records = [
        StepRecord(id=str(uuid.uuid4()), node_id=f"n{i}", node_type="transform", started_at=started)
        for i in range(n_steps)
    ]
    store.commit(str(run.pk), "me", 30, Commit(steps=records))
    # when one commit finishes them all
    for i, rec in enumerate(records):
        rec.persisted, rec.status, rec.output, rec.order = True, "succeeded", {"i": i}, i + 1
        rec.finished_at, rec.duration_ms = timezone.now(), 5
    store.commit(str(run.pk), "me", 30, Commit(steps=records, run={"status": "running"}))
    # then every row has its outcome
    rows = {s.node_id: s for s in Step.objects.filter(run=run)}
    assert [(rows[f"n{i}"].status, rows[f"n{i}"].output, rows[f"n{i}"].order) for i in range(n_steps)] == [
        ("succeeded", {"i": i}, i + 1) for i in range(n_steps)
    ]
    # and a commit without the lease changes no step
    Run.objects.filter(pk=run.pk).update(lease_owner="someone else")
    for rec in records:
        rec.status = "failed"
    with pytest.raises(LeaseLost):
        store.commit(str(run.pk), "me", 30, Commit(steps=records))
    assert set(Step.objects.filter(run=run).values_list("status", flat=True)) == {"succeeded"}


def test_a_runs_last_commit_is_parsed_once_though_it_has_over_50_parameters(make_run, monkeypatch):
    import uuid

    from django.db import connection
    from psycopg import _queries

    from runs.engine.store import Commit, Event, StepRecord

    if connection.vendor != "postgresql":
        pytest.skip("psycopg parses the statements on PostgreSQL")
    sizes: list[int] = []
    convert = _queries.PostgresQuery.convert
    monkeypatch.setattr(
        _queries.PostgresQuery,
        "convert",
        lambda self, query, params: sizes.append(len(params or ())) or convert(self, query, params),
    )

    def last_commit(run) -> None:
        # a run's last commit: its agent step's outcome, its end step, its events, and the run finished
        store = DjangoStore()
        assert store.acquire(str(run.pk), "me", 30) is not None
        rec = StepRecord(id=str(uuid.uuid4()), node_id="agent", node_type="agent", started_at=timezone.now())
        store.commit(str(run.pk), "me", 30, Commit(steps=[rec]))
        rec.persisted, rec.status, rec.output, rec.finished_at = True, "succeeded", {"text": "hi"}, timezone.now()
        events = [
            Event("step.completed", "agent", {"status": "succeeded"}),
            Event("step.started", "end", {}),
            Event("run.completed", None, {}),
        ]
        run_fields = {"status": "succeeded", "output": {"text": "hi"}, "finished_at": timezone.now(), "usage": {}}
        end = StepRecord(id=str(uuid.uuid4()), node_id="end", node_type="end", started_at=timezone.now())
        end.status, end.output, end.finished_at = "succeeded", {"text": "hi"}, timezone.now()
        commit = Commit(steps=[rec, end], events=events, run=run_fields, step_counter=3, release=True)
        store.commit(str(run.pk), "me", 30, commit)

    last_commit(make_run(line(start(), node("end", "end"))))
    # when another run's last commit has the same statement
    monkeypatch.setattr(_queries, "_query2pg_nocache", lambda *a: pytest.fail("a statement was parsed again"))
    sizes.clear()
    last_commit(make_run(line(start(), node("end", "end"))))
    # then psycopg did not parse it again, though it has more than 50 parameters (its default limit)
    assert max(sizes) > 50
    assert Run.objects.filter(status="succeeded").count() == 2


def test_a_heartbeat_sees_cancels_and_lost_leases_and_extends_only_the_leases_still_held(make_run):
    # given three runs this worker leased: one still held, one with a cancel requested, one taken by another
    store = DjangoStore()
    held, cancelled, taken = (make_run(line(start(), node("end", "end"))) for _ in range(3))
    for i, run in enumerate((held, cancelled, taken)):
        assert store.acquire(str(run.pk), f"me:{i}", 30) is not None
    Run.objects.filter(pk=cancelled.pk).update(cancel_requested=True)
    Run.objects.filter(pk=taken.pk).update(lease_owner="other:1")
    before = {r.pk: r.lease_expires_at for r in Run.objects.all()}
    leases = [(str(held.pk), "me:0"), (str(cancelled.pk), "me:1"), (str(taken.pk), "me:2")]
    # when a beat checks them all and extends all three
    seen_cancelled, lost = store.heartbeat_many(leases, 300, extend={run_id for run_id, _ in leases})
    # then it sees the cancel and the lost lease, and extends only the leases this worker still holds
    assert seen_cancelled == {str(cancelled.pk)} and lost == {str(taken.pk)}
    after = {r.pk: r.lease_expires_at for r in Run.objects.all()}
    assert after[held.pk] > before[held.pk] + dt.timedelta(seconds=200)
    assert after[cancelled.pk] > before[cancelled.pk] + dt.timedelta(seconds=200)
    assert after[taken.pk] == before[taken.pk]
