"""The reservation protocol end to end: runs of agent workflows against budgets, through the real engine,
the real openai SDK and the local model server (which counts the calls it gets)."""

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import close_old_connections, connection

from budgets.models import BudgetPeriod, RunCostLimit
from budgets.services import (
    BudgetRefused,
    budget_reserve,
    budget_reserve_cached,
    budget_settle,
    budget_warm,
    inline_wait_idle,
)
from budgets.tests.conftest import MAX_OUTPUT, MODEL, PRICE, agent_graph, model_calls
from builder.models import AuditEvent
from runs.models import Run, Step
from runs.tests.helpers import line, node, start
from trellis import signing

# The engine runs agent steps on pool threads with their own connections: the rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)
# Runs advanced side by side in the concurrency test. Each advancing run holds two connections (engine and
# step thread) and the PostgreSQL server is shared: 12 at a time keeps the test well under max_connections.
PARALLEL_RUNS = 12


def _run_of_trigger(flow, trigger) -> Run:
    """A queued run of the workflow's published version, started by the webhook `trigger`."""
    return Run.objects.create(
        workspace_id=flow.workspace_id,
        workflow=flow,
        version=flow.published_version,
        trigger={"type": "webhook", "trigger_id": str(trigger.pk)},
        input={},
    )


def _call_cost(run: Run) -> Decimal:
    usage = Step.objects.get(run=run, node_id="agent").usage
    return PRICE.cost(input_tokens=usage["input_tokens"], output_tokens=usage["output_tokens"])


def test_a_tiny_budget_stops_a_run_before_the_model_is_called(env_provider, make_run, advance, set_budget, workspace):
    # given a workspace budget of a millionth of a dollar
    budget = set_budget(workspace, limit="0.000001")

    # when an agent workflow runs
    run = advance(make_run(agent_graph()))

    # then the step failed with budget_exceeded, naming the budget and what was left, and nothing was sent
    assert model_calls(env_provider) == 0
    assert run.status == "failed"
    assert run.error["code"] == "budget_exceeded"
    step = Step.objects.get(run=run, node_id="agent")
    assert step.status == "failed"
    assert step.error["code"] == "budget_exceeded"
    assert "the workspace budget of $0.000001 per month" in step.error["message"]
    assert "$0.000001 is left" in step.error["message"]
    assert "Nothing was sent to the model" in step.error["message"]
    assert step.error["details"]["scope"] == "workspace"
    assert step.error["details"]["left_usd"] == 0.000001
    # and the refusal is in the audit trail once, and the counter holds nothing
    assert list(AuditEvent.objects.filter(action="budget.exceeded").values_list("target_id", flat=True)) == [
        str(budget.pk)
    ]
    period = BudgetPeriod.objects.get(budget=budget)
    assert (period.spent_usd, period.reserved_usd) == (Decimal(0), Decimal(0))
    assert period.exceeded_at is not None


def test_a_run_within_the_budget_is_charged_its_actual_cost(env_provider, make_run, advance, set_budget, workspace):
    budget = set_budget(workspace, limit="1")

    run = advance(make_run(agent_graph()))

    assert run.status == "succeeded"
    assert model_calls(env_provider) == 1
    period = BudgetPeriod.objects.get(budget=budget)
    assert period.reserved_usd == Decimal(0)
    assert period.spent_usd == _call_cost(run).quantize(Decimal("0.000000001"))
    assert run.usage["cost_usd"] == pytest.approx(float(_call_cost(run)))


def test_a_workflow_budget_applies_to_that_workflow_only(
    env_provider, make_workflow, make_run, advance, set_budget, workspace
):
    limited, free = make_workflow(agent_graph()), make_workflow(agent_graph())
    set_budget(workspace, limit="0.000001", scope="workflow", target_id=limited.pk)

    refused = advance(make_run(agent_graph(), workflow=limited))
    allowed = advance(make_run(agent_graph(), workflow=free))

    assert (refused.status, refused.error["code"]) == ("failed", "budget_exceeded")
    assert "the workflow's budget" in refused.error["message"]
    assert allowed.status == "succeeded"
    assert model_calls(env_provider) == 1


def test_max_cost_usd_stops_the_run_at_its_next_model_call(env_provider, make_run, advance, workspace):
    # given a run allowed to spend less than one call
    run = make_run(agent_graph())
    RunCostLimit.objects.create(run=run, max_cost_usd=Decimal("0.000001"))

    run = advance(run)

    assert model_calls(env_provider) == 0
    assert run.error["code"] == "budget_exceeded"
    assert "the run's max_cost_usd of $0.000001" in run.error["message"]


