"""Celery tasks for triggers: thin, safe to repeat (CONVENTIONS 6)."""

from celery import shared_task

from runs.persistence import deliveries
from runs.triggers import callbacks, scheduler


@shared_task(name="triggers.schedule_tick", ignore_result=True)
def schedule_tick() -> int:
    """Beat's tick (queue mode): fire due schedules, and re-send callbacks whose wake-up message was lost."""
    fired = scheduler.schedule_tick()
    callbacks.callback_sweep()
    return fired


@shared_task(name="triggers.delivery_purge", ignore_result=True)
def delivery_purge() -> int:
    return deliveries.delivery_purge()


@shared_task(name="triggers.send_callback", ignore_result=True, acks_late=True)
def send_callback(run_id: str) -> None:
    """Send the run's due callback attempt, if any; after a failure, enqueue itself for the next one.
    The attempt number and due time live in the run's RunCallback row, so a repeated or early message sends
    nothing, and a lost one is made up for by `triggers.schedule_tick`'s sweep."""
    callbacks.callback_ensure(run_id=run_id)  # a message enqueued before the row existed (an upgrade)
    callbacks.callback_send_due(run_id=run_id, early_s=1.0, wake=_wake_task)


def _wake_task(run_id, delay_s: float) -> None:
    send_callback.apply_async(args=[str(run_id)], countdown=delay_s or None)
