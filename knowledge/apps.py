import sys
import threading

from django.apps import AppConfig
from django.conf import settings
from django.db import connections


class KnowledgeConfig(AppConfig):
    name = "knowledge"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Default mode: the web process is the only ingester, so files a restart left in processing are
        # queued again and every knowledge base with work left gets a job (queue mode: beat's knowledge.resume).
        if settings.TRELLIS_EXECUTOR == "inline" and "uvicorn" in sys.modules:
            timer = threading.Timer(2.0, _resume)
            timer.daemon = True
            timer.start()


def _resume() -> None:
    from knowledge.services import ingest_resume

    try:
        ingest_resume(requeue_all_processing=True)
    finally:
        connections.close_all()