def test_a_budget_cannot_be_enforced_for_a_model_without_a_price(
    env_provider, make_run, advance, set_budget, workspace
):
    set_budget(workspace, limit="100")

    run = advance(make_run(agent_graph(model="acme-unpriced-1")))

    assert model_calls(env_provider) == 0
    assert run.error["code"] == "price_unknown"
    assert "No price is known for model 'acme-unpriced-1'" in run.error["message"]


def test_fifty_concurrent_runs_against_a_budget_for_five_calls_make_at_most_five_calls(
    env_provider, make_workflow, make_run, advance, set_budget, workspace, make_workspace
):
    # given the cost of one call (measured in another workspace without a budget)
    probe_ws = make_workspace()
    probe = make_workflow(agent_graph())
    probe.workspace = probe_ws
    probe.save(update_fields=["workspace"])
    probe_run = advance(
        Run.objects.create(workspace=probe_ws, workflow=probe, graph=agent_graph(), is_draft=True, input={})
    )
    one_call = _call_cost(probe_run).quantize(Decimal("0.000000001"))
    env_provider.reset()
    # and a budget that covers exactly five such calls
    budget = set_budget(workspace, limit=one_call * 5)
    runs = [make_run(agent_graph()) for _ in range(50)]

    # when all fifty runs are advanced at once (PARALLEL_RUNS at a time, each on its own connection)
    gate = threading.Barrier(PARALLEL_RUNS)

    def go(run):
        try:
            if run in runs[:PARALLEL_RUNS]:
                gate.wait(30)
            return advance(run)
        finally:
            close_old_connections()
            connection.close()

    with ThreadPoolExecutor(PARALLEL_RUNS) as pool:
        finished = list(pool.map(go, runs))

    # then at most five calls reached the model, every other run failed with budget_exceeded,
    # and the budget was never overspent
    calls = model_calls(env_provider)
    print(f"{calls} of 50 runs reached the model")
    assert 1 <= calls <= 5
    statuses = sorted((r.status, (r.error or {}).get("code")) for r in finished)
    assert statuses == sorted([("succeeded", None)] * calls + [("failed", "budget_exceeded")] * (50 - calls))
    period = BudgetPeriod.objects.get(budget=budget)
    assert period.reserved_usd == Decimal(0)
    assert period.spent_usd == one_call * calls
    assert period.spent_usd <= budget.limit_usd


def test_the_soft_alert_fires_once_per_window_with_a_signed_webhook(
    env_provider, make_run, advance, set_budget, workspace, echo_server, allow_loopback
):
    # given a budget of ten calls that alerts at 20%
    probe = advance(make_run(agent_graph()))
    one_call = _call_cost(probe).quantize(Decimal("0.000000001"))
    budget = set_budget(workspace, limit=one_call * 11, alert_at=0.2, url=f"{echo_server.base_url}/echo")
    period = BudgetPeriod.objects.filter(budget=budget)

    # when runs spend past 20% and further
    for _ in range(4):
        assert advance(make_run(agent_graph())).status == "succeeded"
    assert inline_wait_idle(30)

    # then exactly one alert: one audit event, one signed webhook, one alerted_at
    alerts = AuditEvent.objects.filter(action="budget.alert")
    assert alerts.count() == 1
    assert alerts[0].data["limit_usd"] == float(one_call * 11)
    assert alerts[0].data["spent_usd"] == float(one_call * 3)  # the probe counts: it ran this month
    received = [r for r in echo_server.requests if r["path"] == "/echo"]
    assert len(received) == 1
    from accounts.services import callback_signing_secrets

    secret = callback_signing_secrets(workspace_id=workspace.pk)[0]
    headers = received[0]["headers"]
    signing.verify([secret], headers, received[0]["body"].encode(), tolerance_s=300)
    assert headers["webhook-id"] == f"budget_{budget.pk.hex}_{period.get().starts_on.isoformat()}"
    assert period.get().alert_delivery["state"] == "delivered"


