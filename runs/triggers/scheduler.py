"""Schedule triggers: fire each due schedule exactly once, however many schedulers run.

Each fire takes the trigger's row lock (skipping rows another scheduler holds), re-checks that it is
still due, moves `next_fire_at` past now and starts the run in the same transaction; the run's
idempotency key (trigger + fire time) is a second guard. Driven by Celery beat in queue mode
(`triggers.schedule_tick`) and by an in-process thread in default mode.

The same loop sweeps for due callback attempts (`callbacks.callback_sweep`): after a restart, the stored
pending attempts are sent from here."""

import logging
import sys
import threading
import time

from django.conf import settings
from django.db import close_old_connections, transaction
from django.utils import timezone

from runs.persistence.deliveries import delivery_purge, delivery_record
from runs.services import run_start
from runs.triggers.callbacks import callback_sweep
from runs.triggers.models import DeliveryKind, Outcome, Trigger, TriggerKind
from runs.triggers.services import schedule_next_fire
from trellis.errors import ApplicationError

logger = logging.getLogger(__name__)


def _grace_s() -> float:
    # A fire later than this was missed (nothing was running), not merely picked up by the next tick.
    return max(60.0, 3 * settings.SCHEDULE_TICK_S)


def schedule_tick(*, now=None) -> int:
    """Fire every schedule that is due at `now`. Returns how many runs were started."""
    now = now or timezone.now()
    due = list(
        Trigger.objects.filter(kind=TriggerKind.SCHEDULE, enabled=True, next_fire_at__lte=now)
        .order_by("next_fire_at")
        .values_list("pk", flat=True)[:500]
    )
    return sum(_fire(pk, now) for pk in due)


def _fire(pk, now) -> int:
    with transaction.atomic():
        trigger = (
            Trigger.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("workflow")
            .filter(pk=pk, kind=TriggerKind.SCHEDULE, enabled=True, next_fire_at__lte=now)
            .first()
        )
        if trigger is None:
            return 0  # another scheduler holds it or has already fired it
        due_at = trigger.next_fire_at
        missed = (now - due_at).total_seconds() > _grace_s()
        trigger.next_fire_at = schedule_next_fire(cron=trigger.cron, tz=trigger.timezone, after=now)
        if missed and settings.SCHEDULE_MISSED == "skip":
            trigger.save(update_fields=["next_fire_at", "updated_at"])
            delivery_record(
                trigger_id=trigger.pk,
                kind=DeliveryKind.SCHEDULE,
                outcome=Outcome.SKIPPED,
                reason="missed",
                message=f"Due at {due_at.isoformat()} while no scheduler was running; skipped.",
            )
            return 0
        trigger.last_fired_at = now
        trigger.save(update_fields=["next_fire_at", "last_fired_at", "updated_at"])

        try:
            with transaction.atomic():
                run = run_start(
                    workflow=trigger.workflow,
                    version="published",
                    input=trigger.schedule_input or {},
                    trigger={
                        "type": "schedule",
                        "trigger_id": str(trigger.pk),
                        "headers": {},
                        "query": {},
                        "scheduled_at": due_at.isoformat(),
                        "caught_up": missed,
                        "callback": bool(trigger.callback_url),
                    },
                    by=None,
                    idempotency_key=f"sched:{trigger.pk.hex}:{int(due_at.timestamp())}",
                )
        except ApplicationError as exc:
            delivery_record(
                trigger_id=trigger.pk,
                kind=DeliveryKind.SCHEDULE,
                outcome=Outcome.REJECTED,
                status_code=exc.status,
                reason=exc.code,
                message=exc.message,
            )
            return 0
        delivery_record(
            trigger_id=trigger.pk,
            kind=DeliveryKind.SCHEDULE,
            outcome=Outcome.ACCEPTED,
            run_id=run.pk,
            message="Caught up a missed fire." if missed else "",
        )
        return 1


# Other apps' periodic work, called on every tick (evals: poll fine-tuning jobs). Registered in AppConfig.ready;
# in queue mode the same work is a Celery beat task of its own.
TICK_HOOKS: list = []


def run_forever(*, stop: threading.Event, tick_s: float | None = None, until: float | None = None) -> None:
    """The scheduler loop (thread or management command): fire schedules, wake senders of due callbacks, purge
    old deliveries hourly, wait."""
    tick_s = tick_s or settings.SCHEDULE_TICK_S
    last_purge = 0.0
    while not stop.is_set() and (until is None or time.monotonic() < until):
        close_old_connections()
        try:
            schedule_tick()
            callback_sweep()
            for hook in TICK_HOOKS:
                hook()
            if time.monotonic() - last_purge > 3600:
                delivery_purge()
                last_purge = time.monotonic()
        except Exception:  # a bad tick must not kill the loop; the next one retries
            logger.exception("schedule tick failed")
        finally:
            close_old_connections()
        stop.wait(tick_s)


_thread: threading.Thread | None = None
_stop = threading.Event()
_lock = threading.Lock()


def start_thread() -> bool:
    """Start the in-process scheduler once per process (default mode). Returns whether it started now."""
    global _thread
    with _lock:
        if _thread is not None and _thread.is_alive():
            return False
        _stop.clear()
        _thread = threading.Thread(target=run_forever, kwargs={"stop": _stop}, name="trellis-scheduler", daemon=True)
        _thread.start()
        return True


def stop_thread() -> None:
    _stop.set()


def should_autostart() -> bool:
    """Default mode's web server runs the scheduler; queue mode leaves it to Celery beat."""
    if settings.SCHEDULER != "auto" or settings.TRELLIS_EXECUTOR != "inline":
        return False
    program = " ".join(sys.argv[:2])
    return "uvicorn" in program or "daphne" in program or "runserver" in sys.argv
