"""Demo content of the inbox for `manage.py seed_demo`: a WhatsApp number, customers writing to it,
conversations in every state with messages of many kinds, labels and leads.

The number is a sandbox number (inbox/services/sandbox.py): no Meta account is needed, a person
writes to it as a customer in the customer simulator, and replies tick ✓✓ without leaving the
machine. It signs its notifications with the server's WHATSAPP_APP_SECRET when one is set (so a
tool that posts test notifications signed with it keeps working), else with a secret of its own.

Safe to run again: what exists is left as it is (a conversation already there keeps its messages);
a demo number an earlier version seeded as a Meta number becomes a sandbox number.
The number's `phone_number_id` is fixed, so a webhook notification for `DEMO_PHONE_NUMBER_ID`
lands in the demo tenant's inbox (the browser tests rely on it).
"""

from __future__ import annotations

import secrets
import struct
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management.base import OutputWrapper
from django.db import transaction
from django.utils import timezone

from accounts.models import Account, User
from inbox.models import (
    Channel,
    Contact,
    Conversation,
    ConversationStatus,
    Label,
    Lead,
    LeadStatus,
    Message,
    MessageDirection,
    MessageStatus,
)
from inbox.services.webhooks import forget_app_secret

DEMO_PHONE_NUMBER_ID = "100000000000001"
DEMO_DISPLAY_PHONE_NUMBER = "+1 555 010 0001"
DEMO_BUSINESS_ACCOUNT_ID = "100000000000900"
# What earlier seeds stored as the demo number's access token (it was never shown to Meta).
_OLD_DEMO_ACCESS_TOKEN = "demo-access-token"

ADMIN_EMAIL = "admin@demo.skybot.local"
AGENT_EMAIL = "agent@demo.skybot.local"


@dataclass
class Say:
    """One message of a demo conversation, `minutes` before the seed runs."""

    minutes: int
    direction: str
    type: str
    text: str = ""
    status: str = ""
    by: str = ""  # the sender's email, for replies
    media: dict[str, Any] = field(default_factory=dict)
    payload: dict[str, Any] = field(default_factory=dict)
    error: dict[str, Any] | None = None


@dataclass
class Thread:
    wa_id: str
    name: str
    email: str = ""
    status: str = ConversationStatus.OPEN
    assignee: str = ""
    labels: tuple[str, ...] = ()
    unread: int = 0
    snooze_hours: int = 0
    messages: list[Say] = field(default_factory=list)


IN, OUT = MessageDirection.INBOUND, MessageDirection.OUTBOUND
DAY = 24 * 60

