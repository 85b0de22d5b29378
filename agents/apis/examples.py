"""Example requests and answers of the agents API: templates, agents and their lifecycle,
execution analytics and report exports.

The same imaginary tenant as `accounts/apis/examples.py` (account 12): agent 9 answers its WhatsApp
channel 4 from the `support-agent` template.
"""

from __future__ import annotations

from typing import Any

from core.openapi import EXAMPLE_SITE, example_page, example_request, example_response

# --- templates ----------------------------------------------------------------------------------

TEMPLATE_LIST = [  # one item: the list view answers a plain array of them
    example_response(
        {
            "key": "support-agent",
            "name": "Customer support",
            "category": "SUPPORT",
            "description": (
                "Answers common questions from your knowledge base and hands the conversation to the team "
                "on request or on escalation keywords."
            ),
            "runtime": "runner",
            "config_schema": {
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "type": "object",
                "properties": {
                    "greeting": {"type": "string", "minLength": 1, "maxLength": 500},
                    "language": {"type": "string", "pattern": "^[a-z]{2}(-[A-Z]{2})?$", "default": "en"},
                    "knowledge_base_url": {"type": "string", "format": "uri", "pattern": "^https?://"},
                },
                "required": ["greeting"],
                "additionalProperties": False,
            },
        }
    )
]

# --- agents -------------------------------------------------------------------------------------

CONFIG: dict[str, Any] = {
    "greeting": "Olá! I'm Sorriso Dental's assistant. How can I help you today?",
    "language": "pt-PT",
    "knowledge_base_url": "https://sorriso-dental.pt/faq.json",
    "escalation_keywords": ["human", "refund", "pain"],
    "business_hours": {
        "timezone": "Europe/Lisbon",
        "days": ["mon", "tue", "wed", "thu", "fri"],
        "open": "09:00",
        "close": "19:00",
    },
    "after_hours_message": "We are closed now; the team answers from 9:00.",
}
AGENT: dict[str, Any] = {
    "id": 9,
    "account": 12,
    "name": "Booking assistant",
    "description": "Answers questions about treatments and opening hours; books cleanings.",
    "category": "SUPPORT",
    "template": "support-agent",
    "config": CONFIG,
    "channels": [4],
    "status": "active",
    "skybot_workflow_id": "wf_7Hk2mP9qL4",
    "deployed_at": "2026-05-02T08:45:31.210457Z",
    "last_error": "",
    "reply_timeout_seconds": 120,
    "created_at": "2026-05-02T08:44:58.930112Z",
    "updated_at": "2026-05-02T08:45:31.214890Z",
}
AGENT_LIST = [example_response(example_page(AGENT, path="/api/v1/agents"))]
AGENT_CREATE = [
    example_request(
        {
            "name": "Booking assistant",
            "template": "support-agent",
            "config": CONFIG,
            "description": "Answers questions about treatments and opening hours; books cleanings.",
            "channels": [4],
            "reply_timeout_seconds": 120,
        }
    ),
    example_response(
        {
            **AGENT,
            "status": "deploying",
            "skybot_workflow_id": "",
            "deployed_at": None,
            "updated_at": AGENT["created_at"],
        },
        status=201,
    ),
]
EXECUTION = {
    "id": 48213,
    "agent": 9,
    "external_id": "exec_3Fq8Lm2Wz",
    "status": "succeeded",
    "started_at": "2026-05-14T10:02:11.204000Z",
    "finished_at": "2026-05-14T10:02:12.871000Z",
    "duration_ms": 1667,
    "input_summary": "Olá, a encomenda 1042 já foi enviada?",
    "output_summary": "Sim! A encomenda 1042 saiu ontem e chega amanhã.",
    "error": "",
    "conversation": 311,
    "message": 90412,
}
EXECUTION_LIST = [example_response(example_page(EXECUTION, path="/api/v1/agents/9/executions"))]
AGENT_DETAIL = [example_response(AGENT)]
AGENT_UPDATE = [
    example_request({"reply_timeout_seconds": 300}),
    example_response({**AGENT, "reply_timeout_seconds": 300, "updated_at": "2026-05-14T10:05:12.448120Z"}),
]
AGENT_DEPLOY = [
    example_response({**AGENT, "status": "deploying", "updated_at": "2026-05-14T10:06:40.118302Z"}, status=202)
]
AGENT_ACTIVATE = [example_response({**AGENT, "updated_at": "2026-05-14T10:08:02.660915Z"})]
AGENT_DEACTIVATE = [example_response({**AGENT, "status": "inactive", "updated_at": "2026-05-14T10:07:21.017334Z"})]

# --- analytics ----------------------------------------------------------------------------------


def _bucket(day: str, total: int, failed: int) -> dict[str, Any]:
    return {"bucket": f"2026-05-{day}T00:00:00Z", "total": total, "succeeded": total - failed, "failed": failed}


ANALYTICS = [
    example_response(
        {
            "date_from": "2026-05-07T10:10:00Z",
            "date_to": "2026-05-14T10:10:00Z",
            "interval": "day",
            "totals": {"total": 412, "succeeded": 396, "failed": 14, "running": 2},
            "success_rate": 0.9659,
            "p50_duration_ms": 1840.0,
            "p95_duration_ms": 5210.5,
            "series": [
                _bucket("07", 38, 1),
                _bucket("08", 61, 2),
                _bucket("09", 57, 3),
                _bucket("10", 22, 0),
                _bucket("11", 19, 1),
                _bucket("12", 70, 4),
                _bucket("13", 83, 2),
                _bucket("14", 62, 1),
            ],
        }
    )
]

# --- reports ------------------------------------------------------------------------------------

REPORT: dict[str, Any] = {
    "id": 58,
    "kind": "conversations",
    "agent": None,
    "status": "ready",
    "date_from": "2026-04-01T00:00:00Z",
    "date_to": "2026-05-01T00:00:00Z",
    "rows": 1843,
    "error": "",
    "created_at": "2026-05-14T10:20:03.114502Z",
    "finished_at": "2026-05-14T10:20:09.877120Z",
    "download_url": f"{EXAMPLE_SITE}/api/v1/reports/58/download",
}
REPORT_CREATE = [
    example_request({"kind": "conversations", "date_from": "2026-04-01T00:00:00Z", "date_to": "2026-05-01T00:00:00Z"}),
    example_request(
        {
            "kind": "agent_executions",
            "agent": 7,
            "date_from": "2026-04-01T00:00:00Z",
            "date_to": "2026-05-01T00:00:00Z",
        },
        name="One agent's executions",
    ),
    example_response({**REPORT, "status": "pending", "rows": 0, "finished_at": None, "download_url": None}, status=202),
]
REPORT_DETAIL = [example_response(REPORT)]
REPORT_CSV = (
    "id,channel,contact_name,contact_wa_id,status,priority,assignee,agent_id,created_at,last_message_at\r\n"
    "5810,+351211234567,João Silva,351912345678,resolved,normal,tiago.mendes@sorriso-dental.pt,,"
    "2026-04-03T09:12:03.505311+00:00,2026-04-03T11:40:12.003911+00:00\r\n"
)
REPORT_DOWNLOAD = [example_response(REPORT_CSV, name="CSV", media_type="text/csv")]
