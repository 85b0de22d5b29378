"""Row makers and the batched writer behind `manage.py seed_scale`: one big tenant's contacts,
conversations, messages, leads and people, inserted set-based (COPY on PostgreSQL, bulk_create
elsewhere), then the conversations' denormalised fields recounted from their messages."""

from __future__ import annotations

import json
import math
import random
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Count, F, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from agents.management.progress import progress_line
from inbox.models import (
    Conversation,
    ConversationStatus,
    LeadStatus,
    Message,
    MessageDirection,
    MessageStatus,
    Priority,
)

Row = tuple[Any, ...]
Write = Callable[[str], None]

# The biggest conversation, for the "conversation with 5,000 messages" page.
BIG_CONVERSATION_MESSAGES = 5_000
FIRST_NAMES = [
    "Ana", "Bruno", "Carla", "Diego", "Elena", "Fatima", "Gabriel", "Hana", "Ivan", "Julia",
    "Kenji", "Laura", "Mateo", "Nadia", "Omar", "Paula", "Quentin", "Rosa", "Samir", "Tomas",
]  # fmt: skip
LAST_NAMES = [
    "Almeida", "Barros", "Castro", "Duarte", "Estevez", "Ferreira", "Gomes", "Herrera", "Ibarra",
    "Jimenez", "Kovacs", "Lopes", "Moreno", "Nunes", "Ortega", "Pereira", "Ramos", "Silva", "Torres",
]  # fmt: skip
AGENT_NAMES = ["Sales qualifier", "Support triage", "Order tracker", "Invoice helper", "FAQ answerer"]
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Stark Retail", "Wayne Foods", "Hooli", "Vandelay"]
LEAD_SOURCES = ["whatsapp", "website", "referral", "campaign", "event"]
# A small vocabulary, so full-text search finds many matches for any of these words.
VOCABULARY = (
    "order delivery invoice refund payment price discount shipping tracking package address "
    "account password appointment booking schedule cancel change product size colour stock "
    "available tomorrow today morning afternoon thanks please hello help problem question "
    "receipt warranty return exchange store location hours open closed support agent urgent"
)
WORDS = VOCABULARY.split()
EMPTY_JSON = "{}"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def rate_line(done: int, total: int, started: float) -> str:
    elapsed = max(time.monotonic() - started, 1e-6)
    return progress_line(done, total, rate=f"{done / elapsed:>10,.0f} rows/s")


def insert_rows(
    model: type[models.Model], columns: list[str], rows: Iterator[Row], *, total: int, batch_size: int, write: Write
) -> None:
    """Insert `total` rows from `rows` in batches of `batch_size`, a progress line per batch."""
    use_copy = connection.vendor == "postgresql"
    table = model._meta.db_table
    started = time.monotonic()
    done = 0
    while done < total:
        size = min(batch_size, total - done)
        batch = [next(rows) for _ in range(size)]
        with transaction.atomic():
            if use_copy:
                with (
                    connection.cursor() as cursor,
                    cursor.cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
                ):
                    for row in batch:
                        copy.write_row(row)
            else:
                _insert(model, columns, batch)
        done += size
        write(rate_line(done, total, started))


JSON_COLUMNS = {"payload", "media", "attributes", "metadata"}  # carried as JSON text, as COPY wants


def _insert(model: type[models.Model], columns: list[str], batch: list[Row]) -> None:
    """The rows as given, in one `executemany` (not bulk_create: it would replace the seeded
    `created_at` of an `auto_now_add` field with the time of the insert)."""
    fields = [model._meta.get_field(column) for column in columns]
    assert all(isinstance(field, models.Field) for field in fields), "columns must be concrete fields"
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(column) for column in columns)}) "  # noqa: S608
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    values = [
        [
            value if value is None or column in JSON_COLUMNS else field.get_db_prep_save(value, connection)  # type: ignore[union-attr]
            for column, field, value in zip(columns, fields, row, strict=True)
        ]
        for row in batch
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)


def moment(rng: random.Random, *, now: datetime, days: int) -> datetime:
    return now - timedelta(seconds=rng.random() * days * 86400)


def person_name(rng: random.Random) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"