THREADS = [
    Thread(
        wa_id="15550100101",
        name="Sheena Nelson",
        email="sheena@nelson-interiors.example",
        labels=("vip",),
        unread=2,
        messages=[
            Say(45, IN, "text", "Hi! Do you ship the Aurora lamp to Lisbon?"),
            Say(40, OUT, "text", "Hi Sheena! Yes, we ship to Portugal in 3–5 days.", MessageStatus.READ, AGENT_EMAIL),
            Say(38, IN, "reaction", "👍", payload={"reaction": {"emoji": "👍"}}),
            Say(6, IN, "image", "Is this the one in brass?"),
            Say(5, IN, "text", "And does it come in black?"),
        ],
    ),
    Thread(
        wa_id="15550100102",
        name="Marcus Chen",
        status=ConversationStatus.PENDING,
        assignee=AGENT_EMAIL,
        labels=("orders",),
        messages=[
            Say(180, IN, "text", "Where is my order #1042?"),
            Say(
                170,
                OUT,
                "template",
                "[template order_update]",
                MessageStatus.DELIVERED,
                AGENT_EMAIL,
                payload={
                    "type": "template",
                    "template": {
                        "name": "order_update",
                        "language": {"code": "en_US"},
                        "components": [
                            {"type": "body", "parameters": [{"type": "text", "text": t} for t in ("#1042", "Friday")]}
                        ],
                    },
                },
            ),
            Say(125, IN, "button", "Track order", payload={"button": {"text": "Track order", "payload": "track"}}),
            Say(
                122,
                OUT,
                "text",
                "It left our warehouse this morning. Tracking: ZX-88120.",
                MessageStatus.FAILED,
                AGENT_EMAIL,
                error={
                    "code": 131026,
                    "title": "Message undeliverable",
                    "message": "The recipient's phone could not be reached.",
                },
            ),
            Say(120, OUT, "text", "Sending it again: tracking ZX-88120.", MessageStatus.DELIVERED, AGENT_EMAIL),
        ],
    ),
    Thread(
        wa_id="15550100103",
        name="Priya Sharma",
        email="priya@sharma-co.example",
        status=ConversationStatus.RESOLVED,
        assignee=ADMIN_EMAIL,
        messages=[
            Say(
                21 * 60,
                IN,
                "location",
                "Showroom, Rua Augusta 100, Lisbon",
                payload={
                    "location": {
                        "latitude": 38.7107,
                        "longitude": -9.1366,
                        "name": "Showroom",
                        "address": "Rua Augusta 100, Lisbon",
                    }
                },
            ),
            Say(21 * 60 - 1, IN, "text", "Is this your showroom? Are you open on Sunday?"),
            Say(20 * 60 + 30, OUT, "text", "Yes! Sundays from 10:00 to 18:00.", MessageStatus.READ, ADMIN_EMAIL),
            Say(20 * 60, IN, "reaction", "❤️", payload={"reaction": {"emoji": "❤️"}}),
        ],
    ),
    Thread(
        wa_id="15550100104",
        name="Lucas Oliveira",
        labels=("billing",),
        messages=[
            Say(
                3 * DAY + 12,
                IN,
                "document",
                "Invoice attached",
                media={
                    "filename": "invoice-2291.pdf",
                    "mime_type": "application/pdf",
                    "download_status": "failed",
                    "download_error": "Media expired on WhatsApp's servers",
                },
            ),
            Say(3 * DAY + 10, IN, "text", "Can you correct the VAT number on this invoice?"),
            Say(
                3 * DAY,
                OUT,
                "text",
                "We'll check with accounting and come back to you.",
                MessageStatus.SENT,
                ADMIN_EMAIL,
            ),
        ],
    ),
    Thread(
        wa_id="15550100105",
        name="Amara Okafor",
        status=ConversationStatus.SNOOZED,
        snooze_hours=20,
        messages=[
            Say(95, IN, "text", "Hello, can I choose a delivery slot?"),
            Say(
                90,
                IN,
                "interactive",
                "Weekend delivery",
                payload={
                    "interactive": {"type": "list_reply", "list_reply": {"id": "weekend", "title": "Weekend delivery"}}
                },
            ),
            Say(80, IN, "contacts", "Chidi Okafor"),
            Say(75, OUT, "text", "Thanks! We'll call Chidi on Saturday morning.", MessageStatus.READ, AGENT_EMAIL),
        ],
    ),
    Thread(
        wa_id="15550100106",
        name="Tom Becker",
        assignee=ADMIN_EMAIL,
        unread=1,
        messages=[
            Say(14, IN, "unsupported", payload={"type": "unsupported", "errors": [{"code": 131051}]}),
            Say(
                12,
                IN,
                "audio",
                media={"mime_type": "audio/ogg; codecs=opus", "voice": True, "download_status": "pending"},
            ),
            Say(
                10,
                OUT,
                "text",
                "Hi Tom, we could not open that message. Could you type it?",
                MessageStatus.SENT,
                ADMIN_EMAIL,
            ),
            Say(2, IN, "text", "Sure: the bulb of my Aurora lamp flickers."),
        ],
    ),
]

LEADS: list[dict[str, Any]] = [
    {
        "name": "Sheena Nelson",
        "company": "Nelson Interiors",
        "status": LeadStatus.QUALIFIED,
        "score": 70,
        "wa_id": "15550100101",
    },
    {"name": "Marcus Chen", "status": LeadStatus.NEW, "score": 20, "wa_id": "15550100102"},
    {"name": "Priya Sharma", "company": "Sharma & Co", "status": LeadStatus.WON, "score": 90, "wa_id": "15550100103"},
    {
        "name": "Helena Costa",
        "company": "Costa Arquitetos",
        "email": "helena@costa.example",
        "status": LeadStatus.NURTURE,
        "score": 45,
        "source": "website",
    },
    {"name": "Jonas Weber", "company": "Weber GmbH", "status": LeadStatus.LOST, "score": 10, "source": "referral"},
]


def seed_demo(account: Account, *, stdout: OutputWrapper) -> None:
    """Give the demo tenant a WhatsApp number with conversations, labels and leads."""
    with transaction.atomic():
        channel, created = Channel.objects.get_or_create(
            phone_number_id=DEMO_PHONE_NUMBER_ID,
            defaults={
                "account": account,
                "name": "Demo shop",
                "display_phone_number": DEMO_DISPLAY_PHONE_NUMBER,
                "business_account_id": DEMO_BUSINESS_ACCOUNT_ID,
                "access_token": "",
                "is_sandbox": True,
                "app_secret": "" if settings.WHATSAPP_APP_SECRET else secrets.token_urlsafe(32),
            },
        )
        if channel.account_id != account.pk:
            stdout.write(f"  WhatsApp number {DEMO_PHONE_NUMBER_ID} belongs to another tenant: no demo inbox.\n")
            return
        _make_sandbox(channel)
        people = {user.email: user for user in User.objects.filter(account=account)}
        now = timezone.now()
        made = sum(_thread(account, channel, spec, people, now) for spec in THREADS)
        leads = _leads(account)
    stdout.write(
        f"  inbox: {'created' if created else 'found'} sandbox WhatsApp number {DEMO_DISPLAY_PHONE_NUMBER} "
        f"(phone_number_id {DEMO_PHONE_NUMBER_ID}), {made} new conversations, {leads} new leads\n"
    )


