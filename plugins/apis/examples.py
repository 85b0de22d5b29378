"""Example requests and answers of the plugins API: uploading, reviewing and switching plugins
(staff), the catalogue, a tenant's installations and its reviews.

The same imaginary tenant as `accounts/apis/examples.py` (a dental clinic in Lisbon, account 12)
installs `faq-answerer` by SkyBot Labs. `core/tests/test_openapi_examples.py` publishes a plugin with
this manifest (`CONFIG_SCHEMA`, `PERMISSIONS`) and calls each operation with its request example.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiExample

from core.openapi import example_page, example_request, example_response

# --- the plugin ---------------------------------------------------------------------------------

PERMISSIONS = ["messages:send", "conversations:write", "storage", "http:api-free.deepl.com"]
# As `PermissionSerializer` words them (the SDK's `PERMISSIONS`, and the sentence for `http:<host>`).
PERMISSIONS_IN_WORDS = [
    {"permission": "messages:send", "description": "Answer the customer in the conversation."},
    {
        "permission": "conversations:write",
        "description": "Label a conversation, set its priority, hand it to the team.",
    },
    {"permission": "storage", "description": "Keep its own small key/value data for this tenant."},
    {
        "permission": "http:api-free.deepl.com",
        "description": "Call api-free.deepl.com over HTTPS or HTTP, through the platform.",
    },
]
CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "faqs": {
            "type": "array",
            "title": "Questions and answers",
            "minItems": 1,
            "maxItems": 200,
            "items": {
                "type": "object",
                "properties": {
                    "question": {"type": "string", "title": "Question", "minLength": 3, "maxLength": 300},
                    "answer": {"type": "string", "title": "Answer", "minLength": 1, "maxLength": 2000},
                    "keywords": {
                        "type": "array",
                        "title": "Keywords",
                        "items": {"type": "string", "minLength": 2, "maxLength": 50},
                        "maxItems": 20,
                        "default": [],
                    },
                },
                "required": ["question", "answer"],
                "additionalProperties": False,
            },
        },
        "min_score": {"type": "number", "title": "How sure before answering", "minimum": 0.1, "maximum": 1},
        "handoff_message": {"type": "string", "title": "Hand-over message", "minLength": 1, "maxLength": 500},
        "deepl_api_key": {
            "type": "string",
            "title": "DeepL API key",
            "description": "Optional: answer in the customer's language, translated by DeepL.",
            "secret": True,
        },
    },
    "required": ["faqs"],
    "additionalProperties": False,
}
DESCRIPTION = (
    "Answers your customers' frequent questions from a list you write, in their words. When no question "
    "matches, or the customer asks for a person, it hands the conversation to your team."
)
HOMEPAGE = "https://labs.skybot.example/plugins/faq-answerer"

PLUGIN: dict[str, Any] = {
    "plugin_id": "faq-answerer",
    "name": "FAQ answerer",
    "author": "SkyBot Labs",
    "description": DESCRIPTION,
    "category": "SUPPORT",
    "homepage": HOMEPAGE,
    "icon_url": "/marketplace/faq-answerer/files/icon.svg",
    "is_verified": True,
    "is_enabled": True,
    "price": None,
    "installs": 214,
    "rating": {"average": 4.6, "count": 38},
    "published_at": "2026-03-02T10:15:00Z",
    "version": "1.0.0",
    "permissions": PERMISSIONS_IN_WORDS,
    "config_schema": CONFIG_SCHEMA,
}

# --- staff --------------------------------------------------------------------------------------

PLUGIN_PUBLISH = [
    # `example_request` documents JSON bodies; this upload is multipart.
    OpenApiExample(
        "Request",
        value={
            "package": "faq-answerer-1.1.0.zip",
            "changelog": "Forgives more typos; keywords match with or without accents.",
            "publish": True,
        },
        summary="Request",
        request_only=True,
        media_type="multipart/form-data",
    ),
    example_response({**PLUGIN, "version": "1.1.0"}, status=201),
]
PLUGIN_ADMIN_UPDATE = [
    example_request(
        {"is_enabled": False, "disabled_reason": "Answers with another clinic's prices; off until 1.0.1 fixes it."}
    ),
    example_response({**PLUGIN, "is_enabled": False}),
]

# --- catalogue ----------------------------------------------------------------------------------

PLUGIN_LIST = [example_response(example_page(PLUGIN, path="/api/v1/plugins"))]
VERSIONS = [
    {
        "version": "1.0.0",
        "changelog": "First release: answers from your list, hands over when unsure.",
        "published_at": "2026-03-02T10:15:00Z",
        "permissions": PERMISSIONS,
    }
]
PLUGIN_DETAIL = [
    example_response(
        {
            **PLUGIN,
            "versions": VERSIONS,
            "rating_histogram": {"5": 27, "4": 8, "3": 2, "2": 1, "1": 0},
            "installed": True,
        }
    )
]

# --- a tenant's installations -------------------------------------------------------------------

CONFIG: dict[str, Any] = {
    "faqs": [
        {
            "question": "What are your opening hours?",
            "answer": "We are open Monday to Friday, 9:00 to 19:00, and Saturday, 9:00 to 13:00.",
            "keywords": ["horário", "hours", "open"],
        },
        {
            "question": "Do you accept my dental insurance?",
            "answer": "We work with Médis, Multicare and AdvanceCare: bring your card to the appointment.",
            "keywords": ["seguro", "insurance"],
        },
    ],
    "min_score": 0.5,
    "handoff_message": "Vou chamar alguém da nossa equipa; respondemos aqui em breve.",
}
INSTALLATION: dict[str, Any] = {
    "plugin_id": "faq-answerer",
    "name": "FAQ answerer",
    "account": 12,
    "version": "1.0.0",
    "config": CONFIG,
    "secret_fields": ["deepl_api_key"],
    "permissions": PERMISSIONS_IN_WORDS,
    "agent_template": "plugin-faq-answerer",
    "is_active": True,
    "disabled_reason": "",
    "consecutive_failures": 0,
    "update_available": None,
    "created_at": "2026-05-14T09:30:12.402118Z",
}
INSTALLED_LIST = [example_response(INSTALLATION)]  # one item: the list view answers a plain array of them
INSTALLED_DETAIL = [example_response(INSTALLATION)]
INSTALLED_UPDATE = [
    # `deepl_api_key` left out: the stored key stays
    example_request({"config": {**CONFIG, "min_score": 0.6}}),
    example_response({**INSTALLATION, "config": {**CONFIG, "min_score": 0.6}}),
]
INSTALL = [
    example_request({"config": {**CONFIG, "deepl_api_key": "f63c02c5-f056-4a0d-a0b3-2f1c0a8e4b7e:fx"}}),
    example_response(INSTALLATION, status=201),
]
UPGRADE = [
    example_request({"accept_permissions": ["leads:write"]}),
    example_response(
        {
            **INSTALLATION,
            "version": "1.1.0",
            "permissions": [
                *PERMISSIONS_IN_WORDS,
                {"permission": "leads:write", "description": "Update the contact's lead: status, score, notes."},
            ],
        }
    ),
]

# --- reviews ------------------------------------------------------------------------------------

REVIEW: dict[str, Any] = {
    "id": 41,
    "rating": 5,
    "text": "Answers half of our WhatsApp questions before we open. Setting up the questions took ten minutes.",
    "author": "Marta S.",
    "version": "1.0.0",
    "is_yours": True,
    "created_at": "2026-05-20T17:02:44.118204Z",
    "edited_at": None,
}
REVIEWS_LIST = [example_response(example_page(REVIEW, path="/api/v1/plugins/faq-answerer/reviews"))]
REVIEW_CREATE = [
    example_request({"rating": 5, "text": REVIEW["text"]}),
    example_response(REVIEW, status=201),
]
REVIEW_UPDATE = [
    example_request({"rating": 4, "text": "Still great; it once answered a price question with the opening hours."}),
    example_response(
        {
            **REVIEW,
            "rating": 4,
            "text": "Still great; it once answered a price question with the opening hours.",
            "edited_at": "2026-06-02T08:11:09.550327Z",
        }
    ),
]
VERSION_REVIEW = [
    example_request({"status": "yanked", "reason": "Sends customers' messages to a host its manifest does not name."}),
    example_response({**PLUGIN, "version": "1.0.0"}),
]

EXECUTE = [
    example_request(
        {"message": "A que horas abrem ao sábado?", "metadata": {"contact": {"name": "João Silva"}}},
    ),
    example_response(
        {
            "ok": True,
            "output": {
                "response": "We are open Monday to Friday, 9:00 to 19:00, and Saturday, 9:00 to 13:00.",
                "actions": [],
                "metadata": {},
            },
            "logs": [{"level": "info", "message": "matched 'What are your opening hours?' (score 0.83)"}],
            "duration_ms": 6.4,
        },
        name="Answered",
    ),
    example_response(
        {
            "ok": True,
            "output": {
                "response": "Vou chamar alguém da nossa equipa; respondemos aqui em breve.",
                "actions": [{"type": "handoff", "params": {"reason": "asked for a person"}}],
                "metadata": {},
            },
            "logs": [{"level": "info", "message": "handing over: asked for a person"}],
            "duration_ms": 4.9,
        },
        name="Handed over",
    ),
    example_response(
        {
            "ok": False,
            "error": {"code": "plugin_error", "message": "PluginError: DeepL refused the API key (403)."},
            "logs": [{"level": "warning", "message": "translating to pt-PT: DeepL answered 403 Forbidden"}],
        },
        name="Plugin failed",
    ),
]
