from django.apps import AppConfig


class ChatConfig(AppConfig):
    """Chat deployments of published workflows: the hosted chat page, the embed script, visitor threads."""

    name = "chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from chat.services import is_chat_run, on_run_finishing
        from runs.finishing import FinishingListener, listen_to_finishing

        listen_to_finishing(FinishingListener(heard=on_run_finishing, concerns=is_chat_run))
