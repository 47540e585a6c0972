"""Exact vector search with numpy: one float32 matrix per knowledge base, loaded from the chunks'
stored embeddings and cached in the process until the knowledge base's index revision changes.

Exact search over 100,000 × 256 float32 is one matrix-vector product (a few ms); an ANN index would
trade recall for speed that is not needed at this size."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from knowledge.index.cache import RevisionCache
from knowledge.models import Chunk


@dataclass
class _Matrix:
    revision: int
    dimensions: int
    ids: np.ndarray  # chunk ids (int64)
    files: np.ndarray  # index into file_keys per row (int32)
    file_keys: list[str]
    vectors: np.ndarray  # (rows, dimensions) float32


def _load(kb) -> _Matrix:
    width = kb.embedding_dimensions * 4
    ids, files, blobs, file_keys, file_index = [], [], [], [], {}
    rows = Chunk.objects.filter(knowledge_base_id=kb.id).values_list("id", "file_id", "embedding").iterator(2000)
    for chunk_id, file_id, blob in rows:
        blob = bytes(blob)
        if len(blob) != width:  # a chunk embedded under an earlier model, not re-indexed yet
            continue
        key = str(file_id)
        if key not in file_index:
            file_index[key] = len(file_keys)
            file_keys.append(key)
        ids.append(chunk_id)
        files.append(file_index[key])
        blobs.append(blob)
    vectors = (
        np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), kb.embedding_dimensions)
        if blobs
        else np.zeros((0, kb.embedding_dimensions), dtype=np.float32)
    )
    return _Matrix(
        kb.revision, kb.embedding_dimensions, np.asarray(ids, np.int64), np.asarray(files, np.int32), file_keys, vectors
    )


SYNC_LOAD_MAX_CHUNKS = 20_000
# A matrix of another embedding width (the model changed) cannot answer: it is as good as none.
_cache = RevisionCache("trellis-vectors-load", fits=lambda m, kb: m.dimensions == kb.embedding_dimensions)


def matrix(kb) -> _Matrix:
    current, stale = _cache.lookup(kb)
    if current is not None:
        return current
    if stale is not None and kb.chunk_count > SYNC_LOAD_MAX_CHUNKS:
        # A large matrix loads in the background; the previous revision's answers meanwhile (chunks deleted
        # since are dropped by the caller, new ones join when the load finishes).
        _cache.build_in_background(kb, _load)
        return stale
    return _cache.store(kb, _load(kb))


def search(kb, query_vector: np.ndarray, limit: int, file_ids: list[str] | None) -> list[tuple[int, float]]:
    m = matrix(kb)
    if not len(m.ids):
        return []
    scores = m.vectors @ query_vector.astype(np.float32)
    if file_ids is not None:
        wanted = {str(f) for f in file_ids}
        allowed = np.fromiter((key in wanted for key in m.file_keys), dtype=bool, count=len(m.file_keys))
        scores = np.where(allowed[m.files], scores, -np.inf)
    limit = min(limit, len(scores))
    top = np.argpartition(-scores, limit - 1)[:limit]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(m.ids[i]), float(scores[i])) for i in top if np.isfinite(scores[i])]
