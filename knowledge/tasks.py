"""Celery task for queue mode: thin and safe to repeat (files are claimed before any work)."""

from celery import shared_task

from knowledge.services import ingest_pending, ingest_resume


@shared_task(
    name="knowledge.ingest",
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    autoretry_for=(Exception,),
    retry_backoff=5,
    max_retries=5,
)
def ingest(knowledge_base_id: str) -> None:
    ingest_pending(knowledge_base_id=knowledge_base_id)


@shared_task(name="knowledge.resume", ignore_result=True)
def resume() -> None:
    """Beat: picks up files whose ingestion message was lost or whose worker died."""

    ingest_resume()
