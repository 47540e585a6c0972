from django.apps import AppConfig


class TriggersConfig(AppConfig):
    """Webhook and schedule triggers, outbound callbacks and the OpenAI-compatible endpoint.
    A sub-app of runs/ so that its tables and migrations evolve independently of the engine's."""

    name = "runs.triggers"
    label = "triggers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from runs.finishing import RUN_FINISHING_LISTENERS
        from runs.triggers import callbacks, scheduler

        if callbacks.on_run_finishing not in RUN_FINISHING_LISTENERS:
            RUN_FINISHING_LISTENERS.append(callbacks.on_run_finishing)
        if scheduler.should_autostart():
            scheduler.start_thread()
