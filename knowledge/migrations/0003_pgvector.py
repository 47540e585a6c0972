"""PostgreSQL with the `vector` extension available (pgvector): the extension and the chunks' `embedding_vec`
column, searched through per-knowledge-base HNSW indexes (knowledge/index/pgvector.py). Without it nothing
changes: vector search stays exact. A server that gains the extension later gets it by this migration on a
fresh database; an existing one by `manage.py migrate knowledge 0002 && manage.py migrate` and a re-index."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    from knowledge.index import pgvector

    pgvector.install(schema_editor)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE knowledge_chunk DROP COLUMN IF EXISTS embedding_vec")


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0002_keyword_index")]
    operations = [migrations.RunPython(forwards, backwards)]