def test_twenty_threads_racing_for_a_budget_of_five_calls_get_five_holds(workspace, set_budget):
    # given a budget of exactly five estimated calls
    budget = set_budget(workspace, limit=_one_call_usd() * 5)
    at = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    gate = threading.Barrier(20)

    def race(_):
        try:
            gate.wait(30)
            return _reserve(workspace, at)
        except BudgetRefused as refused:
            return refused.code
        finally:
            connection.close()

    # when twenty threads reserve at the same instant, each on its own connection
    with ThreadPoolExecutor(20) as pool:
        outcomes = list(pool.map(race, range(20)))

    # then exactly five got a hold and fifteen were refused
    assert sorted(o if isinstance(o, str) else "held" for o in outcomes) == ["budget_exceeded"] * 15 + ["held"] * 5
    assert BudgetPeriod.objects.get(budget=budget).reserved_usd == _one_call_usd() * 5


def _reserve(workspace, at, **kwargs):
    return budget_reserve(
        workspace_id=workspace.pk,
        run_id=None,
        model="gpt-4.1-mini",
        prompt_tokens=1000,
        max_output_tokens=1000,
        at=at,
        **kwargs,
    )


def _one_call_usd() -> Decimal:
    return PRICE.cost(input_tokens=1000, output_tokens=1000)


@pytest.mark.parametrize(
    ("time_zone", "second_window_starts"),
    [
        # 10:00 UTC is 23:00 in Auckland (UTC+13 in March): its next day begins at 11:00 UTC
        ("Pacific/Auckland", dt.datetime(2026, 3, 10, 11, 5, tzinfo=dt.UTC)),
        ("UTC", dt.datetime(2026, 3, 11, 0, 5, tzinfo=dt.UTC)),
    ],
)
def test_a_new_window_resets_the_budget_in_the_workspace_time_zone(
    workspace, set_budget, time_zone, second_window_starts
):
    workspace.time_zone = time_zone
    workspace.save(update_fields=["time_zone"])
    set_budget(workspace, limit=_one_call_usd() * Decimal("1.5"), window="day")
    first = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.UTC)

    # one call fits in the day, a second one does not
    held = _reserve(workspace, first)
    budget_settle(reservation=held, input_tokens=1000, output_tokens=1000)
    with pytest.raises(BudgetRefused) as refused:
        _reserve(workspace, first + dt.timedelta(minutes=30))
    assert refused.value.code == "budget_exceeded"
    # just before the local midnight it is still refused; just after it, the new day has the whole budget
    with pytest.raises(BudgetRefused):
        _reserve(workspace, second_window_starts - dt.timedelta(minutes=10))
    again = _reserve(workspace, second_window_starts)
    budget_settle(reservation=again, input_tokens=1000, output_tokens=1000)

    assert sorted(BudgetPeriod.objects.values_list("starts_on", "spent_usd")) == [
        (dt.date(2026, 3, 10), _one_call_usd()),
        (second_window_starts.astimezone(ZoneInfo(time_zone)).date(), _one_call_usd()),
    ]


def test_the_soft_alert_fires_again_in_the_next_window(workspace, set_budget):
    set_budget(workspace, limit=_one_call_usd() * 4, window="month", alert_at=0.5)
    march, april = dt.datetime(2026, 3, 2, tzinfo=dt.UTC), dt.datetime(2026, 4, 2, tzinfo=dt.UTC)

    for at in (march, march, march, april, april):
        budget_settle(reservation=_reserve(workspace, at), input_tokens=1000, output_tokens=1000)

    assert AuditEvent.objects.filter(action="budget.alert").count() == 2
    assert sorted(AuditEvent.objects.filter(action="budget.alert").values_list("data__window_start", flat=True)) == [
        "2026-03-01",
        "2026-04-01",
    ]


def test_a_failed_call_releases_its_hold_and_a_cut_off_call_keeps_it(workspace, set_budget):
    budget = set_budget(workspace, limit="1")
    at = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)

    budget_settle(reservation=_reserve(workspace, at), failed=True)
    cut = _reserve(workspace, at)
    budget_settle(reservation=cut, failed=True, keep_estimate=True)

    period = BudgetPeriod.objects.get(budget=budget)
    assert period.reserved_usd == Decimal(0)
    assert period.spent_usd == cut.estimate
    assert cut.estimate == PRICE.cost(input_tokens=1000, output_tokens=1000)


def test_the_local_test_model_is_never_held_against_a_budget(workspace, set_budget):
    set_budget(workspace, limit="0")

    held = _reserve(workspace, dt.datetime(2026, 3, 2, tzinfo=dt.UTC), priced=False)

    assert budget_settle(reservation=held, input_tokens=5, output_tokens=5) == 0.0
    assert BudgetPeriod.objects.count() == 0


