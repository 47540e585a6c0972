"""RUN_FINISHED_LISTENERS are called once, after commit, with the terminal run."""

import time

import pytest

from runs import services
from runs.dispatch import dispatch_run
from runs.services import run_wait
from runs.tests.helpers import line, node, start


@pytest.mark.django_db(transaction=True)
def test_listeners_hear_about_finished_runs(make_run, monkeypatch):
    heard = []
    monkeypatch.setattr(services, "RUN_FINISHED_LISTENERS", [lambda run: heard.append((run.pk, run.status))])
    run = make_run(line(start(), node("end", "end", output="'done'")))
    dispatch_run(run.pk)
    run = run_wait(run_id=run.pk, timeout_s=10)
    assert run.status == "succeeded"
    deadline = time.monotonic() + 5
    while not heard and time.monotonic() < deadline:
        time.sleep(0.01)
    assert heard == [(run.pk, "succeeded")]


@pytest.mark.django_db(transaction=True)
def test_a_failing_listener_does_not_break_the_run_or_other_listeners(make_run, monkeypatch):
    heard = []

    def broken(run):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "RUN_FINISHED_LISTENERS", [broken, lambda run: heard.append(run.status)])
    run = make_run(line(start(), node("end", "end")))
    dispatch_run(run.pk)
    assert run_wait(run_id=run.pk, timeout_s=10).status == "succeeded"
    deadline = time.monotonic() + 5
    while not heard and time.monotonic() < deadline:
        time.sleep(0.01)
    assert heard == ["succeeded"]
