"""Celery tasks of the evals app: thin, safe to repeat (CONVENTIONS 6)."""

from celery import shared_task

from evals.services.ticks import evals_tick


@shared_task(name="evals.tick", ignore_result=True)
def tick() -> None:
    """Beat's tick (queue mode): poll fine-tuning jobs, pick up evals whose run-finishing listener was lost."""
    evals_tick()
