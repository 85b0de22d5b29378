"""Seed the agent template catalogue: at least one template per category, each with the JSON
Schema its configuration must satisfy and the skeleton of the workflow the runner executes."""

from django.db import migrations

GREETING = {"type": "string", "minLength": 1, "maxLength": 500, "description": "First message to a new contact."}
LANGUAGE = {
    "type": "string",
    "pattern": "^[a-z]{2}(-[A-Z]{2})?$",
    "default": "en",
    "description": "Language the agent answers in (BCP 47, e.g. en, pt-BR).",
}
TIME = {"type": "string", "pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}
BUSINESS_HOURS = {
    "type": "object",
    "description": "When people are available to take over.",
    "properties": {
        "timezone": {"type": "string", "minLength": 1, "description": "IANA time zone, e.g. Europe/Lisbon."},
        "days": {
            "type": "array",
            "items": {"enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
            "uniqueItems": True,
            "minItems": 1,
        },
        "open": TIME,
        "close": TIME,
    },
    "required": ["timezone", "days", "open", "close"],
    "additionalProperties": False,
}


def _schema(properties: dict, required: list[str]) -> dict:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _workflow(steps: list[dict]) -> dict:
    """The skeleton every template shares: a message trigger, its steps, and the reply/handoff ends."""
    return {
        "version": 1,
        "trigger": {"type": "message.inbound"},
        "steps": [
            *steps,
            {"id": "reply", "type": "reply", "text": "{{ steps.answer.output }}"},
        ],
        "on_error": {"type": "handoff", "reason": "runner_error"},
    }


TEMPLATES = [
    {
        "key": "sales-assistant",
        "name": "Sales assistant",
        "category": "SALES",
        "description": "Answers product questions from your catalogue, qualifies leads and offers discounts within your limit.",
        "config_schema": _schema(
            {
                "greeting": GREETING,
                "language": LANGUAGE,
                "product_catalog_url": {
                    "type": "string",
                    "format": "uri",
                    "pattern": "^https?://",
                    "description": "Where the agent reads products and prices (JSON or CSV).",
                },
                "max_discount_percent": {"type": "integer", "minimum": 0, "maximum": 40, "default": 0},
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$", "default": "USD"},
                "qualifying_questions": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1, "maxLength": 300},
                    "maxItems": 10,
                },
            },
            ["greeting", "product_catalog_url"],
        ),
        "workflow": _workflow(
            [
                {
                    "id": "catalogue",
                    "type": "http.fetch",
                    "url": "{{ config.product_catalog_url }}",
                    "cache_seconds": 900,
                },
                {"id": "intent", "type": "llm.classify", "labels": ["question", "buy", "discount", "human"]},
                {"id": "handoff", "type": "handoff", "when": "{{ steps.intent.label == 'human' }}"},
                {
                    "id": "answer",
                    "type": "llm.answer",
                    "context": ["catalogue"],
                    "rules": ["Never offer more than {{ config.max_discount_percent }}% discount."],
                },
            ]
        ),
    },
    {
        "key": "support-agent",
        "name": "Customer support",
        "category": "SUPPORT",
        "description": "Answers common questions from your knowledge base and hands the conversation to the team on request or on escalation keywords.",
        "config_schema": _schema(
            {
                "greeting": GREETING,
                "language": LANGUAGE,
                "knowledge_base_url": {"type": "string", "format": "uri", "pattern": "^https?://"},
                "escalation_keywords": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1, "maxLength": 50},
                    "uniqueItems": True,
                    "maxItems": 50,
                    "default": ["human", "agent", "complaint"],
                },
                "business_hours": BUSINESS_HOURS,
                "after_hours_message": {"type": "string", "maxLength": 500},
            },
            ["greeting"],
        ),
        "workflow": _workflow(
            [
                {"id": "escalate", "type": "match.keywords", "keywords": "{{ config.escalation_keywords }}"},
                {"id": "handoff", "type": "handoff", "when": "{{ steps.escalate.matched }}"},
                {"id": "knowledge", "type": "retrieve", "source": "{{ config.knowledge_base_url }}", "top_k": 4},
                {"id": "answer", "type": "llm.answer", "context": ["knowledge"]},
            ]
        ),
    },
    {
        "key": "market-intelligence",
        "name": "Market intelligence",
        "category": "INTELLIGENCE",
        "description": "Tags every conversation with topics and sentiment, and sends a digest of what customers ask about.",
        "config_schema": _schema(
            {
                "topics": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1, "maxLength": 60},
                    "minItems": 1,
                    "maxItems": 30,
                    "uniqueItems": True,
                },
                "competitors": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 20},
                "sentiment_analysis": {"type": "boolean", "default": True},
                "digest_email": {"type": "string", "format": "email", "pattern": "^[^@\\s]+@[^@\\s]+$"},
                "digest_frequency": {"enum": ["daily", "weekly"], "default": "weekly"},
            },
            ["topics"],
        ),
        "workflow": _workflow(
            [
                {"id": "classify", "type": "llm.classify", "labels": "{{ config.topics }}", "multi": True},
                {"id": "sentiment", "type": "llm.sentiment", "when": "{{ config.sentiment_analysis }}"},
                {"id": "answer", "type": "noop", "output": ""},
            ]
        ),
    },
    {
        "key": "billing-assistant",
        "name": "Billing assistant",
        "category": "FINANCE",
        "description": "Answers invoice and payment questions, sends payment links and reminds about due invoices.",
        "config_schema": _schema(
            {
                "greeting": GREETING,
                "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
                "payment_link_base_url": {"type": "string", "format": "uri", "pattern": "^https://"},
                "invoice_lookup_url": {"type": "string", "format": "uri", "pattern": "^https://"},
                "reminder_days_before_due": {"type": "integer", "minimum": 0, "maximum": 30, "default": 3},
                "max_refund_amount": {"type": "number", "minimum": 0, "default": 0},
            },
            ["greeting", "currency", "invoice_lookup_url"],
        ),
        "workflow": _workflow(
            [
                {"id": "intent", "type": "llm.classify", "labels": ["invoice", "payment", "refund", "human"]},
                {
                    "id": "invoice",
                    "type": "http.fetch",
                    "url": "{{ config.invoice_lookup_url }}",
                    "when": "{{ steps.intent.label == 'invoice' }}",
                },
                {"id": "handoff", "type": "handoff", "when": "{{ steps.intent.label in ['refund', 'human'] }}"},
                {"id": "answer", "type": "llm.answer", "context": ["invoice"]},
            ]
        ),
    },
    {
        "key": "hr-recruiter",
        "name": "Recruiting assistant",
        "category": "HR",
        "description": "Answers candidates about open positions, collects their details and books interviews.",
        "config_schema": _schema(
            {
                "greeting": GREETING,
                "language": LANGUAGE,
                "company_name": {"type": "string", "minLength": 1, "maxLength": 100},
                "open_positions": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "properties": {
                            "title": {"type": "string", "minLength": 1, "maxLength": 100},
                            "location": {"type": "string", "maxLength": 100},
                            "remote": {"type": "boolean", "default": False},
                        },
                        "required": ["title"],
                        "additionalProperties": False,
                    },
                },
                "interview_booking_url": {"type": "string", "format": "uri", "pattern": "^https://"},
                "collect_fields": {
                    "type": "array",
                    "items": {"enum": ["name", "email", "phone", "cv_url", "linkedin", "availability"]},
                    "uniqueItems": True,
                    "default": ["name", "email", "cv_url"],
                },
            },
            ["greeting", "company_name", "open_positions"],
        ),
        "workflow": _workflow(
            [
                {"id": "collect", "type": "form.collect", "fields": "{{ config.collect_fields }}"},
                {"id": "answer", "type": "llm.answer", "context": ["config.open_positions"]},
            ]
        ),
    },
    {
        "key": "custom-agent",
        "name": "Custom agent",
        "category": "CUSTOM",
        "description": "Your own instructions and tools: a system prompt, an optional webhook it may call, and when to hand off.",
        "config_schema": _schema(
            {
                "system_prompt": {"type": "string", "minLength": 10, "maxLength": 8000},
                "greeting": {"type": "string", "maxLength": 500},
                "temperature": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.3},
                "tool_webhook_url": {"type": "string", "format": "uri", "pattern": "^https://"},
                "handoff_keywords": {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1, "maxLength": 50},
                    "uniqueItems": True,
                    "maxItems": 50,
                },
            },
            ["system_prompt"],
        ),
        "workflow": _workflow(
            [
                {"id": "escalate", "type": "match.keywords", "keywords": "{{ config.handoff_keywords }}"},
                {"id": "handoff", "type": "handoff", "when": "{{ steps.escalate.matched }}"},
                {
                    "id": "answer",
                    "type": "llm.answer",
                    "system": "{{ config.system_prompt }}",
                    "tools": ["{{ config.tool_webhook_url }}"],
                },
            ]
        ),
    },
]


def seed(apps, schema_editor):
    AgentTemplate = apps.get_model("agents", "AgentTemplate")
    for template in TEMPLATES:
        AgentTemplate.objects.update_or_create(key=template["key"], defaults={**template, "is_active": True})


def unseed(apps, schema_editor):
    AgentTemplate = apps.get_model("agents", "AgentTemplate")
    keys = [template["key"] for template in TEMPLATES]
    # Templates agents were made from stay (PROTECT); they are only switched off.
    AgentTemplate.objects.filter(key__in=keys, agents__isnull=False).update(is_active=False)
    AgentTemplate.objects.filter(key__in=keys, agents__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("agents", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
