"""The words of each conversation's messages (`ConversationWords`), kept by a trigger, for the inbox
search on PostgreSQL.

Searching message text through a GIN index on `inbox_message` read every matching message: a common
word ("refund" in 17 % of a million messages) cost half a second. A conversation's distinct words
(a `tsvector` without positions) answer the same question from one row per conversation.

On PostgreSQL this migration, in one transaction:
- creates `btree_gin` (a trusted extension, like `pg_trgm`) and the GIN index on (account_id, words),
  so a tenant's search reads only its own conversations' entries;
- creates a statement trigger on `inbox_message` that adds each statement's new words to their
  conversations: one upsert per conversation, in conversation order, and none when a statement
  brings no new word (a long conversation mostly repeats its words: no rewrite, no index update);
- fills the table from the stored messages.
The trigger holds a SHARE ROW EXCLUSIVE lock on `inbox_message` from its creation to the commit:
inserts and updates of messages wait (about 15 s per million messages, the back-fill), none is
missed. The new table has no database foreign keys (Django deletes its rows with their
conversation), so the migration locks nothing else the ingest writes and cannot deadlock with it.
Migration 0010 then drops `message_text_search_idx` (0007), concurrently.

A conversation's words stay under `WORDS_BYTES_MAX` (PostgreSQL refuses a `tsvector` over 1 MB, and
every new word rewrites the row): past it the conversation stops collecting (`complete` false) and
the search reads its messages instead. SQLite has no `tsvector`: there the table stays empty and the
search reads the messages.
"""

from __future__ import annotations

from typing import Any

import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

# About 10,000 distinct words: a long conversation's row stays small to rewrite, and far from 1 MB.
WORDS_BYTES_MAX = 128 * 1024

# The distinct words of the messages in `source` (columns conversation_id, account_id, text), per
# conversation: the vector when its size (lexeme bytes and a 4-byte entry each) is within the
# limit, else an empty one marked incomplete. Nothing over the limit is ever built.
WORDS_OF = f"""
SELECT conversation_id, min(account_id) AS account_id,
       CASE WHEN sum(octet_length(lexeme) + 4) <= {WORDS_BYTES_MAX}
            THEN array_to_tsvector(array_agg(lexeme)) ELSE ''::tsvector END AS words,
       sum(octet_length(lexeme) + 4) <= {WORDS_BYTES_MAX} AS complete
FROM (
    SELECT DISTINCT m.conversation_id, m.account_id, w.lexeme
    FROM {{source}} AS m CROSS JOIN LATERAL unnest(to_tsvector('simple', coalesce(m.text, ''))) AS w
) AS distinct_words
GROUP BY conversation_id
"""  # noqa: S608 - constants only

# Stored and added words are each within the limit, so their union (at most twice it) can be built
# and measured before it is kept.
TRIGGER_FUNCTION = f"""
CREATE OR REPLACE FUNCTION inbox_conversation_words_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inbox_conversationwords AS t (conversation_id, account_id, words, complete)
    SELECT conversation_id, account_id, words, complete
    FROM ({WORDS_OF.format(source="new_messages")}) AS added
    ORDER BY conversation_id
    ON CONFLICT (conversation_id) DO UPDATE SET
        words = CASE
            WHEN EXCLUDED.complete AND pg_column_size(t.words || EXCLUDED.words) <= {WORDS_BYTES_MAX}
            THEN t.words || EXCLUDED.words ELSE t.words END,
        complete = EXCLUDED.complete AND pg_column_size(t.words || EXCLUDED.words) <= {WORDS_BYTES_MAX}
    WHERE t.complete AND NOT (EXCLUDED.complete AND length(t.words || EXCLUDED.words) = length(t.words));
    RETURN NULL;
END
$$
"""  # noqa: S608 - constants only

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    TRIGGER_FUNCTION,
    "CREATE TRIGGER inbox_message_words AFTER INSERT ON inbox_message "
    "REFERENCING NEW TABLE AS new_messages FOR EACH STATEMENT EXECUTE FUNCTION inbox_conversation_words_add()",
    "INSERT INTO inbox_conversationwords (conversation_id, account_id, words, complete) "  # noqa: S608
    f"SELECT conversation_id, account_id, words, complete FROM ({WORDS_OF.format(source='inbox_message')}) AS stored",
    "CREATE INDEX conversation_words_idx ON inbox_conversationwords USING gin (account_id, words)",
    "ANALYZE inbox_conversationwords",
]

BACKWARD = [
    "DROP TRIGGER IF EXISTS inbox_message_words ON inbox_message",
    "DROP FUNCTION IF EXISTS inbox_conversation_words_add()",
    "DROP INDEX IF EXISTS conversation_words_idx",
]


def forward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in FORWARD:
            schema_editor.execute(statement)


def backward(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in BACKWARD:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_plan_rate_limits"),
        ("inbox", "0008_contact_search_trigram_indexes"),
    ]

    operations = [
        migrations.CreateModel(
            name="ConversationWords",
            fields=[
                (
                    "conversation",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="inbox.conversation",
                    ),
                ),
                ("words", django.contrib.postgres.search.SearchVectorField()),
                ("complete", models.BooleanField(default=True)),
                (
                    "account",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="accounts.account",
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        condition=models.Q(("complete", False)),
                        fields=["account"],
                        name="conversation_words_partial_idx",
                    )
                ],
            },
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
