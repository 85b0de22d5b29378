"""Template tags for the sign-in pages."""

from __future__ import annotations

from django import template
from django.conf import settings

register = template.Library()


@register.simple_tag
def google_sign_in_enabled() -> bool:
    """Whether GOOGLE_CLIENT_ID and GOOGLE_CLIENT_SECRET are configured (the button shows only then)."""
    return bool(getattr(settings, "GOOGLE_SIGN_IN_ENABLED", False))
