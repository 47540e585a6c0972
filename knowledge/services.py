"""Writes for knowledge bases: create/change/delete, uploads, and the ingestion job
(parse → chunk → embed in batches → index). A file becomes `ready` in the same transaction that stores
and indexes its chunks, so no half-indexed file is ever marked ready; a job that dies leaves its files
in `processing`, and the next job puts them back in the queue once their claim is older than the lease."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
from contextlib import nullcontext

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from accounts.models import User, Workspace
from knowledge import index, jobs, progress
from knowledge.chunking import chunk_sections
from knowledge.embedding import EmbeddingFailure, embed_texts
from knowledge.index import pgvector, vectors
from knowledge.models import Chunk, FileStatus, KnowledgeBase, KnowledgeFile
from knowledge.parsing import SUPPORTED, ParseFailure, kind_for, parse
from trellis.errors import ApplicationError

log = logging.getLogger("trellis.knowledge")

NAME_RE = re.compile(r"^[^\x00-\x1f/\\]{1,255}$")


def storage():
    return storages["knowledge"]


def knowledge_base_create(
    *,
    workspace: Workspace,
    name: str,
    description: str = "",
    embedding: dict | None = None,
    by: User | None = None,
) -> KnowledgeBase:
    embedding = embedding or {}
    name = name.strip()
    if KnowledgeBase.objects.filter(workspace=workspace, name=name).exists():
        raise ApplicationError("conflict", f"A knowledge base named {name!r} already exists.", status=409)
    try:
        with transaction.atomic():
            return KnowledgeBase.objects.create(
                workspace=workspace,
                name=name,
                description=description,
                embedding_provider=embedding.get("provider") or "",
                embedding_model=embedding.get("model") or settings.KNOWLEDGE_EMBEDDING_MODEL,
                embedding_dimensions=embedding.get("dimensions") or settings.KNOWLEDGE_EMBEDDING_DIMENSIONS,
            )
    except IntegrityError:
        raise ApplicationError("conflict", f"A knowledge base named {name!r} already exists.", status=409) from None


def knowledge_base_update(
    *, knowledge_base: KnowledgeBase, name: str | None = None, description: str | None = None, embedding: dict | None
) -> KnowledgeBase:
    """A changed embedding configuration re-indexes every file (each keeps its old chunks until its new
    ones are stored, so search keeps answering meanwhile)."""
    kb = knowledge_base
    with transaction.atomic():
        kb = KnowledgeBase.objects.select_for_update(no_key=True).get(pk=kb.pk)
        if name is not None and name.strip() != kb.name:
            if KnowledgeBase.objects.filter(workspace_id=kb.workspace_id, name=name.strip()).exists():
                raise ApplicationError("conflict", f"A knowledge base named {name!r} already exists.", status=409)
            kb.name = name.strip()
        if description is not None:
            kb.description = description
        reindex = False
        if embedding:
            for key, attr in (("provider", "embedding_provider"), ("model", "embedding_model")):
                if key in embedding and (embedding[key] or "") != getattr(kb, attr):
                    setattr(kb, attr, embedding[key] or "")
                    reindex = True
            if embedding.get("dimensions") and embedding["dimensions"] != kb.embedding_dimensions:
                kb.embedding_dimensions = embedding["dimensions"]
                reindex = True
        if reindex:
            kb.revision += 1
        kb.save()
        if reindex:
            requeued = KnowledgeFile.objects.filter(knowledge_base=kb).exclude(status=FileStatus.FAILED)
            progress.publish_files(kb.id, list(requeued.only("id", "name")), FileStatus.QUEUED, progress=0.0)
            requeued.update(status=FileStatus.QUEUED, claimed_at=None, updated_at=timezone.now())
            jobs.dispatch_ingest_on_commit(kb.id)
    return kb


def knowledge_base_delete(*, knowledge_base: KnowledgeBase) -> None:
    kb_id = knowledge_base.id
    names = list(KnowledgeFile.objects.filter(knowledge_base=knowledge_base).values_list("storage_name", flat=True))
    with transaction.atomic():
        KnowledgeBase.objects.select_for_update().filter(pk=kb_id).first()
        index.backend().drop(kb_id)
        if pgvector.enabled():
            pgvector.drop(kb_id)
        Chunk.objects.filter(knowledge_base_id=kb_id).delete()
        knowledge_base.delete()
        transaction.on_commit(lambda: _delete_stored(names))


def _delete_stored(names: list[str]) -> None:
    for name in names:
        try:
            storage().delete(name)
        except Exception:
            log.warning("could not delete stored file %s", name, exc_info=True)


def file_upload(
    *, knowledge_base: KnowledgeBase, name: str, data: bytes, tags: list[str] | None = None
) -> tuple[KnowledgeFile, bool]:
    """Stores the bytes and queues the file. Returns (file, created): the same content a second time is
    the first file (a failed one is queued again)."""
    name = (name or "").strip()
    if not NAME_RE.match(name):
        raise ApplicationError("validation_error", "The file needs a name (at most 255 characters, no slashes).")
    kind = kind_for(name)
    if kind is None:
        raise ApplicationError(
            "unsupported_file_type",
            f"{name!r} is not a supported file type (supported: {SUPPORTED}).",
            status=415,
        )
    if len(data) > settings.KNOWLEDGE_MAX_FILE_BYTES:
        raise file_too_large()
    digest = hashlib.sha256(data).hexdigest()
    storage_name = f"{knowledge_base.workspace_id}/{knowledge_base.id}/{digest}"
    if not storage().exists(storage_name):
        storage_name = storage().save(storage_name, ContentFile(data))
    try:
        # One INSERT in autocommit (no transaction round trips): the unique (knowledge base, hash) decides.
        # Inside a caller's transaction it gets a savepoint, so a duplicate does not break that transaction.
        with transaction.atomic() if connection.in_atomic_block else nullcontext():
            file = KnowledgeFile.objects.create(
                workspace_id=knowledge_base.workspace_id,
                knowledge_base=knowledge_base,
                name=name,
                kind=kind,
                bytes=len(data),
                content_hash=digest,
                storage_name=storage_name,
                tags=[str(t) for t in (tags or [])],
            )
    except IntegrityError:  # the same content again: the first file stands (a failed one is queued again)
        existing = KnowledgeFile.objects.get(knowledge_base=knowledge_base, content_hash=digest)
        if existing.status == FileStatus.FAILED:
            KnowledgeFile.objects.filter(pk=existing.pk, status=FileStatus.FAILED).update(
                status=FileStatus.QUEUED, error="", claimed_at=None, updated_at=timezone.now()
            )
            existing.refresh_from_db()
            progress.publish_files(knowledge_base.id, [existing], FileStatus.QUEUED, progress=0.0)
            jobs.dispatch_ingest_on_commit(knowledge_base.id)
        return existing, False
    progress.publish_files(knowledge_base.id, [file], FileStatus.QUEUED, progress=0.0)
    jobs.dispatch_ingest_on_commit(knowledge_base.id)
    return file, True


def file_too_large() -> ApplicationError:
    limit = settings.KNOWLEDGE_MAX_FILE_BYTES
    return ApplicationError(
        "payload_too_large",
        f"The file is too large: the limit is {limit:,} bytes (TRELLIS_KNOWLEDGE_MAX_FILE_BYTES).",
        status=413,
    )


def file_delete(*, file: KnowledgeFile) -> None:
    """Removes the file, its chunks and their vectors and keyword entries."""
    with transaction.atomic():
        kb = KnowledgeBase.objects.select_for_update(no_key=True).get(pk=file.knowledge_base_id)
        _remove_chunks(kb, [file.pk])
        kb.revision += 1
        kb.save(update_fields=["revision", "chunk_count", "total_length", "updated_at"])
        shared = KnowledgeFile.objects.filter(storage_name=file.storage_name).exclude(pk=file.pk).exists()
        file.delete()
        if not shared:
            transaction.on_commit(lambda: _delete_stored([file.storage_name]))


def _remove_chunks(kb: KnowledgeBase, file_ids: list) -> None:
    chunk_ids = list(Chunk.objects.filter(file_id__in=file_ids).values_list("id", flat=True))
    if not chunk_ids:
        return
    backend = index.backend()
    if connection.vendor == "postgresql":
        count, length = backend.remove(kb.id, chunk_ids)
    else:
        backend.remove(kb.id, chunk_ids)
        count = len(chunk_ids)
        length = Chunk.objects.filter(id__in=chunk_ids).aggregate(n=Sum("length"))["n"] or 0
    kb.chunk_count -= count
    kb.total_length -= length
    Chunk.objects.filter(id__in=chunk_ids).delete()


# --- Ingestion ------------------------------------------------------------------------------------


def ingest_pending(*, knowledge_base_id) -> int:
    """Indexes the knowledge base's queued files, a batch at a time; returns how many became ready.
    Safe to run twice at once: files are claimed (queued → processing) before any work."""
    ready = 0
    _requeue_stale(knowledge_base_id)
    while True:
        kb = KnowledgeBase.objects.filter(pk=knowledge_base_id).first()
        if kb is None:
            return ready
        files = _claim(kb, settings.KNOWLEDGE_INGEST_BATCH_FILES)
        if not files:
            return ready
        ready += _ingest_batch(kb, files)


def ingest_resume(*, requeue_all_processing: bool = False) -> list[str]:
    """Dispatches ingestion for every knowledge base with work left: queued files, and files whose job
    died mid-way (processing with a claim older than the lease; all of them when the caller knows no job
    is running, as the single default-mode process does at start). Returns the knowledge base ids."""
    if requeue_all_processing:
        KnowledgeFile.objects.filter(status=FileStatus.PROCESSING).update(status=FileStatus.QUEUED, claimed_at=None)
    cutoff = timezone.now() - dt.timedelta(seconds=settings.KNOWLEDGE_INGEST_LEASE_S)
    pending = KnowledgeFile.objects.filter(
        Q(status=FileStatus.QUEUED) | Q(status=FileStatus.PROCESSING, claimed_at__lt=cutoff)
    )
    kb_ids = sorted({str(kb_id) for kb_id in pending.values_list("knowledge_base_id", flat=True)})
    for kb_id in kb_ids:
        jobs.dispatch_ingest(kb_id)
    return kb_ids


def _requeue_stale(kb_id) -> None:
    cutoff = timezone.now() - dt.timedelta(seconds=settings.KNOWLEDGE_INGEST_LEASE_S)
    KnowledgeFile.objects.filter(knowledge_base_id=kb_id, status=FileStatus.PROCESSING, claimed_at__lt=cutoff).update(
        status=FileStatus.QUEUED, claimed_at=None
    )


def _claim(kb: KnowledgeBase, limit: int) -> list[KnowledgeFile]:
    now = timezone.now()
    with transaction.atomic():
        queued = KnowledgeFile.objects.filter(knowledge_base=kb, status=FileStatus.QUEUED).order_by("created_at")
        if connection.features.has_select_for_update_skip_locked:
            queued = queued.select_for_update(skip_locked=True)
        ids = list(queued.values_list("id", flat=True)[:limit])
        if not ids:
            return []
        KnowledgeFile.objects.filter(id__in=ids, status=FileStatus.QUEUED).update(
            status=FileStatus.PROCESSING, claimed_at=now, updated_at=now
        )
    claimed = list(KnowledgeFile.objects.filter(id__in=ids, status=FileStatus.PROCESSING, claimed_at=now))
    progress.publish_files(kb.pk, claimed, FileStatus.PROCESSING, progress=0.0)
    return claimed


def _fail(file: KnowledgeFile, reason: str) -> None:
    if KnowledgeFile.objects.filter(pk=file.pk, status=FileStatus.PROCESSING).update(
        status=FileStatus.FAILED, error=reason, claimed_at=None, updated_at=timezone.now()
    ):
        progress.publish_files(file.knowledge_base_id, [file], FileStatus.FAILED, error=reason)


def _ingest_batch(kb: KnowledgeBase, files: list[KnowledgeFile]) -> int:
    prepared: list[tuple[KnowledgeFile, list]] = []
    for file in files:
        try:
            with storage().open(file.storage_name, "rb") as handle:
                data = handle.read()
            sections = parse(data, file.kind, max_unpacked_bytes=settings.KNOWLEDGE_MAX_UNPACKED_BYTES)
            chunks = chunk_sections(sections)
            if not chunks:
                raise ParseFailure("The file contains no text.")
            prepared.append((file, chunks))
            progress.publish_files(kb.pk, [file], FileStatus.PROCESSING, progress=progress.PARSED)
        except ParseFailure as exc:
            _fail(file, exc.reason)
        except FileNotFoundError:
            _fail(file, "The stored file is missing; upload it again.")
        except Exception:
            log.exception("knowledge file %s could not be parsed", file.pk)
            _fail(file, "The file could not be read (an unexpected error; the server log has details).")
    if not prepared:
        return 0
    texts = [c.text for _, chunks in prepared for c in chunks]
    try:
        matrix = embed_texts(kb, texts, on_batch=_embedding_progress(kb, prepared))
    except EmbeddingFailure as exc:
        for file, _ in prepared:
            if exc.retryable:  # the next job tries again
                KnowledgeFile.objects.filter(pk=file.pk, status=FileStatus.PROCESSING).update(
                    status=FileStatus.QUEUED, claimed_at=None, error=exc.reason
                )
                progress.publish_files(kb.pk, [file], FileStatus.QUEUED, progress=0.0, error=exc.reason)
            else:
                _fail(file, exc.reason)
        if exc.retryable:
            log.warning("knowledge base %s: embedding failed (%s); files stay queued", kb.pk, exc.reason)
            raise
        return 0
    return _index(kb, prepared, matrix)


def _embedding_progress(kb: KnowledgeBase, prepared: list[tuple[KnowledgeFile, list]]):
    """on_batch for embed_texts: each file's bar moves with the share of its own chunks embedded."""
    spans, at = [], 0
    for file, chunks in prepared:
        spans.append((file, at, at + len(chunks)))
        at += len(chunks)

    finished: set = set()

    def on_batch(done: int) -> None:
        moved = []
        for file, start, end in spans:
            if done <= start or file.pk in finished:
                continue
            share = min(1.0, (done - start) / (end - start))
            if share >= 1.0:
                finished.add(file.pk)  # it stays at EMBEDDED until the index transaction makes it ready
            span = progress.EMBEDDED - progress.PARSED
            moved.append(progress.event(file, FileStatus.PROCESSING, progress.PARSED + share * span))
        progress.publish(kb.pk, moved)

    return on_batch


