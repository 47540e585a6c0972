"""Fixtures for the evals tests: a small workflow (start → shout → end) and an agent workflow on the
local model server."""

import pytest

from builder.models import Workflow
from runs.testing.graphs import shout_graph
from runs.testing.workflows import saved_workflow
from runs.tests.helpers import START_SCHEMA, line, node, start


def agent_graph(model: str = "gpt-4.1-mini") -> dict:
    return line(
        start(START_SCHEMA),
        node("answer", "agent", model=model, instructions="{{ workflow.input.message }}"),
        node("end", "end", output={"text": "nodes.answer.output"}),
    )


@pytest.fixture
def make_flow(workspace, owner):
    def make(graph: dict | None = None, *, publish: bool = False, name: str = "Flow") -> Workflow:
        return saved_workflow(workspace=workspace, by=owner, graph=graph or shout_graph(), name=name, published=publish)

    return make


@pytest.fixture
def env_model(settings, model_server):
    """The environment's default provider is the local model server."""
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_BASE_URL = model_server.base_url
    return model_server
