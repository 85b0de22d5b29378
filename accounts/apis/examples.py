"""Example requests and answers of the accounts API, as Swagger UI, Make, Zapier and n8n show them.

One imaginary tenant throughout (a dental clinic in Lisbon, account 12) so examples of different
operations fit together. `core/tests/test_openapi_examples.py` calls each operation with its
request example and compares the answer's keys with the response example.
"""

from __future__ import annotations

from typing import Any

from core.openapi import example_page, example_request, example_response

ADMIN_EMAIL = "ana.ribeiro@sorriso-dental.pt"

# --- tenants (platform staff) -------------------------------------------------------------------

ACCOUNT: dict[str, Any] = {
    "id": 12,
    "name": "Sorriso Dental",
    "slug": "sorriso-dental",
    "plan": "pro",
    "is_active": True,
    "created_at": "2025-11-03T10:15:42.318204Z",
    "updated_at": "2026-05-02T08:01:17.902113Z",
}
ACCOUNT_CREATE = [
    example_request({"name": "Sorriso Dental", "slug": "sorriso-dental", "plan": "pro"}),
    example_response({**ACCOUNT, "updated_at": ACCOUNT["created_at"]}, status=201),
]
ACCOUNT_UPDATE = [
    example_request({"plan": "enterprise"}),
    example_response({**ACCOUNT, "plan": "enterprise", "updated_at": "2026-05-14T09:20:11.480236Z"}),
]
ACCOUNT_LIST = [example_response(ACCOUNT)]  # one item: the list view wraps it in a page
ACCOUNT_DETAIL = [example_response(ACCOUNT)]

# --- API keys -----------------------------------------------------------------------------------

API_KEY: dict[str, Any] = {
    "id": 6,
    "account": 12,
    "name": "Make",
    "prefix": "Ab3dE5gH7jK9",
    "scopes": ["read", "write"],
    "last_used_at": "2026-05-14T09:12:05.774310Z",
    "expires_at": "2027-05-14T00:00:00Z",
    "is_active": True,
    "revoked_at": None,
    "created_at": "2026-05-02T08:30:11.046521Z",
    "created_by": ADMIN_EMAIL,
}
ISSUED_KEY: dict[str, Any] = {
    "id": 6,
    "account": 12,
    "name": "Make",
    "prefix": "Ab3dE5gH7jK9",
    "scopes": ["read", "write"],
    "expires_at": "2027-05-14T00:00:00Z",
    "created_at": "2026-05-02T08:30:11.046521Z",
    "previous_valid_until": None,
    "key": "sk_live_Ab3dE5gH7jK9_q1W2e3R4t5Y6u7I8o9P0a1S2d3F4g5H6j7K8l9Z0",
}
API_KEY_LIST = [example_response(example_page(API_KEY, path="/api/v1/api-keys"))]
API_KEY_CREATE = [
    example_request({"name": "Make", "scopes": ["read", "write"], "expires_at": "2027-05-14T00:00:00Z"}),
    example_response(ISSUED_KEY, status=201),
]
API_KEY_DETAIL = [example_response(API_KEY)]
API_KEY_ROTATE = [
    example_request({"grace_seconds": 3600}),
    example_response(
        {
            **ISSUED_KEY,
            "previous_valid_until": "2026-05-14T10:12:05.774310Z",
            "key": "sk_live_Ab3dE5gH7jK9_Zx8Cv7Bn6Mm5Ll4Kk3Jj2Hh1Gg0Ff9Dd8Ss7Aa6Qq5",
        }
    ),
]

# --- audit log ----------------------------------------------------------------------------------

AUDIT_LOG_LIST = [
    example_response(
        {
            "id": "3f0b8e52-6f0d-4a7c-9d61-2b6f3f1f4c9a",
            "account": 12,
            "action": "lead.created",
            "actor": "api_key:Ab3dE5gH7jK9",
            "actor_type": "api_key",
            "target_type": "inbox.lead",
            "target_id": "377",
            "ip_address": "203.0.113.24",
            "user_agent": "Make/production",
            "request_id": "9f1c2b7e4d3a4f0e8b6a5c1d2e3f4a5b",
            "metadata": {"name": "João Silva", "source": "whatsapp"},
            "created_at": "2026-05-14T09:12:06.102938Z",
        }
    )
]

