"""Model prices: dated workspace prices over the operator's table, history that keeps the cost a call had,
and "price unknown" instead of $0."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from budgets.selectors import price_at
from budgets.services import model_price_add
from budgets.tests.conftest import agent_graph
from runs.llm.prices import DEFAULT_PRICES, Price
from runs.models import Step

pytestmark = pytest.mark.django_db(transaction=True)


def _agent_usage(run) -> dict:
    return Step.objects.get(run=run, node_id="agent").usage


def test_prices_change_over_time_and_history_keeps_the_old_cost(env_provider, make_run, advance, workspace, owner):
    # given a workspace price in force since yesterday
    model_price_add(
        workspace=workspace,
        model="gpt-4.1-mini",
        input_per_1m=10,
        output_per_1m=10,
        effective_from=timezone.now() - dt.timedelta(days=1),
        by=owner,
    )
    first = advance(make_run(agent_graph()))
    # when the price doubles from now on and the workflow runs again
    switched_at = timezone.now()
    model_price_add(workspace=workspace, model="gpt-4.1-mini", input_per_1m=20, output_per_1m=20, by=owner)
    second = advance(make_run(agent_graph()))

    # then each run kept the price that was true when its call was made
    usage_1, usage_2 = _agent_usage(first), _agent_usage(second)
    tokens = usage_1["input_tokens"] + usage_1["output_tokens"]
    assert usage_2["input_tokens"] + usage_2["output_tokens"] == tokens
    assert usage_1["cost_usd"] == pytest.approx(tokens * 10 / 1_000_000)
    assert usage_2["cost_usd"] == pytest.approx(tokens * 20 / 1_000_000)
    first.refresh_from_db()
    assert first.usage["cost_usd"] == pytest.approx(tokens * 10 / 1_000_000)
    # and the price at a moment is the one in force then
    assert (
        price_at(workspace_id=workspace.pk, model="gpt-4.1-mini", at=switched_at - dt.timedelta(seconds=1)).input == 10
    )
    assert (
        price_at(workspace_id=workspace.pk, model="gpt-4.1-mini", at=switched_at + dt.timedelta(minutes=1)).input == 20
    )
    # and before the workspace had its own price, the built-in one applied
    assert (
        price_at(workspace_id=workspace.pk, model="gpt-4.1-mini", at=timezone.now() - dt.timedelta(days=3))
        == DEFAULT_PRICES["gpt-4.1-mini"]
    )


def test_a_run_with_an_unknown_price_shows_price_unknown_never_zero(
    env_provider, make_run, advance, workspace, owner, client_for
):
    run = advance(make_run(agent_graph(model="acme-unpriced-1")))

    assert run.status == "succeeded"
    assert _agent_usage(run)["cost_usd"] is None
    assert _agent_usage(run)["price_unknown"] is True
    detail = client_for(owner, workspace).get(f"/api/v1/runs/{run.pk}").json()
    assert detail["usage"]["price_unknown"] is True
    assert detail["usage"]["cost_usd"] == 0.0  # the known part: nothing; the flag says the rest is unknown
    assert detail["steps"][1]["usage"]["cost_usd"] is None


def test_a_workspace_price_makes_a_fine_tuned_model_priced(env_provider, make_run, advance, workspace, owner):
    model_price_add(
        workspace=workspace,
        model="ft:gpt-4.1-mini:acme",
        input_per_1m=1,
        output_per_1m=4,
        effective_from=timezone.now() - dt.timedelta(minutes=1),
        by=owner,
    )

    run = advance(make_run(agent_graph(model="ft:gpt-4.1-mini:acme")))

    usage = _agent_usage(run)
    assert "price_unknown" not in run.usage
    assert usage["cost_usd"] == pytest.approx((usage["input_tokens"] * 1 + usage["output_tokens"] * 4) / 1_000_000)


def test_a_dated_snapshot_uses_its_base_models_workspace_price(workspace, owner):
    model_price_add(
        workspace=workspace,
        model="acme-1",
        input_per_1m=2,
        output_per_1m=3,
        effective_from=timezone.now() - dt.timedelta(minutes=1),
        by=owner,
    )

    price = price_at(workspace_id=workspace.pk, model="acme-1-2026-01-15")

    assert (price.input, price.output, price.source) == (Decimal(2), Decimal(3), "workspace")
    assert price_at(workspace_id=workspace.pk, model="acme-2") is None


def test_cached_input_and_reasoning_tokens_have_their_own_prices():
    price = Price(input=Decimal(2), output=Decimal(8), cached_input=Decimal("0.5"), reasoning=Decimal(10))

    cost = price.cost(input_tokens=1000, cached_input_tokens=400, output_tokens=500, reasoning_tokens=300)

    assert cost == (600 * 2 + 400 * Decimal("0.5") + 200 * 8 + 300 * 10) / Decimal(1_000_000)
    # without their own prices they cost what input and output cost
    plain = Price(input=Decimal(2), output=Decimal(8))
    assert plain.cost(input_tokens=1000, cached_input_tokens=400, output_tokens=500, reasoning_tokens=300) == (
        1000 * 2 + 500 * 8
    ) / Decimal(1_000_000)


def test_a_fine_tuned_model_is_priced_at_its_base_models_fine_tuned_rate(
    env_provider, make_run, advance, workspace, owner
):
    ft = "ft:gpt-4o-mini-2024-07-18:acme::abc123"

    # the fine-tuned rate (dearer than the base's), whatever the dated base and the suffix
    assert price_at(workspace_id=workspace.pk, model=ft) == Price(
        input=Decimal("0.30"), output=Decimal("1.20"), cached_input=Decimal("0.15")
    )
    assert price_at(workspace_id=workspace.pk, model="ft:gpt-4.1-mini:acme:support:xyz").input == Decimal("0.80")
    assert price_at(workspace_id=workspace.pk, model="ft:unknown-base:acme::1") is None

    # a run of the fine-tuned model costs its tokens at that rate
    run = advance(make_run(agent_graph(model=ft)))
    usage = _agent_usage(run)
    assert usage["model"] == ft
    expected = (usage["input_tokens"] * 0.30 + usage["output_tokens"] * 1.20) / 1_000_000
    assert usage["cost_usd"] == pytest.approx(expected)
    assert expected > (usage["input_tokens"] * 0.15 + usage["output_tokens"] * 0.60) / 1_000_000  # not the base rate

    # a workspace price for that very model wins over the fine-tuned default
    model_price_add(workspace=workspace, model=ft, input_per_1m=1, output_per_1m=1, by=owner)
    assert price_at(workspace_id=workspace.pk, model=ft).input == 1
