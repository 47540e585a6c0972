"""Knowledge bases (DESIGN §9): a workspace's documents, cut into chunks that are indexed for keyword
search (SQLite FTS5 / PostgreSQL tsvector, see `knowledge/index/`) and for vector search (embeddings
stored with each chunk)."""

import uuid

from django.db import models


class FileStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class KnowledgeBase(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="knowledge_bases")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True, default="")
    # Empty provider: the workspace's default model provider, else the environment's (or the local test model).
    embedding_provider = models.CharField(max_length=100, blank=True, default="")
    embedding_model = models.CharField(max_length=200, default="text-embedding-3-small")
    embedding_dimensions = models.PositiveIntegerField(default=256)
    # Bumped whenever the set of indexed chunks changes: in-process vector caches are keyed by it.
    revision = models.BigIntegerField(default=0)
    # Keyword statistics for BM25 (PostgreSQL): indexed chunks and their total length in lexemes.
    chunk_count = models.BigIntegerField(default=0)
    total_length = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workspace", "name"], name="knowledge_base_unique_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class KnowledgeFile(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workspace = models.ForeignKey("accounts.Workspace", on_delete=models.CASCADE, related_name="+")
    knowledge_base = models.ForeignKey(KnowledgeBase, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=10)  # pdf | docx | html | markdown | text | csv | json
    bytes = models.BigIntegerField()
    content_hash = models.CharField(max_length=64)  # sha256 of the bytes: the same content twice is one file
    storage_name = models.CharField(max_length=500)
    tags = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=12, choices=FileStatus.choices, default=FileStatus.QUEUED)
    error = models.TextField(blank=True, default="")
    chunks = models.IntegerField(default=0)
    # A file in processing whose claim is older than the lease went back to the queue (a crashed job).
    claimed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["knowledge_base", "content_hash"], name="knowledge_file_unique_content")
        ]
        indexes = [models.Index(fields=["knowledge_base", "status"], name="knowledge_file_kb_status")]
        ordering = ["-created_at"]


class Chunk(models.Model):
    id = models.BigAutoField(primary_key=True)
    knowledge_base = models.ForeignKey(KnowledgeBase, on_delete=models.CASCADE, related_name="+", db_index=False)
    file = models.ForeignKey(KnowledgeFile, on_delete=models.CASCADE, related_name="chunk_rows")
    ordinal = models.IntegerField()
    text = models.TextField()
    metadata = models.JSONField(default=dict)
    tokens = models.IntegerField(default=0)
    length = models.IntegerField(default=0)  # tokens (SQLite) or lexemes (PostgreSQL): BM25 length normalisation
    # SQLite: the chunk's terms as FTS5's tokenizer sees them, hashed (uint64) with their counts (uint16), so the
    # in-process BM25 index (knowledge/index/bm25.py) is rebuilt from two columns instead of re-tokenizing.
    term_hashes = models.BinaryField(default=b"")
    term_counts = models.BinaryField(default=b"")
    embedding = models.BinaryField()  # float32, little-endian, L2-normalised

    class Meta:
        indexes = [models.Index(fields=["knowledge_base", "id"], name="knowledge_chunk_kb")]


class KeywordTerm(models.Model):
    """PostgreSQL only: in how many chunks of a knowledge base a lexeme occurs (BM25's document frequency)."""

    knowledge_base = models.ForeignKey(KnowledgeBase, on_delete=models.CASCADE, related_name="+", db_index=False)
    term = models.TextField()
    df = models.IntegerField()

    class Meta:
        db_table = "knowledge_term"
        constraints = [models.UniqueConstraint(fields=["knowledge_base", "term"], name="knowledge_term_unique")]
