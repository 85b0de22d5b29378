"""Example requests and answers of the billing API (see `accounts/apis/examples.py` for the tenant)."""

from __future__ import annotations

from core.openapi import example_request, example_response

SSO_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2luYm94LmV4YW1wbGUuY29tIiwiYXVkIjoic2t5Ym90LWJpbGxpb"
    "mciLCJhY2NvdW50IjoxMiwiYWNjb3VudF9zbHVnIjoic29ycmlzby1kZW50YWwiLCJ1c2VyIjozMSwiZW1haWwiOiJhbmEucmliZWlyb0Bzb3J"
    "yaXNvLWRlbnRhbC5wdCIsInJvbGUiOiJDTElFTlRfQURNSU4iLCJqdGkiOiI1ZjBjOWE3ZTJiMWQ0YzNlOGE2ZjliMGQxZTJjM2E0YiIsImlhd"
    "CI6MTc3ODc0OTkyMywiZXhwIjoxNzc4NzUwMjIzfQ.CgwvlBJ8rIH7HZC0QLrQRDxmUITUkHv7t9EF0ZTyxQ0"
)
SSO = [
    example_request({}, name="Own tenant"),
    example_response({"url": f"https://billing.example.com/sso?token={SSO_TOKEN}"}),
]
