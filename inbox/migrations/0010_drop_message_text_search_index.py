"""Drop `message_text_search_idx` (migration 0007): the search reads each conversation's words
(0009) instead, and every stored message no longer pays for the index. Dropped CONCURRENTLY (a
non-atomic migration), so no lock stops the ingest meanwhile. PostgreSQL only, like the index."""

from __future__ import annotations

from typing import Any

from django.db import migrations

INDEX = "message_text_search_idx"


def drop_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


def create_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON inbox_message "
            "USING gin (to_tsvector('simple'::regconfig, COALESCE(text, '')))"
        )


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inbox", "0009_conversation_words"),
    ]

    operations = [
        migrations.RunPython(drop_index, create_index, elidable=False),
    ]
