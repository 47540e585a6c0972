"""Queue mode: fifty runs executed by two real Celery worker processes against a budget that covers five
model calls. The reservations of different processes meet only in PostgreSQL, which must keep them from
overspending."""

import subprocess
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from celery import Celery

from budgets.models import BudgetPeriod
from budgets.tests.conftest import PRICE, agent_graph, model_calls
from runs.models import Run, Step
from runs.testing.worker import redis_url, start_worker, stop_workers
from runs.tests.helpers import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

REDIS_DB = 12  # a broker database of this module's own (test_worker uses 13, test_queue_mode 11)
QUEUE = f"trellis-budget-test-{uuid.uuid4().hex[:12]}"
BROKER = redis_url(REDIS_DB)


def _start_worker(name: str, model_url: str, log_path: Path) -> subprocess.Popen:
    env = {"TRELLIS_RUN_REAPER_INTERVAL_S": "0", "OPENAI_API_KEY": "test-key", "OPENAI_BASE_URL": model_url}
    return start_worker(
        name, queue=QUEUE, broker_url=BROKER, log_path=log_path, concurrency=3, loglevel="WARNING", env=env
    )


def test_fifty_runs_on_two_worker_processes_never_overspend_a_budget_of_five_calls(
    model_server, make_workflow, make_workspace, make_run, set_budget, workspace, tmp_path, settings
):
    # given the cost of one call of this workflow (measured in-process, in a workspace without a budget)
    from runs.engine.core import Engine, Limits
    from runs.persistence.engine import DjangoStore

    probe_ws = make_workspace()
    probe_flow = make_workflow(agent_graph())
    probe_flow.workspace = probe_ws
    probe_flow.save(update_fields=["workspace"])
    probe = Run.objects.create(workspace=probe_ws, workflow=probe_flow, graph=agent_graph(), is_draft=True, input={})
    settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = "test-key", model_server.base_url
    Engine(DjangoStore(), Limits(lease_s=30, heartbeat_s=3600)).advance(str(probe.pk))
    usage = Step.objects.get(run=probe, node_id="agent").usage
    one_call = PRICE.cost(input_tokens=usage["input_tokens"], output_tokens=usage["output_tokens"])
    one_call = one_call.quantize(Decimal("0.000000001"))
    model_server.reset()
    # and a workspace budget for five of them, and fifty runs waiting in the queue
    budget = set_budget(workspace, limit=one_call * 5)
    runs = [make_run(agent_graph()) for _ in range(50)]
    workers = [_start_worker(n, model_server.base_url, tmp_path / f"{n}.log") for n in ("alpha", "beta")]
    try:
        client = Celery("trellis-budget-test", broker=BROKER)
        for run in runs:
            client.send_task("runs.run_advance", args=[str(run.pk)], queue=QUEUE)

        # when both workers have finished them all
        wait_for(
            lambda: Run.objects.filter(pk__in=[r.pk for r in runs], status__in=["succeeded", "failed"]).count() == 50,
            180,
            "the fifty runs to finish on the two workers",
        )
    finally:
        stop_workers(*workers, grace_s=20)
        redis.Redis.from_url(BROKER).delete(QUEUE)

    # then at most five calls reached the model and the budget was never overspent
    calls = model_calls(model_server)
    finished = list(Run.objects.filter(pk__in=[r.pk for r in runs]))
    logs = "".join(p.read_text()[-2000:] for p in tmp_path.glob("*.log"))
    assert 1 <= calls <= 5, logs
    assert sorted((r.status, (r.error or {}).get("code")) for r in finished) == sorted(
        [("succeeded", None)] * calls + [("failed", "budget_exceeded")] * (50 - calls)
    ), logs
    period = BudgetPeriod.objects.get(budget=budget)
    assert period.reserved_usd == Decimal(0)
    assert period.spent_usd == one_call * calls
    assert Step.objects.filter(run__in=finished, node_id="agent").count() == 50
