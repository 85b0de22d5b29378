"""Web sign-in routes that allauth does not provide (magic links)."""

from __future__ import annotations

from typing import Any

urlpatterns: list[Any] = []