def _make_sandbox(channel: Channel) -> None:
    """The demo number as a sandbox number that can sign its notifications (an earlier seed made it
    a Meta number, with a made-up token, that could neither send nor sign)."""
    changed: list[str] = []
    if not channel.is_sandbox and channel.access_token in ("", _OLD_DEMO_ACCESS_TOKEN):
        channel.is_sandbox, channel.access_token = True, ""
        changed += ["is_sandbox", "access_token"]
    if channel.is_sandbox and not (channel.app_secret or settings.WHATSAPP_APP_SECRET):
        channel.app_secret = secrets.token_urlsafe(32)
        changed.append("app_secret")
    if changed:
        channel.save(update_fields=[*changed, "updated_at"])
        forget_app_secret(channel.phone_number_id)


def _thread(account: Account, channel: Channel, spec: Thread, people: dict[str, User], now: datetime) -> bool:
    contact, _ = Contact.objects.get_or_create(
        account=account, wa_id=spec.wa_id, defaults={"phone": spec.wa_id, "name": spec.name, "email": spec.email}
    )
    if Conversation.objects.filter(channel=channel, contact=contact).exists():
        return False
    at = {say.minutes: now - timedelta(minutes=say.minutes) for say in spec.messages}
    inbound = [at[say.minutes] for say in spec.messages if say.direction == IN]
    conversation = Conversation.objects.create(
        account=account,
        channel=channel,
        contact=contact,
        status=spec.status,
        snoozed_until=now + timedelta(hours=spec.snooze_hours) if spec.snooze_hours else None,
        assignee=people.get(spec.assignee),
        last_message_at=max(at.values()),
        last_inbound_at=max(inbound) if inbound else None,
        unread_count=spec.unread,
    )
    if spec.labels:
        conversation.labels.set([Label.objects.get_or_create(account=account, name=name)[0] for name in spec.labels])
    messages = [_message(conversation, say, at[say.minutes], people, index) for index, say in enumerate(spec.messages)]
    Message.objects.bulk_create(messages)
    for message, say in zip(messages, spec.messages, strict=True):
        message.created_at = at[say.minutes]  # the database write stamped "now"
    Message.objects.bulk_update(messages, ["created_at"])
    return True


def _message(conversation: Conversation, say: Say, when: datetime, people: dict[str, User], index: int) -> Message:
    media = dict(say.media)
    if say.type == "image":
        media = {"id": f"demo-{conversation.contact.wa_id}-{index}", "mime_type": "image/png", "caption": say.text}
        media.update(_demo_image(conversation))
    outbound = say.direction == OUT
    status = say.status or MessageStatus.RECEIVED
    reached = [MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ]
    return Message(
        account_id=conversation.account_id,
        conversation=conversation,
        channel_id=conversation.channel_id,
        direction=say.direction,
        type=say.type,
        text=say.text,
        media=media,
        payload=say.payload or ({"type": "text", "text": {"body": say.text}} if outbound else {"type": say.type}),
        external_id=f"wamid.DEMO{conversation.contact.wa_id}{index:02d}",
        external_timestamp=None if outbound else when,
        status=status,
        sent_at=when if outbound and status in reached else None,
        delivered_at=when + timedelta(seconds=20) if status in reached[1:] else None,
        read_at=when + timedelta(minutes=1) if status == MessageStatus.READ else None,
        failed_at=when + timedelta(seconds=5) if status == MessageStatus.FAILED else None,
        error=say.error,
        sender_user=people.get(say.by) if outbound else None,
    )


def _demo_image(conversation: Conversation) -> dict[str, Any]:
    """A small picture (a lamp on a warm background), stored where downloaded media goes."""
    name = f"whatsapp/{conversation.account_id}/{conversation.channel_id}/demo-aurora-lamp.png"
    if not default_storage.exists(name):
        name = default_storage.save(name, ContentFile(_lamp_png(240, 180)))
    return {"download_status": "stored", "file": name, "size": default_storage.size(name)}


def _lamp_png(width: int, height: int) -> bytes:
    """A PNG drawn pixel by pixel: no image library needed for one demo picture."""
    rows = []
    for y in range(height):
        row = bytearray([0])  # filter: none
        for x in range(width):
            r, g, b = 245 - y // 6, 222 - y // 5, 190 - y // 4  # warm gradient
            shade_x, shade_y = abs(x - width // 2), y - 40
            if 0 <= shade_y < 50 and shade_x < 20 + shade_y:  # the shade
                r, g, b = 181, 142, 66
            elif (90 <= y < 150 and shade_x < 4) or (150 <= y < 158 and shade_x < 30):  # the stem
                r, g, b = 120, 96, 50
            row += bytes((max(r, 0), max(g, 0), max(b, 0)))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows)))
        + chunk(b"IEND", b"")
    )


def _leads(account: Account) -> int:
    made = 0
    for spec in LEADS:
        values = dict(spec)
        wa_id = values.pop("wa_id", None)  # the demo customer the lead came from, if any
        contact = Contact.objects.filter(account=account, wa_id=wa_id).first() if wa_id else None
        defaults = {"source": "whatsapp", **values, "contact": contact}
        _, created = Lead.objects.get_or_create(account=account, name=values["name"], defaults=defaults)
        made += created
    return made
