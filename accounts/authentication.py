"""DRF authentication: tenant API keys (and the legacy platform key), then JWT, then the session.

Every failed API-key attempt, whatever the reason (unknown, malformed, expired, revoked), answers
the same 401 body so a caller learns nothing about which keys exist.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.crypto import constant_time_compare
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication

from accounts.models import User
from core.principals import Principal

INVALID_API_KEY = "Invalid, expired or revoked API key."

# The API-key service is imported inside the functions below: DRF imports this module while
# `rest_framework.views` is still loading, and the service imports `core.exceptions`, which
# imports `rest_framework.views`.


def _presented_key(request: Request) -> str | None:
    """The key the request presents, or None to let the next authenticator (JWT) try."""
    from accounts.services.api_keys import KEY_PREFIX

    header_key = request.headers.get("X-API-Key")
    if header_key is not None:
        return header_key.strip()
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and (
        value.startswith(KEY_PREFIX)
        or (settings.LEGACY_API_KEY and constant_time_compare(value, settings.LEGACY_API_KEY))
    ):
        return value
    return None


class ApiKeyAuthentication(BaseAuthentication):
    """`X-API-Key: sk_live_...` or `Authorization: Bearer sk_live_...`."""

    def authenticate(self, request: Request) -> tuple[Principal, Any] | None:
        raw = _presented_key(request)
        if raw is None:
            return None
        from accounts.services.api_keys import api_key_authenticate

        legacy = settings.LEGACY_API_KEY
        if legacy and constant_time_compare(raw, legacy):
            return Principal.platform_key(), None
        api_key = api_key_authenticate(raw)
        if api_key is None:
            raise exceptions.AuthenticationFailed(INVALID_API_KEY, code="invalid_api_key")
        return Principal.for_api_key(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class JwtAuthentication(JWTAuthentication):
    """Access tokens from `POST /api/v1/auth/token`; refused once their sign-in is logged out or
    revoked, once all the person's sign-ins were ended (`accounts.services.sessions`), and for a
    disabled person or tenant."""

    def get_validated_token(self, raw_token: bytes) -> Any:
        from accounts.services.auth import family_is_revoked

        token = super().get_validated_token(raw_token)
        family = token.get("fam")
        if family and family_is_revoked(str(family)):
            raise exceptions.AuthenticationFailed("This sign-in was ended; sign in again.", code="token_revoked")
        return token

    def get_user(self, validated_token: Any) -> User:  # type: ignore[override]
        from accounts.services.sessions import token_is_current

        user_id = validated_token.get("user_id")
        user = User.objects.select_related("account").filter(pk=user_id).first() if user_id else None
        if user is None or not user.is_active:
            raise exceptions.AuthenticationFailed("User not found or inactive.", code="user_not_found")
        if not token_is_current(validated_token, user):
            # The person's sign-ins were ended (password changed, role changed, ...) after it was issued.
            raise exceptions.AuthenticationFailed("This sign-in was ended; sign in again.", code="token_revoked")
        if user.account is not None and not user.account.is_active:
            raise exceptions.AuthenticationFailed("This account is disabled.", code="account_disabled")
        return user
