"""Example requests and answers of the inbox API: channels, contacts, conversations, messages,
leads and the n8n router.

The same imaginary tenant as `accounts/apis/examples.py` (account 12, a dental clinic in Lisbon):
its WhatsApp number is channel 4, João Silva is contact 1284 and writes in conversation 5810.
"""

from __future__ import annotations

from typing import Any

from core.openapi import EXAMPLE_SITE, example_page, example_request, example_response

# --- channels -----------------------------------------------------------------------------------

CHANNEL: dict[str, Any] = {
    "id": 4,
    "account": 12,
    "name": "Reception",
    "phone_number_id": "106540352242922",
    "display_phone_number": "+351211234567",
    "business_account_id": "102290129340398",
    "is_active": True,
    "is_sandbox": False,
    "has_app_secret": True,
    "has_verify_token": True,
    "webhook_url": f"{EXAMPLE_SITE}/webhooks/whatsapp",
    "created_at": "2025-11-03T10:40:12.550981Z",
    "updated_at": "2026-04-22T16:05:47.113052Z",
}
CHANNEL_LIST = [example_response(example_page(CHANNEL, path="/api/v1/channels"))]
CHANNEL_CREATE = [
    example_request(
        {
            "name": "Reception",
            "phone_number_id": "106540352242922",
            "display_phone_number": "+351211234567",
            "business_account_id": "102290129340398",
            "access_token": "EAAGm0PX4ZCpsBAKZCl2xLq9ZBvYw8RZC3pE7ZAmZCkT1ZBv0ZD",
            "app_secret": "9f2b6c1d4e8a7b3c5d0e1f2a3b4c5d6e",
            "verify_token": "sorriso-meta-verify-5c1d",
        }
    ),
    example_response({**CHANNEL, "updated_at": CHANNEL["created_at"]}, status=201),
]
CHANNEL_DETAIL = [example_response(CHANNEL)]
CHANNEL_SANDBOX_CREATE = [
    example_request({"name": "Sandbox"}),
    example_response(
        {
            **CHANNEL,
            "id": 9,
            "name": "Sandbox",
            "phone_number_id": "048213906551274",
            "display_phone_number": "+1 555 0155 1274",
            "business_account_id": "",
            "is_sandbox": True,
            "has_verify_token": False,
            "created_at": "2026-05-14T09:02:11.204518Z",
            "updated_at": "2026-05-14T09:02:11.204518Z",
        },
        status=201,
    ),
]
CHANNEL_UPDATE = [
    example_request({"name": "Reception (Lisbon)", "access_token": "EAAGm0PX4ZCpsBANewTokenAfterRotation2026ZD"}),
    example_response({**CHANNEL, "name": "Reception (Lisbon)", "updated_at": "2026-05-14T09:40:03.771245Z"}),
]

# --- contacts -----------------------------------------------------------------------------------

CONTACT: dict[str, Any] = {
    "id": 1284,
    "wa_id": "351912345678",
    "phone": "+351912345678",
    "name": "João Silva",
    "email": "joao.silva@example.com",
    "attributes": {"preferred_language": "pt", "patient_number": "P-20931"},
    "created_at": "2026-05-14T09:12:03.498120Z",
    "updated_at": "2026-05-14T09:15:40.021377Z",
}
CONTACT_LIST = [example_response(example_page(CONTACT, path="/api/v1/contacts"))]
CONTACT_CREATE = [
    example_request(
        {
            "wa_id": "351934567890",
            "phone": "+351934567890",
            "name": "Marta Lopes",
            "email": "marta.lopes@example.com",
            "attributes": {"preferred_language": "en"},
        }
    ),
    example_response(
        {
            "id": 1291,
            "wa_id": "351934567890",
            "phone": "+351934567890",
            "name": "Marta Lopes",
            "email": "marta.lopes@example.com",
            "attributes": {"preferred_language": "en"},
            "created_at": "2026-05-14T10:02:44.871002Z",
            "updated_at": "2026-05-14T10:02:44.871002Z",
        },
        status=201,
    ),
]
CONTACT_DETAIL = [example_response(CONTACT)]
CONTACT_UPDATE = [
    example_request(
        {"email": "joao.silva@example.com", "attributes": {"preferred_language": "pt", "patient_number": "P-20931"}}
    ),
    example_response(CONTACT),
]

# --- conversations and messages -----------------------------------------------------------------

