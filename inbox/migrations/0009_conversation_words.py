"""The words of each conversation's messages (`ConversationWords`), kept by a trigger, for the inbox
search on PostgreSQL.

Searching message text through a GIN index on `inbox_message` read every matching message: a common
word ("refund" in 17 % of a million messages) cost half a second. A conversation's distinct words
(a `tsvector` without positions) answer the same question from one row per conversation.

On PostgreSQL this migration, in one transaction:
- creates `btree_gin` (a trusted extension, like `pg_trgm`) and the GIN index on (account_id, words),
  so a tenant's search reads only its own conversations' entries;
- creates a statement trigger on `inbox_message` that adds each statement's new words to their
  conversations (one upsert per conversation, in conversation order, so concurrent batches cannot
  deadlock). It holds a SHARE ROW EXCLUSIVE lock on `inbox_message` from then until the commit: new
  messages wait (about 15 s per million messages, the back-fill below), none is missed;
- fills the table from the stored messages;
- drops `message_text_search_idx` (migration 0007), which nothing reads any more.
A conversation with more than `WORDS_MAX` distinct words stops collecting them (`complete` false);
the search reads those conversations' messages instead. SQLite has no `tsvector`: there the table
stays empty and the search reads the messages.
"""

from __future__ import annotations

from typing import Any

import django.contrib.postgres.search
import django.db.models.deletion
from django.db import migrations, models

# About 600 KB of lexemes, well under PostgreSQL's 1 MB limit of a tsvector.
WORDS_MAX = 50_000

# The distinct words of the messages in `source` (with columns conversation_id, account_id, text), per
# conversation, and whether they are within WORDS_MAX.
WORDS_OF = f"""
SELECT m.conversation_id, min(m.account_id) AS account_id,
       array_to_tsvector(array_agg(DISTINCT w.lexeme)) AS words,
       count(DISTINCT w.lexeme) <= {WORDS_MAX} AS complete
FROM {{source}} AS m CROSS JOIN LATERAL unnest(to_tsvector('simple', coalesce(m.text, ''))) AS w
GROUP BY m.conversation_id
"""  # noqa: S608 - constants only

TRIGGER_FUNCTION = f"""
CREATE OR REPLACE FUNCTION inbox_conversation_words_add() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO inbox_conversationwords AS t (conversation_id, account_id, words, complete)
    SELECT conversation_id, account_id, CASE WHEN complete THEN words ELSE ''::tsvector END, complete
    FROM ({WORDS_OF.format(source="new_messages")}) AS added
    ORDER BY conversation_id
    ON CONFLICT (conversation_id) DO UPDATE SET
        words = CASE
            WHEN t.complete AND EXCLUDED.complete AND length(t.words) + length(EXCLUDED.words) <= {WORDS_MAX}
            THEN t.words || EXCLUDED.words ELSE t.words END,
        complete = t.complete AND EXCLUDED.complete
            AND length(t.words) + length(EXCLUDED.words) <= {WORDS_MAX};
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
    "SELECT conversation_id, account_id, CASE WHEN complete THEN words ELSE ''::tsvector END, complete "
    f"FROM ({WORDS_OF.format(source='inbox_message')}) AS stored",
    "CREATE INDEX conversation_words_idx ON inbox_conversationwords USING gin (account_id, words)",
    "ANALYZE inbox_conversationwords",
    "DROP INDEX IF EXISTS message_text_search_idx",
]

BACKWARD = [
    "CREATE INDEX IF NOT EXISTS message_text_search_idx ON inbox_message "
    "USING gin (to_tsvector('simple'::regconfig, COALESCE(text, '')))",
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