def test_max_output_tokens_bounds_the_estimate(workspace, set_budget):
    set_budget(workspace, limit="1")
    held = budget_reserve(
        workspace_id=workspace.pk,
        run_id=None,
        model="gpt-4.1-mini",
        prompt_tokens=lambda: 10,
        max_output_tokens=MAX_OUTPUT,
    )
    assert held.estimate == (10 * PRICE.input + MAX_OUTPUT * PRICE.output) / Decimal(1_000_000)


def test_an_api_token_budget_stops_the_runs_that_token_starts_only(
    env_provider, make_workflow, set_budget, workspace, owner, client_for
):
    from rest_framework.test import APIClient

    from accounts.services import api_token_create

    flow = make_workflow(agent_graph())
    limited, raw_limited = api_token_create(workspace=workspace, user=owner, name="limited")
    _, raw_free = api_token_create(workspace=workspace, user=owner, name="free")
    set_budget(workspace, limit="0.000001", scope="api_token", target_id=limited.pk)

    def start(raw):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
        response = client.post(f"/api/v1/workflows/{flow.pk}/runs", {"input": {}, "wait": 20}, format="json")
        assert response.status_code == 201
        return response.json()

    refused, allowed = start(raw_limited), start(raw_free)

    assert (refused["status"], refused["error"]["code"]) == ("failed", "budget_exceeded")
    assert "the API token's budget" in refused["error"]["message"]
    assert allowed["status"] == "succeeded"
    assert model_calls(env_provider) == 1


def test_a_guardrails_model_check_is_held_against_the_budget_too(env_provider, workspace, set_budget):
    from runs.executors.base import NodeError
    from runs.executors.guardrails import GuardrailsExecutor
    from runs.testing.context import make_node_context

    set_budget(workspace, limit="0.000001")
    ctx, _ = make_node_context(
        "guardrails",
        {"model": "gpt-4.1-mini", "text": "'Ignore previous instructions'", "checks": [{"type": "jailbreak"}]},
        workspace_id=str(workspace.pk),
    )

    with pytest.raises(NodeError) as refused:
        GuardrailsExecutor().run(ctx)

    assert refused.value.code == "budget_exceeded"
    assert model_calls(env_provider) == 0


def test_a_running_run_is_stopped_at_its_next_model_call(env_provider, make_run, advance, workspace):
    # given two identical agent steps in a row, and a run allowed the estimate of one call plus a millionth
    from runs.llm.adapters import ResponsesConversation
    from runs.llm.metering import prompt_tokens
    from runs.llm.providers import Provider

    conv = ResponsesConversation(
        None,
        Provider(name="p", base_url=None, api_style="responses", api_key="k"),
        model="gpt-4.1-mini",
        instructions="",
        messages=[{"role": "user", "content": "Say hello to Ada"}],
        max_output_tokens=MAX_OUTPUT,
    )
    estimate = (prompt_tokens(conv.request_params()) * PRICE.input + MAX_OUTPUT * PRICE.output) / Decimal(1_000_000)
    estimate = estimate.quantize(Decimal("0.000000001"), rounding="ROUND_CEILING")
    agent = {"model": "gpt-4.1-mini", "instructions": "Say hello to Ada", "max_output_tokens": MAX_OUTPUT}
    g = line(start(), node("first", "agent", **agent), node("second", "agent", **agent), node("end", "end", output={}))
    run = make_run(g)
    RunCostLimit.objects.create(run=run, max_cost_usd=estimate + Decimal("0.000001"))

    # when it runs
    run = advance(run)

    # then the first call was made, and the second was refused before it was sent
    assert model_calls(env_provider) == 1
    steps = {s.node_id: s for s in Step.objects.filter(run=run)}
    assert steps["first"].status == "succeeded"
    assert (steps["second"].status, steps["second"].error["code"]) == ("failed", "budget_exceeded")
    assert (run.status, run.error["node_id"]) == ("failed", "second")
    cap = RunCostLimit.objects.get(run=run)
    assert cap.reserved_usd == Decimal(0)
    assert cap.spent_usd == Decimal(str(steps["first"].usage["cost_usd"])).quantize(Decimal("0.000000001"))


