"""Celery tasks for triggers: thin, safe to repeat (CONVENTIONS 6)."""

from celery import shared_task

from runs.triggers import callbacks, scheduler, services


@shared_task(name="triggers.schedule_tick", ignore_result=True)
def schedule_tick() -> int:
    return scheduler.schedule_tick()


@shared_task(name="triggers.delivery_purge", ignore_result=True)
def delivery_purge() -> int:
    return services.delivery_purge()


@shared_task(bind=True, name="triggers.send_callback", ignore_result=True, acks_late=True, max_retries=None)
def send_callback(self, run_id: str) -> None:
    attempt = self.request.retries + 1
    try:
        callbacks.callback_attempt(run_id=run_id, attempt=attempt)
    except callbacks.CallbackError as exc:
        delay = callbacks.backoff_for(attempt) if exc.retryable else None
        if delay is not None:
            raise self.retry(countdown=delay, exc=exc)
