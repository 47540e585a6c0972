"""Fixtures for the runs tests: workflows built from small graphs, and a synchronous engine."""

import itertools
import subprocess
import sys

import httpx
import pytest

from builder.models import Workflow
from runs.engine.core import Engine, Limits
from runs.models import Run
from runs.persistence.engine import DjangoStore
from runs.testing.live_server import free_port, stop_processes, wait_until_answers
from runs.testing.workflows import saved_workflow
from runs.tests import helpers  # noqa: F401 - registers the test-only node types

_n = itertools.count(1)


@pytest.fixture
def make_workflow(workspace, owner):
    def make(graph: dict, *, publish: bool = False, name: str | None = None) -> Workflow:
        name = name or f"Flow {next(_n)}"
        return saved_workflow(workspace=workspace, by=owner, graph=graph, name=name, published=publish)

    return make


@pytest.fixture
def limits():
    # A long heartbeat: in `db` tests the rows are invisible to the heartbeat thread's connection.
    return Limits(lease_s=30, heartbeat_s=3600)


@pytest.fixture
def advance(limits):
    """advance(run) -> the fresh Run after the engine advanced it synchronously in this thread."""

    def go(run, **overrides) -> Run:
        lim = Limits(**{**limits.__dict__, **overrides})
        Engine(DjangoStore(), lim).advance(str(run.pk))
        return Run.objects.get(pk=run.pk)

    return go


@pytest.fixture
def make_run(make_workflow):
    """make_run(graph, input) -> a queued run of `graph`, not dispatched and not validated (engine tests
    use test-only node types that the builder's validation does not know)."""

    def make(graph: dict, input: dict | None = None, workflow=None) -> Run:  # noqa: A002
        wf = workflow or make_workflow(graph)
        return Run.objects.create(
            workspace_id=wf.workspace_id, workflow=wf, graph=graph, is_draft=True, input=input or {}, last_seq=0
        )

    return make


class SlowModel:
    def __init__(self, latency_s: float):
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "runs.testing.slow_model", "--port", str(self.port), "--latency", str(latency_s)]
        )
        wait_until_answers(f"http://127.0.0.1:{self.port}/stats", proc=self.proc)
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def stats(self) -> dict:
        return httpx.get(f"http://127.0.0.1:{self.port}/stats", timeout=10).json()

    def stop(self) -> None:
        stop_processes(self.proc)


@pytest.fixture
def slow_model(request, settings):
    model = SlowModel(getattr(request, "param", 1.0))
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_BASE_URL = model.base_url
    yield model
    model.stop()
