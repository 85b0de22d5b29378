"""The GIN index behind the inbox's search of message text, on PostgreSQL only.

An expression index on `to_tsvector('simple', coalesce(text, ''))`, the very expression
`inbox.selectors` searches with (`SearchVector("text", config="simple")`), so the planner can use it.
It is not declared on the model: SQLite has no full-text vectors (the search falls back to
"contains" there), and a model index would be created on SQLite too. Built CONCURRENTLY, so a large
message table keeps taking writes while it is built (hence a non-atomic migration).
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

INDEX = "message_text_search_idx"


def create_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON inbox_message "
        "USING gin (to_tsvector('simple'::regconfig, COALESCE(text, '')))"
    )


def drop_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inbox", "0006_channel_sandbox"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
