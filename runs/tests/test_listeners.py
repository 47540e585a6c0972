"""RUN_FINISHING_LISTENERS are called once, inside the transaction that makes the run terminal."""

import pytest
from django.db import connection, transaction
from django.utils import timezone

from runs import finishing
from runs.dispatch import dispatch_run
from runs.models import RunEvent
from runs.services import run_wait
from runs.tests.helpers import line, node, start


def everyone(run) -> bool:
    return True


@pytest.mark.django_db(transaction=True)
def test_listeners_hear_about_finishing_runs_inside_the_final_transaction(make_run, monkeypatch):
    heard = []

    def listener(run):
        heard.append((run.pk, run.status, connection.in_atomic_block))
        # a write of the listener commits with the run's end
        RunEvent.objects.create(run=run, seq=10_000, type="test.heard", data={}, ts=timezone.now())

    monkeypatch.setattr(finishing, "RUN_FINISHING_LISTENERS", [finishing.FinishingListener(listener, everyone)])
    run = make_run(line(start(), node("end", "end", output="'done'")))
    dispatch_run(run.pk)
    run = run_wait(run_id=run.pk, timeout_s=10)

    assert run.status == "succeeded"
    assert heard == [(run.pk, "succeeded", True)]
    assert RunEvent.objects.filter(run=run, type="test.heard").exists()


@pytest.mark.django_db(transaction=True)
def test_a_failing_listener_does_not_break_the_run_or_other_listeners(make_run, monkeypatch):
    heard = []

    def broken(run):
        with transaction.atomic():  # as listeners that write do
            RunEvent.objects.create(run=run, seq=10_000, type="test.broken", data={}, ts=timezone.now())
            raise RuntimeError("boom")

    listeners = [broken, lambda run: heard.append(run.status)]
    monkeypatch.setattr(
        finishing, "RUN_FINISHING_LISTENERS", [finishing.FinishingListener(fn, everyone) for fn in listeners]
    )
    run = make_run(line(start(), node("end", "end")))
    dispatch_run(run.pk)

    assert run_wait(run_id=run.pk, timeout_s=10).status == "succeeded"
    assert heard == ["succeeded"]
    assert not RunEvent.objects.filter(run=run, type="test.broken").exists()  # its write was rolled back


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("concerned", [True, False])
def test_a_run_no_listener_is_concerned_with_ends_in_one_statement(make_run, monkeypatch, concerned):
    from runs.engine.core import Engine
    from runs.persistence import engine as persistence
    from runs.persistence.engine import DjangoStore

    # given a listener concerned with some runs only
    heard = []
    listener = finishing.FinishingListener(lambda run: heard.append(run.pk), lambda run: concerned)
    monkeypatch.setattr(finishing, "RUN_FINISHING_LISTENERS", [listener])
    run = make_run(line(start(), node("end", "end", output="'done'")))
    commits = []
    for name in ("_commit_pg", "_commit_other"):
        write = getattr(persistence, name)
        monkeypatch.setattr(
            persistence, name, lambda *args, write=write: commits.append(connection.in_atomic_block) or write(*args)
        )

    # when the run is advanced to its end on this thread
    status = Engine(DjangoStore()).advance(str(run.pk))
    # then the listener hears of it only if concerned, and only then is the run's end written in a transaction
    assert status == "succeeded"
    assert heard == ([run.pk] if concerned else [])
    assert commits, "the engine's commits were not seen"
    if connection.vendor == "postgresql":
        assert commits[-1] is concerned
