"""PostgreSQL: the chunks' tsvector column and its GIN index (SQLite uses FTS5 tables per knowledge base,
created when a knowledge base indexes its first chunk)."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE knowledge_chunk ADD COLUMN tsv tsvector")
    schema_editor.execute("CREATE INDEX knowledge_chunk_tsv ON knowledge_chunk USING gin (tsv)")


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS knowledge_chunk_tsv")
    schema_editor.execute("ALTER TABLE knowledge_chunk DROP COLUMN IF EXISTS tsv")


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
