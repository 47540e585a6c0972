"""Fine-tuning jobs on a workspace provider through the openai SDK: launch (files.create +
fine_tuning.jobs.create with the method), poll status and events (the worker's tick), cancel; a succeeded
job adds its fine-tuned model to the provider's models. "Try it in a draft" swaps that model in."""

from __future__ import annotations

import copy as copying
import logging

import openai
from django.conf import settings
from django.db import transaction

from accounts.models import ModelProvider
from accounts.providers import provider_credentials
from builder.models import Workflow
from builder.services.workflows import draft_save, workflow_create
from evals.models import FinetuneExport, FinetuneJob
from trellis import net
from trellis.errors import ApplicationError

log = logging.getLogger("trellis.evals")


def _client(provider: ModelProvider):
    """An openai client for a workspace provider, its HTTP through the SSRF guard; close `guarded` after."""

    credentials = provider_credentials(provider=provider)
    guarded = net.guarded_client(timeout_s=settings.FINETUNE_REQUEST_TIMEOUT_S, guard=True)
    http_client = guarded.__enter__()
    client = openai.OpenAI(
        api_key=credentials.api_key, base_url=credentials.base_url, http_client=http_client, max_retries=1
    )
    return client, guarded


def _provider_error(provider: ModelProvider, exc: Exception) -> ApplicationError:
    message = getattr(exc, "message", None) or str(exc)
    return ApplicationError(
        "provider_error", f"Model provider {provider.name!r} refused or failed: {message}", status=502
    )


def _method(export: FinetuneExport, hyperparameters: dict) -> dict:
    body: dict = {"hyperparameters": hyperparameters} if hyperparameters else {}
    if export.method == "reinforcement":
        body["grader"] = export.grader
    return {"type": export.method, export.method: body}


def finetune_job_create(
    *, export: FinetuneExport, provider: ModelProvider, base_model, hyperparameters=None, by=None
) -> FinetuneJob:
    if provider.workspace_id != export.workspace_id:
        raise ApplicationError(
            "validation_error", "No such provider in this workspace.", [{"field": "provider"}], status=422
        )
    if not isinstance(base_model, str) or not base_model.strip():
        raise ApplicationError(
            "validation_error", "base_model names the model to fine-tune.", [{"field": "base_model"}]
        )
    hyperparameters = hyperparameters or {}
    if not isinstance(hyperparameters, dict) or set(hyperparameters) - {
        "n_epochs",
        "batch_size",
        "learning_rate_multiplier",
        "beta",
    }:
        raise ApplicationError(
            "validation_error",
            "hyperparameters: n_epochs, batch_size, learning_rate_multiplier, beta.",
            [{"field": "hyperparameters"}],
        )
    client, guarded = _client(provider)
    try:
        uploaded = client.files.create(
            file=(f"trellis-{export.pk}.jsonl", export.content.encode()), purpose="fine-tune"
        )
        remote = client.fine_tuning.jobs.create(
            model=base_model.strip(),
            training_file=uploaded.id,
            method=_method(export, hyperparameters),
            suffix="trellis",
        )
    except ApplicationError:
        raise
    except Exception as exc:
        raise _provider_error(provider, exc) from None
    finally:
        guarded.__exit__(None, None, None)
    job = FinetuneJob.objects.create(
        workspace_id=export.workspace_id,
        export=export,
        provider=provider,
        base_model=base_model.strip(),
        hyperparameters=hyperparameters,
        remote_id=remote.id,
        file_id=uploaded.id,
        status=remote.status,
        created_by=by if getattr(by, "is_authenticated", False) else None,
    )
    return job


def _apply(job: FinetuneJob, remote, events: list[dict] | None) -> FinetuneJob:
    with transaction.atomic():
        locked = FinetuneJob.objects.select_for_update().get(pk=job.pk)
        locked.status = remote.status
        locked.fine_tuned_model = remote.fine_tuned_model or ""
        error = getattr(remote, "error", None)
        if error is not None and getattr(error, "message", None):
            locked.error = {"code": error.code, "message": error.message}
        if events is not None:
            locked.events = events
        locked.save()
        if locked.status == "succeeded" and locked.fine_tuned_model:
            provider = ModelProvider.objects.select_for_update().get(pk=locked.provider_id)
            if locked.fine_tuned_model not in provider.models:
                provider.models = [*provider.models, locked.fine_tuned_model]
                provider.save(update_fields=["models"])
    return locked


def finetune_job_poll(*, job: FinetuneJob) -> FinetuneJob:
    """Fetch the job's status and events from the provider (a no-op once it is terminal)."""
    if job.is_terminal:
        return job
    client, guarded = _client(job.provider)
    try:
        remote = client.fine_tuning.jobs.retrieve(job.remote_id)
        page = client.fine_tuning.jobs.list_events(job.remote_id, limit=100)
        events = [
            {"created_at": e.created_at, "level": e.level, "message": e.message} for e in reversed(list(page.data))
        ]
    except Exception as exc:
        raise _provider_error(job.provider, exc) from None
    finally:
        guarded.__exit__(None, None, None)
    return _apply(job, remote, events)


def finetune_job_cancel(*, job: FinetuneJob) -> FinetuneJob:
    if job.is_terminal:
        raise ApplicationError("job_finished", f"This job has already {job.status}.", status=409)
    client, guarded = _client(job.provider)
    try:
        remote = client.fine_tuning.jobs.cancel(job.remote_id)
    except Exception as exc:
        raise _provider_error(job.provider, exc) from None
    finally:
        guarded.__exit__(None, None, None)
    return _apply(job, remote, None)


def finetune_poll_due() -> int:
    """The worker's tick: poll every job still in progress. Returns how many were polled."""
    polled = 0
    for job in FinetuneJob.objects.select_related("provider").exclude(status__in=["succeeded", "failed", "cancelled"])[
        :100
    ]:
        try:
            finetune_job_poll(job=job)
            polled += 1
        except Exception:
            log.exception("fine-tuning job %s: poll failed", job.pk)
    return polled


def finetune_try_in_draft(
    *, workflow: Workflow, node_id: str, model: str, provider: ModelProvider, copy: bool = False, by=None
) -> Workflow:
    """'Try it in a draft': the draft with the fine-tuned model on that agent node, ready for an eval against
    the published version. `copy` puts it in a duplicate of the workflow instead, leaving this draft alone."""

    if not isinstance(model, str) or not model.strip():
        raise ApplicationError("validation_error", "model names the model to try.", [{"field": "model"}])
    graph = copying.deepcopy(workflow.draft_graph)
    node = next((n for n in graph.get("nodes", []) if n.get("id") == node_id and n.get("type") == "agent"), None)
    if node is None:
        raise ApplicationError("validation_error", f"The draft has no agent node {node_id!r}.", [{"field": "node_id"}])
    node.setdefault("config", {})["model"] = model.strip()
    node["config"]["provider"] = provider.name
    if copy:
        return workflow_create(
            workspace=workflow.workspace, name=f"{workflow.name} ({model})"[:200], graph=graph, by=by
        )
    return draft_save(workflow=workflow, by=by, graph=graph, revision=workflow.draft_revision)