CONVERSATION: dict[str, Any] = {
    "id": 5810,
    "status": "open",
    "snoozed_until": None,
    "priority": "normal",
    "assignee": 32,
    "agent": None,
    "labels": ["new-patient"],
    "channel": 4,
    "contact": {"id": 1284, "wa_id": "351912345678", "name": "João Silva"},
    "last_message_at": "2026-05-14T09:12:03.512345Z",
    "last_inbound_at": "2026-05-14T09:12:03.512345Z",
    "unread_count": 2,
    "created_at": "2026-05-14T09:12:03.505311Z",
    "updated_at": "2026-05-14T09:12:03.530877Z",
}
CONVERSATION_LIST = [example_response(example_page(CONVERSATION, path="/api/v1/conversations"))]
CONVERSATION_DETAIL = [example_response(CONVERSATION)]
CONVERSATION_UPDATE = [
    example_request({"priority": "high", "assignee": 32, "labels": ["new-patient", "urgent"]}),
    example_response(
        {
            **CONVERSATION,
            "priority": "high",
            "labels": ["new-patient", "urgent"],
            "updated_at": "2026-05-14T09:14:27.640118Z",
        }
    ),
]
CONVERSATION_READ = [example_response({**CONVERSATION, "unread_count": 0, "updated_at": "2026-05-14T09:14:02.318554Z"})]
CONVERSATION_HANDOFF = [
    example_request({"reason": "Asks about a refund for a treatment"}),
    example_response(
        {**CONVERSATION, "assignee": 32, "agent": None, "unread_count": 0, "updated_at": "2026-05-14T09:16:50.002981Z"}
    ),
]

INBOUND_MESSAGE: dict[str, Any] = {
    "id": 90211,
    "conversation": 5810,
    "direction": "in",
    "type": "text",
    "text": "Olá! Can I book a cleaning for next Tuesday?",
    "media": {},
    "external_id": "wamid.HBgMMzUxOTEyMzQ1Njc4FQIAEhggM0EyRjk1QzY3QjE4NDQ1RjhBQjQwQ0U5RDdFNDk3OEQA",
    "status": "received",
    "error": None,
    "sender_user": None,
    "sender_agent": None,
    "sent_at": None,
    "delivered_at": None,
    "read_at": None,
    "failed_at": None,
    "external_timestamp": "2026-05-14T09:12:01Z",
    "created_at": "2026-05-14T09:12:03.512345Z",
}
QUEUED_MESSAGE: dict[str, Any] = {
    **INBOUND_MESSAGE,
    "id": 90212,
    "direction": "out",
    "text": "Of course! We have 10:30 or 15:00 free on Tuesday. Which suits you?",
    "external_id": None,
    "status": "queued",
    "sender_user": 32,
    "external_timestamp": None,
    "created_at": "2026-05-14T09:13:40.227310Z",
}
MESSAGE_LIST = [example_response(example_page(INBOUND_MESSAGE, path="/api/v1/conversations/5810/messages"))]
MESSAGE_SEND = [
    example_request({"text": QUEUED_MESSAGE["text"]}, name="Text reply"),
    example_request(
        {"template": {"name": "appointment_reminder", "language": "pt_PT", "parameters": ["João", "Tuesday 10:30"]}},
        name="Template (outside the 24-hour window)",
    ),
    example_response(QUEUED_MESSAGE, status=202),
]

# --- leads --------------------------------------------------------------------------------------

LEAD: dict[str, Any] = {
    "id": 377,
    "name": "João Silva",
    "email": "joao.silva@example.com",
    "phone": "+351912345678",
    "company": "",
    "source": "whatsapp",
    "status": "new",
    "score": 40,
    "contact": 1284,
    "metadata": {"treatment": "cleaning", "utm_campaign": "spring-checkup"},
    "created_at": "2026-05-14T09:12:06.088412Z",
    "updated_at": "2026-05-14T09:12:06.088412Z",
}
LEAD_LIST = [example_response(example_page(LEAD, path="/api/v1/leads"))]
LEAD_CREATE = [
    example_request(
        {
            "name": "João Silva",
            "email": "joao.silva@example.com",
            "phone": "+351912345678",
            "source": "whatsapp",
            "score": 40,
            "contact": 1284,
            "metadata": {"treatment": "cleaning", "utm_campaign": "spring-checkup"},
        }
    ),
    example_response(LEAD, status=201),
]
LEAD_DETAIL = [example_response(LEAD)]
LEAD_UPDATE = [
    example_request({"status": "qualified", "score": 70}),
    example_response({**LEAD, "status": "qualified", "score": 70, "updated_at": "2026-05-14T11:30:19.554002Z"}),
]
LEAD_CSV = (
    "id,name,email,phone,company,source,status,score,contact_id,created_at\r\n"
    "377,João Silva,joao.silva@example.com,'+351912345678,,whatsapp,new,40,1284,2026-05-14T09:12:06.088412+00:00\r\n"
)
LEAD_EXPORT = [example_response(LEAD_CSV, name="CSV", media_type="text/csv")]

# --- n8n router ---------------------------------------------------------------------------------

ROUTER_SETTINGS: dict[str, Any] = {
    "account": 12,
    "in_use": "account",
    "config": {
        "url": "https://n8n.sorriso-dental.pt/webhook/skybot-inbound",
        "is_active": True,
        "has_secret": True,
        "created_at": "2026-03-02T15:20:44.901233Z",
        "updated_at": "2026-05-14T09:50:12.332105Z",
    },
    "master": {"name": "master-router", "url_configured": True},
}
ROUTER_DETAIL = [example_response(ROUTER_SETTINGS)]
ROUTER_UPDATE = [
    example_request(
        {
            "url": "https://n8n.sorriso-dental.pt/webhook/skybot-inbound",
            "secret": "n8n-signing-secret-2c7e9a41",
            "is_active": True,
        }
    ),
    example_response(ROUTER_SETTINGS),
]
