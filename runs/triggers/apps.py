from django.apps import AppConfig


class TriggersConfig(AppConfig):
    """Webhook and schedule triggers, outbound callbacks and the OpenAI-compatible endpoint.
    A sub-app of runs/ so that its tables and migrations evolve independently of the engine's."""

    name = "runs.triggers"
    label = "triggers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from runs.finishing import FinishingListener, listen_to_finishing
        from runs.triggers import callbacks, scheduler

        listen_to_finishing(FinishingListener(heard=callbacks.on_run_finishing, concerns=callbacks.has_callback))
        if scheduler.should_autostart():
            scheduler.start_thread()
