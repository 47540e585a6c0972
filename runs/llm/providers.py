"""Which OpenAI-compatible endpoint an LLM node talks to, and with which key.

Order: the node's `provider` (by name, in the run's workspace) → the workspace's default provider →
the environment default (OPENAI_API_KEY / OPENAI_BASE_URL, Responses API)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models.signals import post_delete, post_save

from accounts.models import ModelProvider
from accounts.providers import HOW_TO_ADD_KEY, provider_credentials
from runs.executors.base import NodeContext, NodeError
from runs.persistence import sql
from trellis.errors import ApplicationError

RESPONSES = "responses"
CHAT_COMPLETIONS = "chat_completions"
ENVIRONMENT_PROVIDER = "environment"
LOCAL_TEST_PROVIDER = "local test model"


@dataclass(frozen=True)
class Provider:
    name: str
    base_url: str | None  # None: OpenAI's own endpoint
    api_style: str
    api_key: str = field(repr=False)
    models: tuple[str, ...] = ()
    # Workspace providers are user-configured URLs, so they pass the SSRF guard; the environment default
    # is set by the operator and may point anywhere (e.g. a model server on the same host).
    guard: bool = True
    priced: bool = True  # the local test model costs nothing

    def default_model(self, fallback: str = "gpt-4.1-mini") -> str:
        return self.models[0] if self.models else fallback


def resolve_provider(ctx: NodeContext, name: str | None = None) -> Provider:
    """The provider for this node (raises NodeError when it is unknown or has no API key)."""
    name = (name or "").strip() or None
    row = _workspace_provider(ctx.workspace_id, name)
    if row is None and name and name != ENVIRONMENT_PROVIDER:
        raise NodeError(
            f"No model provider named {name!r} in this workspace. Add it in Settings → Model providers "
            "or pick another provider on the node.",
            code="provider_not_found",
        )
    if row is None:
        if not settings.OPENAI_API_KEY and settings.LOCAL_TEST_MODEL:
            return _local_test_provider()
        if not settings.OPENAI_API_KEY:
            raise NodeError(f"The default model provider has no API key. {HOW_TO_ADD_KEY}", code="provider_missing_key")
        return Provider(
            name=ENVIRONMENT_PROVIDER,
            base_url=settings.OPENAI_BASE_URL or None,
            api_style=RESPONSES,
            api_key=settings.OPENAI_API_KEY,
            guard=False,
        )
    try:
        credentials = provider_credentials(provider=row, read_secret=ctx.resolve_secret)
    except ApplicationError as exc:
        raise NodeError(exc.message, code=exc.code) from None
    return Provider(
        name=row.name,
        base_url=credentials.base_url,
        api_style=credentials.api_style,
        api_key=credentials.api_key,
        models=tuple(str(m) for m in (row.models or [])),
        guard=True,
    )


_local_server = None
_local_lock = threading.Lock()


def _local_test_provider() -> Provider:
    """The deterministic local model server, started once per process on first use (TRELLIS_LOCAL_TEST_MODEL)."""
    global _local_server
    with _local_lock:
        if _local_server is None:
            from runs.testing.model_server import ModelServer

            _local_server = ModelServer().start()
            # Stream word by word at a reading pace, as a real model does: the editor shows the answer being
            # written, and a browser that subscribes a moment after the run starts still sees it stream.
            _local_server.httpd.word_delay_s = settings.LOCAL_TEST_MODEL_WORD_DELAY_S
    return Provider(
        name=LOCAL_TEST_PROVIDER,
        base_url=_local_server.base_url,
        api_style=RESPONSES,
        api_key="local-test-model",
        guard=False,
        priced=False,
    )


# The provider rows read (by workspace and name, None for the default), per process for PROVIDER_CACHE_S: they
# are read at every agent and guardrails step, and a database round trip per model call was one of the few a run
# makes. Saving or deleting a provider clears its workspace's rows in this process, at once and again once
# committed; other processes see the change within PROVIDER_CACHE_S. Only the row is kept: the key is still read
# through the step's `resolve_secret`, which also masks it in the run's trace.
_rows: dict[tuple[str, str | None], tuple[float, ModelProvider | None]] = {}
_ROWS_KEPT = 10_000


def provider_cache_clear(workspace_id=None) -> None:
    if workspace_id is None:
        _rows.clear()
        return
    for key in [k for k in list(_rows) if k[0] == str(workspace_id)]:
        _rows.pop(key, None)


def _provider_changed(sender, instance: ModelProvider, **kwargs) -> None:
    provider_cache_clear(instance.workspace_id)
    transaction.on_commit(lambda: provider_cache_clear(instance.workspace_id))


post_save.connect(_provider_changed, sender=ModelProvider, dispatch_uid="trellis-provider-cache-save")
post_delete.connect(_provider_changed, sender=ModelProvider, dispatch_uid="trellis-provider-cache-delete")


def _workspace_provider(workspace_id: str, name: str | None) -> ModelProvider | None:
    """The workspace's provider named `name`, or its default one (each is unique in a workspace)."""
    if not workspace_id:
        return None
    key = (str(workspace_id), name)
    now = time.monotonic()
    cached = _rows.get(key)
    if cached is not None and cached[0] > now:
        return cached[1]
    row = _read_provider(workspace_id, name)
    if len(_rows) >= _ROWS_KEPT:
        _rows.clear()  # a crude bound: a miss costs one read
    _rows[key] = (now + settings.PROVIDER_CACHE_S, row)
    return row


def _read_provider(workspace_id: str, name: str | None) -> ModelProvider | None:
    # Hand-written: building the ORM's query cost more than running it.
    meta = ModelProvider._meta
    key = meta.get_field("name" if name else "is_default")
    params = [sql.prep(meta.get_field("workspace"), workspace_id), name if name else True]
    row = sql.fetch_one(_provider_statement(connection.vendor, key.column), params)
    return None if row is None else sql.from_row(ModelProvider, row)


@lru_cache(maxsize=4)
def _provider_statement(vendor: str, key_column: str) -> str:
    quote = connection.ops.quote_name
    meta = ModelProvider._meta
    return (
        f"SELECT {sql.columns(ModelProvider, tuple(meta.concrete_fields))} FROM {sql.table(ModelProvider)} "
        f"WHERE {quote(meta.get_field('workspace').column)} = %s AND {quote(key_column)} = %s"
    )
