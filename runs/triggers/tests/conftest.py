"""Fixtures for trigger tests: a published non-LLM workflow, triggers, and a live ASGI server (uvicorn
in a thread of the test process, so it serves the test database)."""

import httpx
import pytest

from runs.testing.graphs import line, node, start
from runs.testing.live_server import live_server_thread
from runs.testing.workflows import saved_workflow
from runs.triggers.services import trigger_create


def make_graph(reply_expression: str = "nodes.shape.output.echo") -> dict:
    """start → transform → end: echoes the input and shows what expressions see of the trigger."""
    schema = {
        "type": "object",
        "properties": {"message": {"type": "string"}, "count": {"type": "integer"}},
        "required": ["message"],
    }
    return line(
        start(schema, state={}),
        node(
            "shape",
            "transform",
            output={
                "echo": "workflow.input.message",
                "trigger_type": "trigger.type",
                "order": '"x-order" in trigger.headers ? trigger.headers["x-order"] : ""',
                "source": '"source" in trigger.query ? trigger.query.source : ""',
            },
        ),
        node(
            "done",
            "end",
            output={
                "reply": reply_expression,
                "trigger_type": "nodes.shape.output.trigger_type",
                "order": "nodes.shape.output.order",
                "source": "nodes.shape.output.source",
            },
        ),
    )


GRAPH = make_graph()


@pytest.fixture
def make_workflow(workspace, owner):
    """make_workflow(published=True, graph=GRAPH, draft_graph=None) -> Workflow."""

    def make(*, published: bool = True, graph: dict | None = None, draft_graph: dict | None = None, name="Echo"):
        return saved_workflow(
            workspace=workspace, by=owner, graph=graph or GRAPH, name=name, published=published, draft_graph=draft_graph
        )

    return make


@pytest.fixture
def workflow(make_workflow):
    return make_workflow()


@pytest.fixture
def make_trigger(workflow, owner):
    """make_trigger(**options) -> (trigger, secret)."""

    def make(wf=None, **options):
        options.setdefault("rate_limit_per_minute", 0)
        return trigger_create(workflow=wf or workflow, by=owner, **options)

    return make


@pytest.fixture(scope="session")
def _live_server(django_db_setup, django_db_blocker):
    with live_server_thread() as url:
        yield url


@pytest.fixture
def live_url(_live_server, transactional_db, settings):
    settings.PUBLIC_URL = _live_server
    return _live_server  # runs it started finish before the flush: the root conftest's _background_work_finishes


@pytest.fixture
def http(live_url):
    with httpx.Client(base_url=live_url, timeout=30) as client:
        yield client
