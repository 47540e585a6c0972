"""Fixtures for the evals tests: a small workflow (start → shout → end) and an agent workflow on the
local model server."""

import pytest

from builder.models import Workflow, WorkflowVersion
from builder.services.graph import graph_checksum
from runs.tests.helpers import START_SCHEMA, line, node, start


def shout_graph(expression: str = "workflow.input.message.upperAscii()") -> dict:
    return line(
        start(START_SCHEMA),
        node("shout", "transform", output={"text": expression}),
        node("end", "end", output={"text": "nodes.shout.output.text"}),
    )


def agent_graph(model: str = "gpt-4.1-mini") -> dict:
    return line(
        start(START_SCHEMA),
        node("answer", "agent", model=model, instructions="{{ workflow.input.message }}"),
        node("end", "end", output={"text": "nodes.answer.output"}),
    )


@pytest.fixture
def make_flow(workspace, owner):
    def make(graph: dict | None = None, *, publish: bool = False, name: str = "Flow") -> Workflow:
        graph = graph or shout_graph()
        wf = Workflow.objects.create(workspace=workspace, name=name, draft_graph=graph, created_by=owner)
        if publish:
            version = WorkflowVersion.objects.create(workflow=wf, number=1, graph=graph, checksum=graph_checksum(graph))
            wf.published_version = version
            wf.save(update_fields=["published_version"])
        return wf

    return make


@pytest.fixture
def env_model(settings, model_server):
    """The environment's default provider is the local model server."""
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_BASE_URL = model_server.base_url
    return model_server