CONTACT_COLUMNS = ["account_id", "wa_id", "phone", "name", "email", "attributes", "created_at", "updated_at"]


def contact_rows(rng: random.Random, *, account_id: int, first_number: int, now: datetime, days: int) -> Iterator[Row]:
    """Contacts numbered from `first_number`: WhatsApp ids of digits, names, some emails."""
    index = first_number
    while True:
        wa_id = f"55{11 + index % 89}9{index:08d}"
        name = person_name(rng)
        email = f"{name.lower().replace(' ', '.')}{index}@example.com" if rng.random() < 0.4 else ""
        created = moment(rng, now=now, days=days)
        yield (account_id, wa_id, f"+{wa_id}", name, email, EMPTY_JSON, created, created)
        index += 1


def message_counts(rng: random.Random, *, conversations: int, messages: int) -> list[int]:
    """How many messages each conversation gets: every one but the first one while they last, the
    first up to BIG_CONVERSATION_MESSAGES of the rest, what is left heavy-tailed so some have thousands."""
    if not conversations:
        return []
    counts = [0] * conversations
    rest = conversations - 1
    ones = min(rest, max(messages - 1, 0))
    for index in range(1, 1 + ones):
        counts[index] = 1
    counts[0] = min(BIG_CONVERSATION_MESSAGES, messages - ones) if rest else messages
    left = messages - ones - counts[0]
    if left:
        weights = [min(rng.paretovariate(1.2), 2_000.0) for _ in range(rest)]
        scale = left / sum(weights)
        shares = [math.floor(weight * scale) for weight in weights]
        for index, share in enumerate(shares, start=1):
            counts[index] += share
        for index in rng.sample(range(1, conversations), k=left - sum(shares)):  # fewer than `rest`
            counts[index] += 1
    return counts


CONVERSATION_COLUMNS = [
    "account_id",
    "channel_id",
    "contact_id",
    "status",
    "snoozed_until",
    "priority",
    "assignee_id",
    "unread_count",
    "created_at",
    "updated_at",
]
STATUSES = [ConversationStatus.RESOLVED] * 5 + [ConversationStatus.OPEN] * 4 + [ConversationStatus.PENDING]
PRIORITIES = [Priority.NORMAL] * 7 + [Priority.LOW, Priority.HIGH, Priority.URGENT]


