"""Run the schedule loop in the foreground (deployments without Celery beat; tests of several schedulers)."""

import threading
import time

from django.core.management.base import BaseCommand

from runs.triggers.scheduler import run_forever, schedule_tick


class Command(BaseCommand):
    help = "Fire due schedule triggers; safe to run in several processes at once."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="one tick, then exit")
        parser.add_argument("--seconds", type=float, default=None, help="stop after this long")
        parser.add_argument("--tick", type=float, default=None, help="seconds between ticks")

    def handle(self, *args, once=False, seconds=None, tick=None, **options):
        if once:
            self.stdout.write(f"fired {schedule_tick()}")
            return
        until = time.monotonic() + seconds if seconds else None
        run_forever(stop=threading.Event(), tick_s=tick, until=until)
