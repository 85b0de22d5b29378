"""How the audit log names contacts, conversations, leads and WhatsApp numbers, and the sentence of each of its actions
(accounts/web/audit_sentences.py; registered by the app's ready())."""

from __future__ import annotations

from typing import Any

from accounts.web.audit_sentences import TargetKind, audit_vocabulary_register, url_or_blank


def _contact_name(contact: Any) -> str:
    return str(contact.name or contact.phone or contact.wa_id) if contact is not None else "a customer"


KINDS = [
    TargetKind("inbox.lead", lambda lead: lead.name, lambda lead: url_or_blank("leads_web:edit", lead.pk)),
    TargetKind("inbox.contact", _contact_name),
    TargetKind(
        "inbox.conversation",
        lambda c: _contact_name(c.contact),
        lambda c: url_or_blank("inbox_web:conversation", c.pk),
        related=("contact",),
    ),
    TargetKind(
        "inbox.message",
        lambda m: _contact_name(m.conversation.contact),
        lambda m: url_or_blank("inbox_web:conversation", m.conversation_id),
        related=("conversation__contact",),
    ),
    TargetKind(
        "inbox.channel",
        lambda c: c.name or c.display_phone_number,
        lambda c: url_or_blank("settings_web:channel_edit", c.pk),
    ),
]

PHRASES = {
    "channel.created": "{actor} connected the WhatsApp number {target}",
    "channel.updated": "{actor} changed the WhatsApp number {target}",
    "sandbox.customer_message": "{actor} wrote to the sandbox number {target} as the customer {wa_id}",
    "sandbox.failure_set": "{actor} set the failure test of the sandbox number {target} to {failure}",
    "contact.created": "{actor} added the contact {target}",
    "contact.updated": "{actor} changed the contact {target}",
    "contact.deleted": "{actor} deleted a contact",
    "lead.created": "{actor} added the lead {target}",
    "lead.updated": "{actor} changed the lead {target}",
    "lead.deleted": "{actor} deleted a lead",
    "conversation.created": "A conversation with {target} began",
    "conversation.updated": "{actor} updated the conversation with {target}",
    "conversation.handoff": "{actor} handed over the conversation with {target}",
    "message.sent": "{actor} replied to {target}",
    "router.updated": "{actor} changed the n8n router",
    "router.deleted": "{actor} removed the n8n router",
}


def register() -> None:
    audit_vocabulary_register(kinds=KINDS, phrases=PHRASES)
