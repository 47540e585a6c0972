"""Embeddings through the `openai` SDK against the knowledge base's provider, in batches.

Provider resolution is the agent node's (runs.llm.providers): the named workspace provider, else the
workspace default, else OPENAI_API_KEY, else the local test model when TRELLIS_LOCAL_TEST_MODEL is on."""

from __future__ import annotations

import hashlib
import threading
import time
from contextlib import contextmanager

import httpx
import numpy as np
import openai
from django.conf import settings

from accounts.services import secret_value
from runs.executors.base import NodeContext, NodeError
from runs.llm.adapters import openai_client, sync_openai_client
from runs.llm.providers import resolve_provider
from trellis import net


class EmbeddingFailure(Exception):
    def __init__(self, reason: str, *, retryable: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable


def provider_for(kb):
    ctx = NodeContext(
        run_id="",
        workspace_id=str(kb.workspace_id),
        node={"id": "knowledge", "type": "file_search", "config": {}},
        scope={},
        resolve_secret=lambda name: secret_value(workspace_id=kb.workspace_id, name=name),
    )
    try:
        return resolve_provider(ctx, kb.embedding_provider or None)
    except NodeError as exc:
        raise EmbeddingFailure(exc.message) from None


_query_clients: dict[tuple, tuple[float, object]] = {}
_query_lock = threading.Lock()
QUERY_CLIENT_MAX_AGE_S = 300.0
QUERY_TIMEOUT_S = 30.0


@contextmanager
def _query_client(provider):
    """A long-lived client for one-text query embeddings: a search should not pay for a new connection,
    SDK client and watchdog thread each time. Its connections obey the same SSRF policy (trellis.net); it is
    replaced every few minutes so the guard's per-connection bookkeeping stays small."""

    key = (provider.name, provider.base_url, hashlib.sha256(provider.api_key.encode()).hexdigest(), provider.guard)
    now = time.monotonic()
    with _query_lock:
        entry = _query_clients.get(key)
        if entry is None or now - entry[0] > QUERY_CLIENT_MAX_AGE_S:
            http_client = httpx.Client(
                transport=net._Transport(net._Backend(guard=provider.guard)),
                timeout=httpx.Timeout(QUERY_TIMEOUT_S),
                follow_redirects=False,
                trust_env=False,
            )
            client = openai.OpenAI(
                api_key=provider.api_key, base_url=provider.base_url, http_client=http_client, max_retries=0
            )
            entry = _query_clients[key] = (now, client)
    yield entry[1]


def embed_texts(kb, texts: list[str], provider=None, on_batch=None) -> np.ndarray:
    """(len(texts), dimensions) float32, each row L2-normalised. Pass `provider` (provider_for) to call
    this from a thread without a database connection of its own; `on_batch(done)` hears how many texts
    are embedded after each batch (ingestion progress)."""

    if not texts:
        return np.zeros((0, kb.embedding_dimensions), dtype=np.float32)
    provider = provider or provider_for(kb)
    batch = settings.KNOWLEDGE_EMBED_BATCH
    rows: list[np.ndarray] = []
    opened = (
        _query_client(provider)
        if len(texts) == 1
        else sync_openai_client(provider, timeout_s=settings.LLM_REQUEST_TIMEOUT_S, cancel_event=threading.Event())
    )
    try:
        with opened as c:
            for start in range(0, len(texts), batch):
                answer = c.embeddings.create(
                    model=kb.embedding_model,
                    input=texts[start : start + batch],
                    dimensions=kb.embedding_dimensions,
                )
                for item in sorted(answer.data, key=lambda d: d.index):
                    rows.append(np.asarray(item.embedding, dtype=np.float32))
                if on_batch is not None:
                    on_batch(len(rows))
    except Exception as exc:
        raise _failure(exc) from None
    return _normalised(kb, rows, len(texts))


async def embed_query(kb, query: str, provider) -> np.ndarray:
    """One query's embedding, L2-normalised, asked for on the caller's event loop (the file_search node, on the
    engine's I/O loop): through the kept async clients of runs/llm/adapters.py, whose connections obey the same
    SSRF guard. No thread waits for the answer."""
    try:
        async with openai_client(provider, timeout_s=QUERY_TIMEOUT_S) as client:
            answer = await client.embeddings.create(
                model=kb.embedding_model, input=[query], dimensions=kb.embedding_dimensions
            )
    except Exception as exc:
        raise _failure(exc) from None
    return _normalised(kb, [np.asarray(item.embedding, dtype=np.float32) for item in answer.data], 1)[0]


def _failure(exc: Exception) -> EmbeddingFailure:
    if isinstance(exc, EmbeddingFailure):
        return exc
    if isinstance(exc, NodeError):
        return EmbeddingFailure(f"The embedding provider failed: {exc.message}", retryable=exc.retryable)
    # The SDK's errors (status, connection) carry a readable message.
    status = getattr(exc, "status_code", None)
    retryable = status is None or status == 429 or status >= 500
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return EmbeddingFailure(f"The embedding provider failed: {message}", retryable=retryable)


def _normalised(kb, rows: list[np.ndarray], expected: int) -> np.ndarray:
    if len(rows) != expected:
        raise EmbeddingFailure(f"The embedding model returned {len(rows)} vectors for {expected} texts.")
    matrix = np.vstack(rows)
    if matrix.shape != (expected, kb.embedding_dimensions):
        raise EmbeddingFailure(
            f"The embedding model returned vectors of {matrix.shape[1]} dimensions; the knowledge base expects "
            f"{kb.embedding_dimensions}."
        )
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32)
