"""The periodic work of the evals app, run by Celery beat (`evals.tick`) in queue mode and by the scheduler
thread in default mode: poll fine-tuning jobs in progress, advance evals that are stuck."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from evals.models import Eval, EvalResult, EvalStatus, ResultStatus
from evals.services.evals import eval_advance
from evals.services.finetune_jobs import finetune_poll_due
from runs.models import TERMINAL_STATUSES

log = logging.getLogger("trellis.evals")
STUCK_AFTER = dt.timedelta(seconds=30)


def eval_sweep() -> int:
    """Evals with a result whose run ended a while ago and is still not graded (the process that should have
    advanced the eval died): advance them. Returns how many."""
    stale = timezone.now() - STUCK_AFTER
    ids = set(
        EvalResult.objects.filter(
            eval__status=EvalStatus.RUNNING,
            status=ResultStatus.RUNNING,
            run__status__in=list(TERMINAL_STATUSES),
            run__finished_at__lt=stale,
        ).values_list("eval_id", flat=True)[:100]
    )
    ids |= set(
        Eval.objects.filter(status=EvalStatus.RUNNING, created_at__lt=stale)
        .exclude(results__status__in=[ResultStatus.RUNNING, ResultStatus.GRADING])
        .values_list("pk", flat=True)[:100]
    )
    for eval_id in ids:
        try:
            eval_advance(eval_id=eval_id)
        except Exception:
            log.exception("eval %s: sweep failed", eval_id)
    return len(ids)


def evals_tick() -> None:
    finetune_poll_due()
    eval_sweep()