# --- sign-in ------------------------------------------------------------------------------------

ACCESS_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoxNzc4NzUwODIzLCJpYXQiOjE3Nzg3NDk5"
    "MjMsImp0aSI6IjVmMGM3ZDdhMWI5ZTRjMmZhM2Q4ZTZiMWM0YTJmOWUwIiwidXNlcl9pZCI6IjMxIn0.lE_-E-bU8dMwXAAQaSGeo2GORdbUrt"
    "ipU3qbG4rx9-0"
)
REFRESH_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsImV4cCI6MTc3OTk1OTUyMywiaWF0IjoxNzc4NzQ5"
    "OTIzLCJqdGkiOiJhODFlNGIzYzlkMmY0ZTZhOGI3YzVkMWUwZjNhMmI0YyIsInVzZXJfaWQiOiIzMSIsImZhbSI6IjBiN2YzZTUyLTZjMWQtNG"
    "E4ZS05ZjJiLTNkNGM1ZTZmN2E4YiJ9.YvGz4Qse5mka7NeblD3IqCZVa20gl0_NEOa97KZ3EkI"
)
TOKEN_PAIR = {"access": ACCESS_TOKEN, "refresh": REFRESH_TOKEN}
TOKEN_OBTAIN = [
    example_request({"email": ADMIN_EMAIL, "password": "correct horse battery staple"}),
    example_response(TOKEN_PAIR),
]
TOKEN_REFRESH = [example_request({"refresh": REFRESH_TOKEN}), example_response(TOKEN_PAIR)]
LOGOUT = [example_request({"refresh": REFRESH_TOKEN})]

# --- who am I -----------------------------------------------------------------------------------

ME_ACCOUNT = {"id": 12, "name": "Sorriso Dental", "slug": "sorriso-dental"}
ME = [
    example_response(
        {
            "type": "api_key",
            "account": ME_ACCOUNT,
            "id": 6,
            "name": "Make",
            "prefix": "Ab3dE5gH7jK9",
            "scopes": ["read", "write"],
            "role": "USER",
        },
        name="API key",
    ),
    example_response(
        {
            "type": "user",
            "account": ME_ACCOUNT,
            "id": 31,
            "email": ADMIN_EMAIL,
            "full_name": "Ana Ribeiro",
            "role": "CLIENT_ADMIN",
        },
        name="Person",
    ),
]

# --- users --------------------------------------------------------------------------------------

USER: dict[str, Any] = {
    "id": 32,
    "email": "tiago.mendes@sorriso-dental.pt",
    "full_name": "Tiago Mendes",
    "account": 12,
    "role": "USER",
    "is_active": True,
    "last_login": "2026-05-14T08:55:31.664120Z",
    "date_joined": "2026-01-08T14:02:09.381777Z",
    "updated_at": "2026-05-14T08:55:31.664120Z",
}
USER_LIST = [example_response(USER)]  # one item: the list view wraps it in a page
USER_CREATE = [
    example_request(
        {
            "email": "tiago.mendes@sorriso-dental.pt",
            "password": "Lisboa-sorriso-2026!",
            "role": "USER",
            "full_name": "Tiago Mendes",
        }
    ),
    example_response(
        {
            **USER,
            "last_login": None,
            "date_joined": "2026-05-14T09:30:00.125804Z",
            "updated_at": "2026-05-14T09:30:00.125804Z",
        },
        status=201,
    ),
]
USER_DETAIL = [example_response(USER)]
USER_UPDATE = [
    example_request({"role": "CLIENT_ADMIN"}),
    example_response({**USER, "role": "CLIENT_ADMIN", "updated_at": "2026-05-14T09:31:12.902114Z"}),
]
