"""Example requests and answers of the billing API (see `accounts/apis/examples.py` for the tenant)."""

from __future__ import annotations

from core.openapi import example_request, example_response

SSO_TOKEN = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhY2NvdW50IjoxMiwiYWNjb3VudF9zbHVnIjoic29ycmlzby1kZW50YWwiLCJ1c2VyIjozMSwi"
    "ZW1haWwiOiJhbmEucmliZWlyb0Bzb3JyaXNvLWRlbnRhbC5wdCIsInJvbGUiOiJDTElFTlRfQURNSU4iLCJleHAiOjE3Nzg3NTAyMjN9.8vQm3oX"
    "r0b7cW1yT5nK2aJ9dL4eF6gH8iP0sU3vZ7xA"
)
SSO = [
    example_request({}, name="Own tenant"),
    example_response({"url": f"https://billing.example.com/sso?token={SSO_TOKEN}"}),
]
