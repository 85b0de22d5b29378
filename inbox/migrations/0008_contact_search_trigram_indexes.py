"""Trigram indexes behind "contains" searches of contacts (name, phone, WhatsApp number, email), on
PostgreSQL only.

The inbox and contacts searches ask for names and phones containing the typed text, case-insensitive
(`UPPER(name::text) LIKE UPPER('%ana%')` as Django writes it) and numbers containing its digits; a
B-tree cannot serve a pattern with a leading wildcard, so a big tenant's search read every contact.
GIN `gin_trgm_ops` indexes on those very expressions can (for 3 characters or more). `pg_trgm` is a
trusted extension: the database owner may create it. Built CONCURRENTLY (a non-atomic migration) so a
large contact table keeps taking writes meanwhile. Not declared on the model, as SQLite has neither.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

INDEXES = {
    "contact_name_trgm_idx": "upper((name)::text) gin_trgm_ops",
    "contact_phone_trgm_idx": "upper((phone)::text) gin_trgm_ops",
    "contact_wa_id_trgm_idx": "wa_id gin_trgm_ops",
    "contact_email_trgm_idx": "upper((email)::text) gin_trgm_ops",
}


def create_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, expression in INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {name} ON inbox_contact USING gin ({expression})"
        )
    # Statistics of the indexed expressions: without them the planner cannot tell that a pattern is
    # rare and keeps reading every contact of the tenant.
    schema_editor.execute("ANALYZE inbox_contact")


def drop_indexes(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("inbox", "0007_message_text_search_index"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
