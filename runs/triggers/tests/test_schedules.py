"""Schedule triggers: next fire times in the schedule's time zone, one run per fire however many
schedulers run, missed fires skipped or caught up once."""

import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from runs.models import Run
from runs.triggers.models import Delivery, Trigger
from runs.triggers.scheduler import schedule_tick
from runs.triggers.services import schedule_next_fire

ROOT = Path(__file__).resolve().parents[3]


def test_next_fire_time_follows_the_time_zone_across_a_dst_change():
    before_dst = datetime(2026, 3, 28, 10, 0, tzinfo=UTC)  # Paris is UTC+1 until 29 March

    first = schedule_next_fire(cron="0 9 * * *", tz="Europe/Paris", after=before_dst)
    second = schedule_next_fire(cron="0 9 * * *", tz="Europe/Paris", after=first)

    assert first == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)  # 09:00 CEST
    assert second == datetime(2026, 3, 30, 7, 0, tzinfo=UTC)


@pytest.fixture
def schedule(make_trigger):
    def make(**options):
        trigger, _ = make_trigger(kind="schedule", cron="*/5 * * * *", schedule_input={"message": "tick"}, **options)
        return trigger

    return make


@pytest.mark.django_db
def test_a_due_schedule_fires_once_and_moves_to_its_next_time(schedule):
    trigger = schedule()
    now = timezone.now()
    Trigger.objects.filter(pk=trigger.pk).update(next_fire_at=now - timedelta(seconds=2))

    fired = schedule_tick(now=now)
    again = schedule_tick(now=now)

    assert (fired, again) == (1, 0)
    run = Run.objects.get()
    assert run.input == {"message": "tick"}
    assert run.trigger["type"] == "schedule"
    assert run.trigger["trigger_id"] == str(trigger.pk)
    assert run.version_id == trigger.workflow.published_version_id
    trigger.refresh_from_db()
    assert trigger.next_fire_at > now
    assert trigger.next_fire_at.minute % 5 == 0
    assert trigger.last_fired_at == now


@pytest.mark.django_db
def test_a_disabled_schedule_does_not_fire(schedule):
    trigger = schedule(enabled=False)
    Trigger.objects.filter(pk=trigger.pk).update(next_fire_at=timezone.now() - timedelta(seconds=2))

    assert schedule_tick() == 0
    assert Run.objects.count() == 0


@pytest.mark.django_db
def test_fires_missed_while_down_are_skipped_by_default(schedule, settings):
    settings.SCHEDULE_MISSED = "skip"
    trigger = schedule()
    now = timezone.now()
    Trigger.objects.filter(pk=trigger.pk).update(next_fire_at=now - timedelta(hours=3))

    assert schedule_tick(now=now) == 0

    assert Run.objects.count() == 0
    trigger.refresh_from_db()
    assert trigger.next_fire_at > now
    assert list(Delivery.objects.values_list("outcome", "reason")) == [("skipped", "missed")]


@pytest.mark.django_db
def test_fires_missed_while_down_are_caught_up_once_when_configured(schedule, settings):
    settings.SCHEDULE_MISSED = "catch_up"
    trigger = schedule()
    now = timezone.now()
    Trigger.objects.filter(pk=trigger.pk).update(next_fire_at=now - timedelta(hours=3))  # 36 fires missed

    assert schedule_tick(now=now) == 1
    assert schedule_tick(now=now) == 0

    run = Run.objects.get()
    assert run.trigger["caught_up"] is True
    trigger.refresh_from_db()
    assert trigger.next_fire_at > now


@pytest.mark.django_db
def test_a_schedule_whose_input_fails_the_schema_is_logged_and_still_advances(make_trigger):
    trigger, _ = make_trigger(kind="schedule", cron="*/5 * * * *", schedule_input={})
    now = timezone.now()
    Trigger.objects.filter(pk=trigger.pk).update(next_fire_at=now - timedelta(seconds=1))

    assert schedule_tick(now=now) == 0

    assert Run.objects.count() == 0
    assert list(Delivery.objects.values_list("outcome", "reason")) == [("rejected", "invalid_input")]
    trigger.refresh_from_db()
    assert trigger.next_fire_at > now


def _scheduler(seconds: float) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "trellis.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "TRELLIS_EXECUTOR": "inline",
        "TRELLIS_SCHEDULER": "off",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "trellis_scheduler", "--seconds", str(seconds), "--tick", "0.05"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.django_db(transaction=True)
def test_two_scheduler_processes_fire_each_time_exactly_once(make_trigger):
    # given an every-second schedule (croniter's sixth field is seconds)
    trigger, _ = make_trigger(kind="schedule", cron="* * * * * *", schedule_input={"message": "tick"})

    # when two scheduler processes tick every 50 ms for four seconds
    first, second = _scheduler(4), _scheduler(4)
    outputs = [p.communicate(timeout=60)[0].decode() for p in (first, second)]

    # then every fire time has exactly one run
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    fired_at = list(Run.objects.filter(workflow=trigger.workflow).values_list("trigger__scheduled_at", flat=True))
    assert len(fired_at) >= 3, outputs
    assert len(fired_at) == len(set(fired_at))
    accepted = Delivery.objects.filter(trigger=trigger, outcome="accepted").count()
    assert accepted == len(fired_at)


@pytest.mark.django_db(transaction=True)
def test_the_in_process_scheduler_thread_fires_due_schedules(schedule, settings):
    from runs.triggers import scheduler

    settings.SCHEDULE_TICK_S = 0.05
    trigger = schedule()
    Trigger.objects.filter(pk=trigger.pk).update(next_fire_at=timezone.now() - timedelta(seconds=1))

    assert scheduler.start_thread() is True
    assert scheduler.start_thread() is False  # one per process
    try:
        deadline = time.monotonic() + 10
        while not Run.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.stop_thread()
        scheduler._thread.join(timeout=5)

    assert Run.objects.filter(trigger__trigger_id=str(trigger.pk)).count() == 1


def test_the_scheduler_thread_starts_only_in_a_default_mode_server(settings, monkeypatch):
    from runs.triggers import scheduler

    settings.SCHEDULER, settings.TRELLIS_EXECUTOR = "auto", "inline"
    monkeypatch.setattr(sys, "argv", ["/venv/lib/python3.11/site-packages/uvicorn/__main__.py", "trellis.asgi:app"])
    assert scheduler.should_autostart() is True
    settings.TRELLIS_EXECUTOR = "celery"  # queue mode: Celery beat fires schedules
    assert scheduler.should_autostart() is False
    settings.TRELLIS_EXECUTOR = "inline"
    monkeypatch.setattr(sys, "argv", ["manage.py", "migrate"])
    assert scheduler.should_autostart() is False