def conversation_rows(
    rng: random.Random,
    *,
    account_id: int,
    channel_ids: list[int],
    contact_ids: list[int],
    assignee_ids: list[int],
    now: datetime,
) -> Iterator[Row]:
    """Conversation i: contact i mod contacts on channel i div contacts (one per channel and contact)."""
    index = 0
    while True:
        channel_id = channel_ids[index // len(contact_ids)]
        contact_id = contact_ids[index % len(contact_ids)]
        status = rng.choice(STATUSES)
        assignee = rng.choice(assignee_ids) if assignee_ids and rng.random() < 0.7 else None
        # Times and unread counts are recounted from the messages once they are in.
        yield (account_id, channel_id, contact_id, status, None, rng.choice(PRIORITIES), assignee, 0, now, now)
        index += 1


MESSAGE_COLUMNS = [
    "account_id",
    "conversation_id",
    "channel_id",
    "direction",
    "type",
    "text",
    "media",
    "payload",
    "external_id",
    "external_timestamp",
    "status",
    "sent_at",
    "delivered_at",
    "read_at",
    "failed_at",
    "error",
    "sender_user_id",
    "sender_agent_id",
    "created_at",
    "updated_at",
]
FAILED_ERROR = json.dumps({"code": 131026, "title": "Message undeliverable"})


def message_rows(
    rng: random.Random,
    *,
    account_id: int,
    conversations: Iterable[tuple[int, int, int]],
    sender_user_ids: list[int],
    sender_agent_ids: list[int],
    now: datetime,
    days: int,
    run: str,
) -> Iterator[Row]:
    """Each (conversation id, channel id, message count) in turn: times rising from a start within the
    last `days` days, inbound and outbound alternating at random, statuses as Meta reports them."""
    serial = 0
    for conversation_id, channel_id, count in conversations:
        if not count:
            continue
        start = moment(rng, now=now, days=days)
        span = (now - start).total_seconds()
        offsets = sorted(rng.random() * span for _ in range(count))
        for offset in offsets:
            serial += 1
            at = start + timedelta(seconds=offset)
            text = " ".join(rng.choices(WORDS, k=rng.randint(3, 14))).capitalize()
            external_id = f"wamid.scale{run}{serial}"
            if rng.random() < 0.55:
                yield (
                    account_id, conversation_id, channel_id, MessageDirection.INBOUND, "text", text,
                    EMPTY_JSON, EMPTY_JSON, external_id, at, MessageStatus.RECEIVED,
                    None, None, None, None, None, None, None, at, at,
                )  # fmt: skip
                continue
            roll = rng.random()
            sent = at + timedelta(seconds=1)
            delivered: datetime | None = sent
            read: datetime | None = min(sent + timedelta(minutes=2), now)
            failed: datetime | None = None
            status, error = MessageStatus.READ, None
            if roll < 0.03:
                status, delivered, read, failed, error = MessageStatus.FAILED, None, None, sent, FAILED_ERROR
            elif roll < 0.15:
                status, read = MessageStatus.DELIVERED, None
            elif roll < 0.2:
                status, delivered, read = MessageStatus.SENT, None, None
            by_agent = sender_agent_ids and (not sender_user_ids or rng.random() < 0.4)
            yield (
                account_id, conversation_id, channel_id, MessageDirection.OUTBOUND, "text", text,
                EMPTY_JSON, EMPTY_JSON, external_id, None, status, sent, delivered, read, failed, error,
                None if by_agent or not sender_user_ids else rng.choice(sender_user_ids),
                rng.choice(sender_agent_ids) if by_agent else None, at, at,
            )  # fmt: skip


LEAD_COLUMNS = [
    "account_id",
    "name",
    "email",
    "phone",
    "company",
    "source",
    "status",
    "score",
    "contact_id",
    "metadata",
    "created_at",
    "updated_at",
]
LEAD_STATUSES = (
    [LeadStatus.NEW] * 4 + [LeadStatus.QUALIFIED] * 2 + [LeadStatus.NURTURE, LeadStatus.WON, LeadStatus.LOST]
)


def lead_rows(
    rng: random.Random, *, account_id: int, contacts: list[tuple[int, str, str]], now: datetime, days: int
) -> Iterator[Row]:
    """Leads of random contacts (id, name, phone), most from WhatsApp."""
    while True:
        contact_id, name, phone = rng.choice(contacts)
        created = moment(rng, now=now, days=days)
        email = f"{name.lower().replace(' ', '.')}@{rng.choice(COMPANIES).lower().replace(' ', '')}.example"
        yield (
            account_id, name, email, phone, rng.choice(COMPANIES), rng.choice(LEAD_SOURCES),
            rng.choice(LEAD_STATUSES), rng.randint(0, 100), contact_id, EMPTY_JSON, created, created,
        )  # fmt: skip


def conversations_recount(*, account_id: int) -> int:
    """Set each conversation's created_at (its first message's time), last_message_at, last_inbound_at
    and unread_count (its inbound messages after its last outbound one) from its messages, in one
    statement. Returns the rows updated."""
    messages = Message.objects.filter(conversation=OuterRef("pk")).order_by("-created_at")
    inbound = messages.filter(direction=MessageDirection.INBOUND)
    last_outbound = Subquery(
        Message.objects.filter(conversation=OuterRef(OuterRef("pk")), direction=MessageDirection.OUTBOUND)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    unread = (
        Message.objects.filter(conversation=OuterRef("pk"), direction=MessageDirection.INBOUND)
        .filter(created_at__gt=Coalesce(last_outbound, Value(EPOCH)))
        .order_by()
        .values("conversation")
        .annotate(n=Count("id"))
        .values("n")
    )
    first = Message.objects.filter(conversation=OuterRef("pk")).order_by("created_at").values("created_at")[:1]
    return Conversation.objects.filter(account_id=account_id).update(
        created_at=Coalesce(Subquery(first), F("created_at")),
        last_message_at=Subquery(messages.values("created_at")[:1]),
        last_inbound_at=Subquery(inbound.values("created_at")[:1]),
        unread_count=Coalesce(Subquery(unread), Value(0)),
    )
