"""Sign-in settings: JWT for API clients, django-allauth for the web UI (password and Google)."""

from __future__ import annotations

from typing import Any

from skybot_inbox.settings import env as config

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "account_login"

SIMPLE_JWT: dict[str, Any] = {
    "ALGORITHM": "HS256",  # pinned: tokens signed any other way are refused
    "SIGNING_KEY": config.JWT_SIGNING_KEY,
    "ACCESS_TOKEN_LIFETIME": config.JWT_ACCESS_EXPIRY,
    "REFRESH_TOKEN_LIFETIME": config.JWT_REFRESH_EXPIRY,
    "ROTATE_REFRESH_TOKENS": True,
    "UPDATE_LAST_LOGIN": True,
    "AUTH_HEADER_TYPES": ("Bearer",),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
    "LEEWAY": 5,
}

# Failed-sign-in and failed-credential limits (accounts.services.auth, core.throttling).
LOGIN_FAILURE_LIMIT = config.LOGIN_FAILURE_LIMIT
LOGIN_FAILURE_EMAIL_LIMIT = config.LOGIN_FAILURE_EMAIL_LIMIT
LOGIN_FAILURE_ADDRESS_LIMIT = config.LOGIN_FAILURE_ADDRESS_LIMIT
API_AUTH_FAILURE_LIMIT = config.API_AUTH_FAILURE_LIMIT
MAGIC_LINK_MAX_AGE_SECONDS = 15 * 60
# Sign-in link requests, counted whether or not the email has an account (django-ratelimit rates).
MAGIC_LINK_EMAIL_LIMIT = "5/15m"
MAGIC_LINK_IP_LIMIT = "30/15m"

# django-allauth: email is the login; tenants are created by staff, so nobody signs up by themselves.
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGOUT_ON_GET = False
# Our own failure limits apply to password sign-in (accounts.services.auth), so
# allauth's `login_failed` limit is off; its other limits (password-reset emails, ...) stay on.
ACCOUNT_RATE_LIMITS: dict[str, str | None] = {"login_failed": None}
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_LOGIN_ON_GET = False


def google_provider_settings(client_id: str, client_secret: str) -> dict[str, Any]:
    """allauth's SOCIALACCOUNT_PROVIDERS for Google, or none when either credential is missing."""
    if not (client_id and client_secret):
        return {}
    return {
        "google": {
            "APPS": [{"client_id": client_id, "secret": client_secret}],
            "SCOPE": ["profile", "email"],
            "AUTH_PARAMS": {"access_type": "online"},
            "EMAIL_AUTHENTICATION": True,
        }
    }


SOCIALACCOUNT_PROVIDERS: dict[str, Any] = google_provider_settings(config.GOOGLE_CLIENT_ID, config.GOOGLE_CLIENT_SECRET)
GOOGLE_SIGN_IN_ENABLED = "google" in SOCIALACCOUNT_PROVIDERS

LEGACY_API_KEY = config.LEGACY_API_KEY
BILLING_PORTAL_URL = config.BILLING_PORTAL_URL
BILLING_SSO_SECRET = config.BILLING_SSO_SECRET
BILLING_SSO_ISSUER = config.BILLING_SSO_ISSUER or config.SITE_URL
BILLING_SSO_AUDIENCE = config.BILLING_SSO_AUDIENCE
ENCRYPTION_KEYS = config.ENCRYPTION_KEYS