def _index(kb: KnowledgeBase, prepared: list[tuple[KnowledgeFile, list]], matrix: np.ndarray) -> int:
    backend = index.backend()
    terms = terms_of = None
    if connection.vendor == "sqlite":
        # Tokenized before the write transaction (in the connection's temp schema): uploads wait for it otherwise.
        terms = backend.prepare([c.text for _, chunks in prepared for c in chunks])
        terms_of, at = {}, 0
        for file, chunks in prepared:
            terms_of[file.pk] = terms[at : at + len(chunks)]
            at += len(chunks)
    with transaction.atomic():
        # One indexer per knowledge base at a time (its statistics are read-modify-write). NO KEY: uploads
        # insert files that reference this row (FOR KEY SHARE) and must not wait for the indexer.
        kb = KnowledgeBase.objects.select_for_update(no_key=True).get(pk=kb.pk)
        # Files deleted (or re-queued by a model change) while this batch was being embedded are skipped.
        live = set(
            KnowledgeFile.objects.filter(id__in=[f.pk for f, _ in prepared], status=FileStatus.PROCESSING).values_list(
                "id", flat=True
            )
        )
        if kb.embedding_dimensions != matrix.shape[1]:
            return 0
        if pgvector.enabled():
            pgvector.ensure_index(kb.pk, kb.embedding_dimensions)
        rows, row = [], 0
        for file, chunks in prepared:
            for ordinal, chunk in enumerate(chunks):
                if file.pk in live:
                    rows.append(
                        Chunk(
                            knowledge_base_id=kb.pk,
                            file_id=file.pk,
                            ordinal=ordinal,
                            text=chunk.text,
                            metadata=chunk.metadata,
                            embedding=matrix[row].tobytes(),
                        )
                    )
                row += 1
        _remove_chunks(kb, list(live))  # a re-index replaces the file's earlier chunks
        if terms is not None:
            kept = [
                t
                for (file, chunks) in prepared
                for t, _ in zip(terms_of[file.pk], chunks, strict=True)
                if file.pk in live
            ]
            for chunk, (hashes, counts, length) in zip(rows, kept, strict=True):
                chunk.term_hashes, chunk.term_counts, chunk.length = hashes, counts, length
        created = Chunk.objects.bulk_create(rows, batch_size=1000)
        if pgvector.enabled():
            kept_rows = [row for row, file in enumerate(_file_per_row(prepared)) if file.pk in live]
            pgvector.add([c.id for c in created], matrix[kept_rows])
        if connection.vendor == "postgresql":
            count, total = backend.add(kb.pk, [c.id for c in created])
            kb.chunk_count += count
            kb.total_length += total
        else:
            backend.add(kb.pk, [(c.id, c.file_id, c.text) for c in created])
            kb.chunk_count += len(created)
            kb.total_length += sum(c.length for c in created)
        kb.revision += 1
        kb.save(update_fields=["revision", "chunk_count", "total_length", "updated_at"])
        counts: dict = {}
        for c in created:
            counts[c.file_id] = counts.get(c.file_id, 0) + 1
        now = timezone.now()
        for file_id in live:
            KnowledgeFile.objects.filter(pk=file_id).update(
                status=FileStatus.READY, error="", chunks=counts.get(file_id, 0), claimed_at=None, updated_at=now
            )
        progress.publish(
            kb.pk,
            [
                progress.event(file, FileStatus.READY, 1.0, chunks=counts.get(file.pk, 0))
                for file, _ in prepared
                if file.pk in live
            ],
        )
    return len(live)


def _file_per_row(prepared: list[tuple[KnowledgeFile, list]]):
    """Each embedding matrix row's file."""
    for file, chunks in prepared:
        for _ in chunks:
            yield file


def vector_cache_clear() -> None:
    vectors._cache.clear()
