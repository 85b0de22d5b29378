"""Single sign-on into the external billing portal.

The portal trusts a short-lived HS256 JWT signed with `BILLING_SSO_SECRET`: it names the tenant and
the person, expires after five minutes and carries a `jti` so the portal can refuse a replay. `iss`
(`BILLING_SSO_ISSUER`, default SITE_URL) and `aud` (`BILLING_SSO_AUDIENCE`) let the portal refuse a
token signed with the same secret for another purpose or by another installation.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import jwt
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework import status

from accounts.models import Account
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core.exceptions import ApplicationError, Forbidden

SSO_TOKEN_LIFETIME = timedelta(minutes=5)
SSO_ALGORITHM = "HS256"


class BillingNotConfigured(ApplicationError):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    code = "billing_not_configured"
    default_message = "The billing portal is not configured."


@dataclass(frozen=True)
class BillingSsoLink:
    url: str
    jti: str


def billing_is_configured() -> bool:
    """Whether the portal can be opened: both its URL and the signing secret are set."""
    return bool(settings.BILLING_PORTAL_URL and settings.BILLING_SSO_SECRET)


@transaction.atomic
def billing_sso_issue(*, account: Account, actor: Principal, context: RequestContext = SYSTEM) -> BillingSsoLink:
    """A portal URL carrying a signed, five-minute token for `actor` acting on `account`."""
    if not billing_is_configured():
        raise BillingNotConfigured()
    portal_url = settings.BILLING_PORTAL_URL
    secret = settings.BILLING_SSO_SECRET
    user = actor.user
    if user is None:
        raise Forbidden("Billing sign-in is for people, not API keys.", code="person_required")

    now = timezone.now()
    jti = uuid.uuid4().hex
    claims = {
        "iss": settings.BILLING_SSO_ISSUER,
        "aud": settings.BILLING_SSO_AUDIENCE,
        "account": account.pk,
        "account_slug": account.slug,
        "user": user.pk,
        "email": user.email,
        "role": actor.role,
        "jti": jti,
        "iat": int(now.timestamp()),
        "exp": int((now + SSO_TOKEN_LIFETIME).timestamp()),
    }
    token = jwt.encode(claims, secret, algorithm=SSO_ALGORITHM)
    audit_log_record(
        action="billing.sso_issued",
        actor=actor,
        account=account,
        target=account,
        context=context,
        metadata={"jti": jti, "expires_in": int(SSO_TOKEN_LIFETIME.total_seconds())},
    )
    separator = "&" if "?" in portal_url else "?"
    return BillingSsoLink(url=f"{portal_url}{separator}token={token}", jti=jti)
