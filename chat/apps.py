from django.apps import AppConfig


class ChatConfig(AppConfig):
    """Chat deployments of published workflows: the hosted chat page, the embed script, visitor threads."""

    name = "chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from chat.services import on_run_finishing
        from runs.finishing import RUN_FINISHING_LISTENERS

        if on_run_finishing not in RUN_FINISHING_LISTENERS:
            RUN_FINISHING_LISTENERS.append(on_run_finishing)
