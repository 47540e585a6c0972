"""Release the holds of model calls that never settled (their process died mid-call), when nothing runs.

A hold is released by the call that made it. If that process was killed between the reservation and the
settle, the estimate stays held until the window ends: the budget errs on the safe side, never spending more,
but it looks fuller than it is. With no run queued, running or waiting, no call can be in flight, so every
hold left is such a leftover."""

from django.core.management.base import BaseCommand, CommandError

from budgets.models import BudgetPeriod, RunCostLimit
from runs.models import Run


class Command(BaseCommand):
    help = "Set the reserved amount of every budget window to 0 when no run is queued, running or waiting."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="release even while runs are active")

    def handle(self, *args, force: bool = False, **options):
        active = Run.objects.filter(status__in=["queued", "running", "waiting"]).count()
        if active and not force:
            raise CommandError(f"{active} runs are queued, running or waiting: their calls may hold amounts now.")
        periods = BudgetPeriod.objects.exclude(reserved_usd=0).update(reserved_usd=0)
        caps = RunCostLimit.objects.exclude(reserved_usd=0).update(reserved_usd=0)
        self.stdout.write(f"released the holds of {periods} budget windows and {caps} run caps")
