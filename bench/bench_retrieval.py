"""Retrieval benchmark on BEIR SciFact (5,183 abstracts; CC BY-NC: evaluation only, never copied here).

Ingests the corpus through the public API (one knowledge base, one JSON upload per abstract, embeddings
from the local test model), waits until every file is ready, then asks the search API each test query in
every mode and prints nDCG@10 and Recall@100, the ingest time, and the query latency p50/p99 — at corpus
size and with the chunks replicated to 100,000. Default mode (SQLite file) and PostgreSQL, each in a
process of its own.

Run: .venv/bin/python bench/bench_retrieval.py [--db sqlite|postgres|pgvector|both|all] [--split test|train]
     [--chunks N]
`pgvector`: PostgreSQL with the `vector` extension (DATABASE_URL's server when it has it, else a throwaway
PostgreSQL 16 + pgvector from the pgserver wheel, knowledge/tests/pgvector_server.py): vector search walks
HNSW indexes, and the run also compares them with exact search (recall@10 of HNSW against exact, latency).
Data: $TRELLIS_SCIFACT_DIR, default ../shared/data/scifact relative to the repository. Tune on
`--split train` (queries-train.jsonl / qrels-train.tsv); report the test split. PostgreSQL: a database
named <DATABASE_URL's name>_bench_retrieval next to DATABASE_URL (default postgres://postgres@127.0.0.1:5432/trellis),
recreated and dropped. Prints figures; asserts nothing (CONVENTIONS 17).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from runs.testing.databases import drop_database, recreate_database  # noqa: E402

MODES = ("keyword", "vector", "hybrid")
LATENCY_QUERIES = 100
UPLOAD_CLIENTS = 4
MODEL_PORT = int(os.environ.get("BENCH_MODEL_PORT", "18791"))


def data_dir() -> Path:
    return Path(os.environ.get("TRELLIS_SCIFACT_DIR") or ROOT.parent / "shared" / "data" / "scifact")


def load(split: str):
    base = data_dir()
    corpus = [json.loads(line) for line in (base / "corpus.jsonl").open()]
    queries_file = "queries.jsonl" if split == "test" else "queries-train.jsonl"
    qrels_file = "qrels-test.tsv" if split == "test" else "qrels-train.tsv"
    qrels: dict[str, dict[str, int]] = {}
    for line in list((base / qrels_file).open())[1:]:
        qid, doc, score = line.split()
        qrels.setdefault(qid, {})[doc] = int(score)
    queries = {}
    for line in (base / queries_file).open():
        row = json.loads(line)
        if row["_id"] in qrels:
            queries[row["_id"]] = row["text"]
    return corpus, queries, qrels


def ndcg_at(ranked: list[str], relevant: dict[str, int], k: int = 10) -> float:
    dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sum(rel / math.log2(i + 2) for i, rel in enumerate(sorted(relevant.values(), reverse=True)[:k]))
    return dcg / ideal if ideal else 0.0


def recall_at(ranked: list[str], relevant: dict[str, int], k: int = 100) -> float:
    hits = {doc for doc in ranked[:k] if relevant.get(doc, 0) > 0}
    return len(hits) / len([d for d, r in relevant.items() if r > 0])


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# --- parent: one child process per database --------------------------------------------------------


def postgres_database(base: str | None = None) -> tuple[str, str, str]:
    base = base or os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/trellis")
    parsed = urlparse(base)
    if not parsed.scheme.startswith("postgres"):
        base = "postgres://postgres@127.0.0.1:5432/trellis"
        parsed = urlparse(base)
    name = f"{parsed.path.lstrip('/') or 'trellis'}_bench_retrieval"
    admin = urlunparse(parsed._replace(scheme="postgresql", path="/postgres"))
    return admin, urlunparse(parsed._replace(path=f"/{name}")), name


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres", "pgvector", "both", "all"], default="both")
    parser.add_argument("--split", choices=["test", "train"], default="test")
    parser.add_argument("--chunks", type=int, default=100_000, help="replicate the chunks to this many")
    parser.add_argument("--child", choices=["sqlite", "postgres", "pgvector"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    if not (data_dir() / "corpus.jsonl").exists():
        print(f"SciFact not found in {data_dir()} (set TRELLIS_SCIFACT_DIR); skipped.")
        return 0
    failures = 0
    # The local test model runs as a service of its own, as an embedding provider would (inside the web
    # process it would compete with the search requests for the interpreter lock).
    model = subprocess.Popen(
        [sys.executable, "-m", "runs.testing.model_server", "--port", str(MODEL_PORT)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_model()
        chosen = {"both": ("sqlite", "postgres"), "all": ("sqlite", "postgres", "pgvector")}.get(args.db, (args.db,))
        for db in chosen:
            failures += _one_database(db, args)
    finally:
        model.terminate()
        model.wait(10)
    return 1 if failures else 0


def _wait_for_model() -> None:
    import urllib.request

    for _ in range(200):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{MODEL_PORT}/health", timeout=1)
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("the local test model server did not start")


def _one_database(db: str, args) -> int:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "trellis.settings", "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    env.update(
        TRELLIS_EXECUTOR="inline",
        OPENAI_BASE_URL=f"http://127.0.0.1:{MODEL_PORT}/v1",
        OPENAI_API_KEY="local-test-model",
        DEBUG="false",
    )
    with tempfile.TemporaryDirectory(prefix="trellis-bench-retrieval-") as tmp:
        env["TRELLIS_VAR_DIR"] = tmp
        if db == "sqlite":
            env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
            return _run_child(db, args, env)
        if db == "pgvector" and not _has_pgvector(postgres_database()[0]):
            from knowledge.tests.pgvector_server import pgvector_server

            with pgvector_server() as server_url:
                print(f"(pgvector: a throwaway PostgreSQL 16 + pgvector at {server_url})", flush=True)
                return _postgres_child(db, args, env, server_url)
        return _postgres_child(db, args, env, None)


def _has_pgvector(admin_url: str) -> bool:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'").fetchone() is not None


def _postgres_child(db: str, args, env: dict, server_url: str | None) -> int:
    if server_url is not None:
        env = {**env, "DATABASE_URL": server_url}
    env["DATABASE_URL"] = recreate_database(postgres_database(env.get("DATABASE_URL"))[1])
    try:
        return _run_child(db, args, env)
    finally:
        drop_database(env["DATABASE_URL"])


def _run_child(db: str, args, env: dict) -> int:
    cmd = [sys.executable, __file__, "--child", db, "--split", args.split, "--chunks", str(args.chunks)]
    return int(subprocess.run(cmd, env=env, cwd=ROOT).returncode != 0)


# --- child: one database ---------------------------------------------------------------------------


def child(args) -> int:
    import django

    django.setup()
    from django.test.utils import setup_test_environment

    setup_test_environment()
    from django.core.management import call_command
    from django.db import connection
    from rest_framework.test import APIClient

    call_command("migrate", verbosity=0)
    from accounts.services import user_create, workspace_create
    from knowledge import jobs

    label = {"sqlite": "default mode (SQLite)", "postgres": "PostgreSQL", "pgvector": "PostgreSQL + pgvector"}[
        args.child
    ]
    corpus, queries, qrels = load(args.split)
    user = user_create(email="bench@example.com", password="bench-password-123")
    workspace = workspace_create(name="Bench", owner=user)
    client = APIClient()
    client.force_authenticate(user=user)
    client.credentials(HTTP_X_TRELLIS_WORKSPACE=workspace.slug)
    kb = client.post("/api/v1/knowledge-bases", {"name": "SciFact"}, format="json").json()
    base = f"/api/v1/knowledge-bases/{kb['id']}"

    # Ingest: every abstract through the upload API, from UPLOAD_CLIENTS clients at once (as a script that
    # pushes a folder would); the clock stops when the last file is ready.
    def push(docs: list[dict]) -> None:
        from django.db import connections

        uploader = APIClient()
        uploader.force_authenticate(user=user)
        uploader.credentials(HTTP_X_TRELLIS_WORKSPACE=workspace.slug)
        try:
            for doc in docs:
                text = f"{doc['title']}\n\n{doc['text']}"
                response = uploader.post(f"{base}/files", {"name": f"{doc['_id']}.txt", "text": text}, format="json")
                assert response.status_code in (200, 202), response.json()
        finally:
            connections.close_all()

    started = time.perf_counter()
    with ThreadPoolExecutor(UPLOAD_CLIENTS) as pool:
        list(pool.map(push, [corpus[i::UPLOAD_CLIENTS] for i in range(UPLOAD_CLIENTS)]))
    uploaded = time.perf_counter() - started
    while True:
        files = client.get(base).json()["files"]
        if files["queued"] == 0 and files["processing"] == 0:
            break
        time.sleep(0.05)
    jobs.inline_wait_idle(600)
    ingest_s = time.perf_counter() - started
    info = client.get(base).json()
    print(
        f"[{label}] ingest: {len(corpus)} abstracts → {info['files']['ready']} ready files "
        f"({info['files']['failed']} failed), {info['chunks']} chunks in {ingest_s:.1f} s "
        f"(uploads by {UPLOAD_CLIENTS} clients done after {uploaded:.1f} s)",
        flush=True,
    )

    def ask(query: str, mode: str, top_k: int) -> list[dict]:
        response = client.post(f"{base}/search", {"query": query, "mode": mode, "top_k": top_k}, format="json")
        assert response.status_code == 200, response.json()
        return response.json()["results"]

    def docs_of(results: list[dict]) -> list[str]:
        seen: dict[str, None] = {}
        for r in results:
            seen.setdefault(r["file_name"].removesuffix(".txt"), None)
        return list(seen)

    print(f"[{label}] quality on {len(queries)} {args.split} queries:", flush=True)
    for mode in MODES:
        ndcg, recall = [], []
        for qid, text in queries.items():
            ranked = docs_of(ask(text, mode, 100))
            ndcg.append(ndcg_at(ranked, qrels[qid]))
            recall.append(recall_at(ranked, qrels[qid]))
        print(f"  {mode:8s} nDCG@10 {statistics.mean(ndcg):.3f}   Recall@100 {statistics.mean(recall):.3f}", flush=True)
    if connection.vendor == "postgresql":
        from knowledge.index import postgres
        from knowledge.models import Chunk, KnowledgeBase

        kb_row = KnowledgeBase.objects.get(pk=kb["id"])
        names = dict(Chunk.objects.filter(knowledge_base=kb_row).values_list("id", "file__name"))
        ndcg = []
        for qid, text in queries.items():
            ranked = list(
                dict.fromkeys(names[c].removesuffix(".txt") for c, _ in postgres.search_ts_rank(kb_row, text, 100))
            )
            ndcg.append(ndcg_at(ranked, qrels[qid]))
        print(f"  (ts_rank_cd instead of BM25: keyword nDCG@10 {statistics.mean(ndcg):.3f})", flush=True)
        hnsw_against_exact(kb_row, queries, qrels, names, label)

    sample = list(queries.values())[:LATENCY_QUERIES]

    def latency(tag: str) -> None:
        warm(kb["id"])
        for mode in MODES:
            ask(sample[0], mode, 10)
            times = []
            for text in sample:
                t0 = time.perf_counter()
                ask(text, mode, 10)
                times.append((time.perf_counter() - t0) * 1000)
            print(
                f"  {tag} {mode:8s} p50 {percentile(times, 50):6.1f} ms   p99 {percentile(times, 99):6.1f} ms",
                flush=True,
            )
        # The vector index alone, without the provider round trip of the query's embedding.
        from knowledge.embedding import embed_texts
        from knowledge.index import pgvector, vectors
        from knowledge.models import KnowledgeBase

        kb_row = KnowledgeBase.objects.get(pk=kb["id"])
        query_vectors = embed_texts(kb_row, sample)
        searches = [("numpy exact", lambda v: vectors.search(kb_row, v, 10, None))]
        if pgvector.enabled():
            searches.append(("pgvector HNSW", lambda v: pgvector.search(kb_row, v, 10)))
        for name, search in searches:
            times = []
            for vector in query_vectors:
                t0 = time.perf_counter()
                search(vector)
                times.append((time.perf_counter() - t0) * 1000)
            print(
                f"  {tag} ({name} search alone, no embedding call) p50 {percentile(times, 50):6.2f} ms   "
                f"p99 {percentile(times, 99):6.2f} ms",
                flush=True,
            )

    loadavg = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"[{label}] query latency (top_k 10, search API through the Django stack; load average {loadavg}):", flush=True
    )
    latency(f"{info['chunks']:>7,} chunks")
    total = replicate(kb["id"], args.chunks)
    latency(f"{total:>7,} chunks")
    return 0


def hnsw_against_exact(kb_row, queries: dict, qrels: dict, names: dict, label: str) -> None:
    """pgvector's HNSW against exact search on the same vectors, for several ef_search values (the graph
    walk's candidate list): recall@10 (the share of exact search's top 10 chunks that HNSW finds), Recall@100
    of the documents, vector nDCG@10, and the latency of the index search alone."""
    from knowledge.embedding import embed_texts
    from knowledge.index import pgvector, vectors

    if not pgvector.enabled():
        return
    query_vectors = embed_texts(kb_row, list(queries.values()))

    def docs(ranked) -> list[str]:
        return list(dict.fromkeys(names[c].removesuffix(".txt") for c, _ in ranked))

    exact = [vectors.search(kb_row, v, 100, None) for v in query_vectors]
    ndcg = [ndcg_at(docs(r), qrels[q]) for q, r in zip(queries, exact, strict=True)]
    recall = [recall_at(docs(r), qrels[q]) for q, r in zip(queries, exact, strict=True)]
    print(
        f"  [{label}] exact: vector nDCG@10 {statistics.mean(ndcg):.3f}, Recall@100 {statistics.mean(recall):.3f}",
        flush=True,
    )
    configured = pgvector.EF_SEARCH
    try:
        for ef in (40, 100, 200, 400):
            pgvector.EF_SEARCH = ef
            overlap, ndcg, recall, times = [], [], [], []
            for qid, vector, truth in zip(queries, query_vectors, exact, strict=True):
                t0 = time.perf_counter()
                top10 = pgvector.search(kb_row, vector, 10)
                times.append((time.perf_counter() - t0) * 1000)
                walked = pgvector.search(kb_row, vector, 100)
                wanted = {c for c, _ in truth[:10]}
                overlap.append(len(wanted & {c for c, _ in top10}) / max(len(wanted), 1))
                ndcg.append(ndcg_at(docs(walked), qrels[qid]))
                recall.append(recall_at(docs(walked), qrels[qid]))
            print(
                f"  [{label}] HNSW ef_search {ef:3d}{' (used)' if ef == configured else '       '}: "
                f"recall@10 vs exact {statistics.mean(overlap):.3f}, vector nDCG@10 {statistics.mean(ndcg):.3f}, "
                f"Recall@100 {statistics.mean(recall):.3f}, top-10 search p50 {percentile(times, 50):.2f} ms",
                flush=True,
            )
    finally:
        pgvector.EF_SEARCH = configured


def warm(kb_id: str) -> None:
    """Builds the in-process indexes of the current revision (queries build them on first use; a large
    knowledge base builds its keyword index in the background and answers from FTS5 meanwhile)."""

    from knowledge.index import bm25, vectors
    from knowledge.models import KnowledgeBase

    kb = KnowledgeBase.objects.get(pk=kb_id)
    started = time.perf_counter()
    vectors.matrix(kb)
    if bm25.cached(kb) is None:
        bm25.build(kb)
    print(f"  (indexes of {kb.chunk_count:,} chunks loaded in {time.perf_counter() - started:.1f} s)", flush=True)


def replicate(kb_id: str, target: int) -> int:
    """Copies the knowledge base's chunks (same text and vector) until it holds `target` chunks, indexed
    exactly as ingestion indexes them. Quicker than uploading 20 copies of the corpus; timings only."""
    from django.db import connection, transaction

    from knowledge import index
    from knowledge.index import pgvector
    from knowledge.models import Chunk, KnowledgeBase

    originals = list(Chunk.objects.filter(knowledge_base_id=kb_id).order_by("id"))
    total = len(originals)
    backend = index.backend()
    with_pgvector = pgvector.enabled()
    if with_pgvector:  # built once at the end: quicker than growing the graph by 95,000 inserts
        pgvector.drop(kb_id)
    while total < target:
        batch = originals[: target - total]
        with transaction.atomic():
            kb = KnowledgeBase.objects.select_for_update(no_key=True).get(pk=kb_id)
            copies = Chunk.objects.bulk_create(
                [
                    Chunk(
                        knowledge_base_id=kb_id,
                        file_id=c.file_id,
                        ordinal=c.ordinal,
                        text=c.text,
                        metadata=c.metadata,
                        embedding=c.embedding,
                        length=c.length,
                        term_hashes=c.term_hashes,
                        term_counts=c.term_counts,
                    )
                    for c in batch
                ],
                batch_size=2000,
            )
            if with_pgvector:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "UPDATE knowledge_chunk c SET embedding_vec = o.embedding_vec "
                        "FROM unnest(%s::bigint[], %s::bigint[]) AS m(new_id, old_id) "
                        "JOIN knowledge_chunk o ON o.id = m.old_id WHERE c.id = m.new_id",
                        [[c.id for c in copies], [c.id for c in batch]],
                    )
            if connection.vendor == "postgresql":
                count, length = backend.add(kb.pk, [c.id for c in copies])
                kb.chunk_count += count
                kb.total_length += length
            else:
                backend.add(kb.pk, [(c.id, c.file_id, c.text) for c in copies])
                kb.chunk_count += len(copies)
            kb.revision += 1
            kb.save()
        total += len(batch)
    if with_pgvector:
        started = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            kb = KnowledgeBase.objects.get(pk=kb_id)
            pgvector.ensure_index(kb_id, kb.embedding_dimensions)
        print(f"  (HNSW index over {total:,} chunks built in {time.perf_counter() - started:.1f} s)", flush=True)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE knowledge_chunk")
            cursor.execute("ANALYZE knowledge_term")
    return total


if __name__ == "__main__":
    raise SystemExit(main())
