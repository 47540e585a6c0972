"""Chat fixtures: the chat template published, deployments, and a live server (uvicorn in a thread of the
test process, sharing the test database) that the visitor API is called on like a browser would."""

from dataclasses import replace

import httpx
import pytest

from builder.services.templates import TEMPLATES
from chat.services import deployment_create
from runs.testing.workflows import saved_workflow
from runs.triggers.tests.conftest import _live_server, live_url  # noqa: F401  (fixtures)

CHAT_HEADERS = {"X-Trellis-Chat": "1"}


@pytest.fixture
def chat_model(settings, model_server, monkeypatch):
    """Agent nodes talk to the local test model; deltas are not coalesced, so streaming shows."""
    import runs.process_engine
    from runs.engine.core import Limits

    from_settings = Limits.from_settings
    monkeypatch.setattr(Limits, "from_settings", classmethod(lambda cls: replace(from_settings(), delta_interval_s=0)))
    monkeypatch.setattr(runs.process_engine, "_engine", None)
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_BASE_URL = model_server.base_url
    return model_server


@pytest.fixture
def publish(workspace, owner):
    def make(graph: dict | None = None, name: str = "Helper"):
        graph = graph or TEMPLATES["chat-assistant"].graph()
        return saved_workflow(workspace=workspace, by=owner, graph=graph, name=name)

    return make


@pytest.fixture
def chat_workflow(publish):
    return publish()


@pytest.fixture
def make_deployment(chat_workflow, owner):
    def make(workflow=None, **fields):
        fields.setdefault("title", "Help desk")
        return deployment_create(workflow=workflow or chat_workflow, by=owner, **fields)

    return make


@pytest.fixture
def deployment(make_deployment):
    return make_deployment(greeting="Hi! Ask me anything.")


@pytest.fixture
def visitor_client(live_url):  # noqa: F811
    """visitor_client() -> a fresh httpx client with its own cookie jar: a new visitor."""
    clients = []

    def make():
        client = httpx.Client(base_url=live_url, timeout=30, headers=CHAT_HEADERS)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
