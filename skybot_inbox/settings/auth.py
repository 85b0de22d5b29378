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

LOGIN_FAILURE_LIMIT = config.LOGIN_FAILURE_LIMIT
MAGIC_LINK_MAX_AGE_SECONDS = 15 * 60

# django-allauth: email is the login; tenants are created by staff, so nobody signs up by themselves.
ACCOUNT_ADAPTER = "accounts.adapters.AccountAdapter"
SOCIALACCOUNT_ADAPTER = "accounts.adapters.SocialAccountAdapter"
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_SESSION_REMEMBER = None
ACCOUNT_LOGOUT_ON_GET = False
# Our own per-email and per-IP failure limit applies (accounts.services.auth); allauth's is off.
ACCOUNT_RATE_LIMITS: dict[str, str] | bool = False
SOCIALACCOUNT_ONLY = False
SOCIALACCOUNT_EMAIL_AUTHENTICATION = True
SOCIALACCOUNT_EMAIL_AUTHENTICATION_AUTO_CONNECT = True
SOCIALACCOUNT_LOGIN_ON_GET = False
GOOGLE_SIGN_IN_ENABLED = bool(config.GOOGLE_CLIENT_ID and config.GOOGLE_CLIENT_SECRET)
SOCIALACCOUNT_PROVIDERS: dict[str, Any] = (
    {
        "google": {
            "APPS": [{"client_id": config.GOOGLE_CLIENT_ID, "secret": config.GOOGLE_CLIENT_SECRET}],
            "SCOPE": ["profile", "email"],
            "AUTH_PARAMS": {"access_type": "online"},
            "EMAIL_AUTHENTICATION": True,
        }
    }
    if GOOGLE_SIGN_IN_ENABLED
    else {}
)

LEGACY_API_KEY = config.LEGACY_API_KEY
BILLING_PORTAL_URL = config.BILLING_PORTAL_URL
BILLING_SSO_SECRET = config.BILLING_SSO_SECRET
ENCRYPTION_KEYS = config.ENCRYPTION_KEYS
