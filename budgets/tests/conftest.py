"""Fixtures for the budget tests: the local model server as the default provider (priced like
gpt-4.1-mini), an agent workflow, and a synchronous engine."""

from decimal import Decimal

import pytest

from budgets.services import budget_set
from runs.engine.core import Engine, Limits
from runs.llm.prices import DEFAULT_PRICES
from runs.models import Run
from runs.persistence.engine import DjangoStore
from runs.tests.conftest import make_run, make_workflow  # noqa: F401 - shared fixtures
from runs.tests.helpers import line, node, start

MODEL = "gpt-4.1-mini"
PRICE = DEFAULT_PRICES[MODEL]
MAX_OUTPUT = 16


def agent_graph(model: str = MODEL, max_output_tokens: int = MAX_OUTPUT) -> dict:
    return line(
        start(),
        node("agent", "agent", model=model, instructions="Say hello to Ada", max_output_tokens=max_output_tokens),
        node("end", "end", output={"reply": "nodes.agent.output"}),
    )


@pytest.fixture
def env_provider(settings, model_server):
    """The environment's default provider is the local model server (guard off, priced by model name)."""
    settings.OPENAI_API_KEY = "test-key"
    settings.OPENAI_BASE_URL = model_server.base_url
    return model_server


@pytest.fixture
def advance():
    def go(run) -> Run:
        Engine(DjangoStore(), Limits(lease_s=30, heartbeat_s=3600)).advance(str(run.pk))
        return Run.objects.get(pk=run.pk)

    return go


@pytest.fixture
def set_budget(owner):
    def make(workspace, *, limit, window="month", scope="workspace", target_id="", alert_at=0.8, url=""):
        return budget_set(
            workspace=workspace,
            scope=scope,
            target_id=str(target_id),
            window=window,
            limit_usd=Decimal(str(limit)),
            alert_at=alert_at,
            alert_webhook_url=url,
            by=owner,
        )

    return make


def model_calls(server) -> int:
    return sum(1 for r in server.requests if r["path"].endswith(("/responses", "/chat/completions")))