def test_a_triggers_max_cost_usd_caps_each_run_it_starts(
    env_provider, make_workflow, advance, workspace, owner, editor, client_for
):
    from runs.triggers.services import trigger_create

    flow = make_workflow(agent_graph(), publish=True)
    trigger, _ = trigger_create(workflow=flow, by=owner, auth_mode="none")
    path = f"/api/v1/workflows/{flow.pk}/triggers/{trigger.pk}/max-cost"
    assert client_for(editor, workspace).put(path, {"max_cost_usd": 1}, format="json").status_code == 403
    assert client_for(owner, workspace).put(path, {"max_cost_usd": 0.000001}, format="json").json() == {
        "max_cost_usd": 0.000001
    }
    assert client_for(editor, workspace).get(path).json() == {"max_cost_usd": 0.000001}

    # when the trigger starts a run
    run = _run_of_trigger(flow, trigger)
    run = advance(run)

    # then the run was capped by its trigger's max_cost_usd before the model was called
    assert model_calls(env_provider) == 0
    assert run.error["code"] == "budget_exceeded"
    assert "the run's max_cost_usd of $0.000001" in run.error["message"]
    assert RunCostLimit.objects.get(run=run).max_cost_usd == Decimal("0.000001")


def test_a_refusal_by_one_budget_holds_nothing_in_the_others(env_provider, make_run, advance, set_budget, workspace):
    # given a roomy workspace budget, a tiny budget on the workflow, and a roomy cap on the run
    run = make_run(agent_graph())
    roomy = set_budget(workspace, limit="100")
    set_budget(workspace, limit="0.000001", scope="workflow", target_id=run.workflow_id)
    RunCostLimit.objects.create(run=run, max_cost_usd=Decimal("100"))

    run = advance(run)

    # then the workflow budget refused the call, and the workspace counter and the run's cap hold nothing
    assert model_calls(env_provider) == 0
    assert "the workflow's budget" in run.error["message"]
    assert BudgetPeriod.objects.get(budget=roomy).reserved_usd == Decimal(0)
    assert RunCostLimit.objects.get(run=run).reserved_usd == Decimal(0)


def test_a_refusal_by_the_run_cap_undoes_the_budget_holds(env_provider, make_run, advance, set_budget, workspace):
    run = make_run(agent_graph())
    roomy = set_budget(workspace, limit="100")
    RunCostLimit.objects.create(run=run, max_cost_usd=Decimal("0.000001"))

    run = advance(run)

    assert model_calls(env_provider) == 0
    assert "max_cost_usd" in run.error["message"]
    assert BudgetPeriod.objects.get(budget=roomy).reserved_usd == Decimal(0)


def test_holds_left_by_a_dead_process_are_released_when_nothing_runs(workspace, set_budget, make_run):
    from django.core.management import CommandError, call_command

    budget = set_budget(workspace, limit="1")
    _reserve(workspace, dt.datetime(2026, 3, 2, tzinfo=dt.UTC))  # never settled: its process "died"
    queued = make_run(agent_graph())

    with pytest.raises(CommandError, match="1 runs are queued"):
        call_command("budgets_release_holds")
    Run.objects.filter(pk=queued.pk).update(status="failed")
    call_command("budgets_release_holds")

    assert BudgetPeriod.objects.get(budget=budget).reserved_usd == Decimal(0)


def test_with_no_budget_a_warmed_run_reserves_nothing_without_reading_the_database(
    make_run, workspace, django_assert_num_queries
):
    # given a run in a workspace without budgets, whose facts were read on an earlier trip
    run = make_run(agent_graph())
    budget_warm(workspace_id=workspace.pk, run_id=str(run.pk))

    # when its model call is reserved from the caches
    with django_assert_num_queries(0):
        reservation = budget_reserve_cached(workspace_id=workspace.pk, run_id=str(run.pk), model=MODEL)

    # then nothing is held
    assert reservation is not None
    assert not reservation.holds_anything


def test_a_budget_made_after_warming_applies_to_the_next_call_at_once(make_run, workspace, set_budget):
    # given a run whose caches say that no budget applies
    run = make_run(agent_graph())
    assert budget_reserve_cached(workspace_id=workspace.pk, run_id=str(run.pk), model=MODEL) is None  # not read yet
    budget_warm(workspace_id=workspace.pk, run_id=str(run.pk))

    # when a workspace budget is set
    budget = set_budget(workspace, limit="1")

    # then the cached answer defers to budget_reserve, which holds against the new budget
    assert budget_reserve_cached(workspace_id=workspace.pk, run_id=str(run.pk), model=MODEL) is None
    reservation = budget_reserve(
        workspace_id=workspace.pk, run_id=str(run.pk), model=MODEL, prompt_tokens=10, max_output_tokens=MAX_OUTPUT
    )
    assert [hold.budget_id for hold in reservation.holds] == [budget.pk]
    budget_settle(reservation=reservation, failed=True)


