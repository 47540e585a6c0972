import logging

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class TriggersConfig(AppConfig):
    """Webhook and schedule triggers, outbound callbacks and the OpenAI-compatible endpoint.
    A sub-app of runs/ so that its tables and migrations evolve independently of the engine's."""

    name = "runs.triggers"
    label = "triggers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from runs.triggers import callbacks, scheduler

        try:
            from runs.services import RUN_FINISHED_LISTENERS
        except ImportError:  # the engine is not there (yet): no callbacks
            logger.warning("runs.services.RUN_FINISHED_LISTENERS missing: outbound callbacks are off")
        else:
            if callbacks.on_run_finished not in RUN_FINISHED_LISTENERS:
                RUN_FINISHED_LISTENERS.append(callbacks.on_run_finished)
        if scheduler.should_autostart():
            scheduler.start_thread()
