"""DRF authentication: tenant API keys (and the legacy platform key), then JWT, then the session.

Every failed API-key attempt, whatever the reason (unknown, malformed, expired, revoked), answers
the same 401 body so a caller learns nothing about which keys exist.

Refused keys and access tokens are counted per client address (`API_AUTH_FAILURE_LIMIT`); once an
address has too many, every request from it that presents a key or token answers 429 with
`Retry-After` until the window ends, before any key is looked up.
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
from accounts.principals import Principal
from core.throttling import credential_failure_count, credential_failures_retry_after

INVALID_API_KEY = "Invalid, expired or revoked API key."
TOO_MANY_FAILURES = "Too many requests with invalid credentials from this address."

# The API-key service is imported inside the functions below: DRF imports this module while
# `rest_framework.views` is still loading, and the service imports `core.exceptions`, which
# imports `rest_framework.views`.


def _refuse_address_with_failures(request: Request) -> None:
    """Refuse (429) an address that presented too many bad credentials; checked once per request."""
    if getattr(request, "_credential_address_checked", False):
        return
    request._credential_address_checked = True  # type: ignore[attr-defined]
    retry_after = credential_failures_retry_after(request)
    if retry_after is not None:
        # A DRF exception, so the request is left unauthenticated; it answers 429 with Retry-After.
        raise exceptions.Throttled(wait=retry_after, detail=TOO_MANY_FAILURES)


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

        _refuse_address_with_failures(request)
        legacy = settings.LEGACY_API_KEY
        if legacy and constant_time_compare(raw, legacy):
            return Principal.platform_key(), None
        api_key = api_key_authenticate(raw)
        if api_key is None:
            credential_failure_count(request)
            raise exceptions.AuthenticationFailed(INVALID_API_KEY, code="invalid_api_key")
        return Principal.for_api_key(api_key), api_key

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'


class JwtAuthentication(JWTAuthentication):
    """Access tokens from `POST /api/v1/auth/token`; refused once their sign-in is logged out or
    revoked, once all the person's sign-ins were ended (`accounts.services.sessions`), and for a
    disabled person or tenant."""

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        if self.get_header(request) is None:
            return None
        _refuse_address_with_failures(request)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            credential_failure_count(request)
            raise

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