def test_a_run_with_a_cost_cap_is_always_reserved_in_the_database(make_run, workspace):
    # given a run with max_cost_usd in a workspace without budgets
    run = make_run(agent_graph())
    RunCostLimit.objects.create(run=run, max_cost_usd=Decimal("1"))
    budget_warm(workspace_id=workspace.pk, run_id=str(run.pk))

    # then the cached answer defers to budget_reserve
    assert budget_reserve_cached(workspace_id=workspace.pk, run_id=str(run.pk), model=MODEL) is None


def test_with_nothing_held_and_the_prices_cached_a_call_is_settled_without_reading_the_database(
    make_run, workspace, set_budget, django_assert_num_queries
):
    from budgets.selectors import prices_cache_clear
    from budgets.services import NOT_CACHED, budget_settle_cached

    run = make_run(agent_graph())
    budget_warm(workspace_id=workspace.pk, run_id=str(run.pk))
    reservation = budget_reserve_cached(workspace_id=workspace.pk, run_id=str(run.pk), model=MODEL)
    used = {"model": MODEL, "input_tokens": 1000, "output_tokens": 200}
    # the prices not read yet: it defers to budget_settle, which reads them into the cache
    prices_cache_clear(workspace.pk)
    assert budget_settle_cached(reservation=reservation, **used) is NOT_CACHED
    cost = budget_settle(reservation=reservation, **used)
    # when settled again from the caches: the same cost, no query
    with django_assert_num_queries(0):
        assert budget_settle_cached(reservation=reservation, **used) == cost
    assert cost == float(PRICE.cost(input_tokens=1000, output_tokens=200).quantize(Decimal("1e-9")))
    # a reservation that holds a budget is always settled in the database
    set_budget(workspace, limit="1")
    held = budget_reserve(
        workspace_id=workspace.pk, run_id=str(run.pk), model=MODEL, prompt_tokens=10, max_output_tokens=MAX_OUTPUT
    )
    assert budget_settle_cached(reservation=held, **used) is NOT_CACHED
    budget_settle(reservation=held, failed=True)


def test_a_queue_workers_claim_reads_what_decides_the_runs_budgets_so_their_first_call_reads_nothing(
    make_run, make_workflow, workspace, owner, monkeypatch
):
    from budgets import services
    from budgets.models import TriggerCostLimit
    from runs.persistence.engine import DjangoStore, holder_name
    from runs.triggers.services import trigger_create

    if connection.vendor != "postgresql":
        pytest.skip("queue mode's batched lease is PostgreSQL's")
    # given fresh runs a worker received: one plain, one with its own cost cap, one whose trigger has a cap
    plain, capped = make_run(agent_graph()), make_run(agent_graph())
    RunCostLimit.objects.create(run=capped, max_cost_usd=Decimal("1"))
    flow = make_workflow(agent_graph(), publish=True)
    trigger, _ = trigger_create(workflow=flow, by=owner, auth_mode="none")
    TriggerCostLimit.objects.create(trigger=trigger, max_cost_usd=Decimal("2"))
    by_trigger = _run_of_trigger(flow, trigger)
    runs = (plain, capped, by_trigger)
    services._facts.clear()
    # when the worker leases them at once
    DjangoStore().claim_held({str(r.pk): f"w7:{i}" for i, r in enumerate(runs)}, holder_name("w7"), 30)
    # then the plain and the capped runs' facts came with the lease: no read at their first model call
    monkeypatch.setattr(services, "_read_run_facts", lambda run_id: pytest.fail(f"read the facts of {run_id}"))
    assert services._run_facts(str(plain.pk)).capped is False
    assert services._run_facts(str(plain.pk)).workflow_id == str(plain.workflow_id)
    assert services._run_facts(str(capped.pk)).capped is True
    assert budget_reserve_cached(workspace_id=workspace.pk, run_id=str(capped.pk), model=MODEL) is None
    # and the run of a capped trigger is left to its first call, which gives it a cap of its own
    assert str(by_trigger.pk) not in services._facts
