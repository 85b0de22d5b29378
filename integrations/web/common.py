"""What the Developers pages share: the tab bar and the links to the API reference."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import reverse

# (key, label, URL name): the Developers area's tabs, in order.
TABS: list[tuple[str, str, str]] = [
    ("api_keys", "API keys and usage", "developers_web:index"),
    ("webhooks", "Webhooks", "developers_web:webhooks"),
]


def developers_context(tab: str, **context: Any) -> dict[str, Any]:
    """Template context of a Developers page: the current tab, the API's addresses, the page's values."""
    return {
        "developer_tabs": TABS,
        "tab": tab,
        "api_docs_url": reverse("swagger-ui"),
        "api_schema_url": reverse("schema"),
        "api_base_url": f"{settings.SITE_URL}/api/v1",
        **context,
    }
