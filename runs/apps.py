import sys

from django.apps import AppConfig
from django.conf import settings


class RunsConfig(AppConfig):
    name = "runs"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import runs.executors  # noqa: F401 - registers every node type
        from runs.redaction import install_log_filter

        install_log_filter()
        # Default mode: the web process is also the executor, so it reaps runs a restart left behind.
        if settings.TRELLIS_EXECUTOR == "inline" and "uvicorn" in sys.modules:
            from runs.dispatch import ensure_inline_reaper

            ensure_inline_reaper()
