"""Inviting a person by email: they sign in with a one-time link, never with a password we chose.

An invited person gets a password nobody knows (random, never shown or sent), so until they set one
they sign in with an emailed link. The invitation email carries the first link; when it has expired
they ask for a new one on the sign-in page with the same address.
"""

from __future__ import annotations

import secrets

import structlog
from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import Account, User
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext
from accounts.services.auth import magic_link_create
from accounts.services.users import user_create
from core.transactions import after_commit

logger = structlog.get_logger(__name__)


@transaction.atomic
def user_invite(
    *,
    account: Account,
    email: str,
    role: str,
    full_name: str = "",
    actor: Principal,
    context: RequestContext = SYSTEM,
) -> User:
    """Create a person of `account` (same rules as `user_create`) and email them a sign-in link."""
    user = user_create(
        account=account,
        email=email,
        password=secrets.token_urlsafe(32),
        role=role,
        full_name=full_name,
        actor=actor,
        context=context,
    )
    link = magic_link_create(email=user.email, context=context)
    if link is not None:
        after_commit(
            _invitation_email_send,
            to=user.email,
            url=link.url,
            account_name=account.name,
            invited_by=actor.label,
        )
    return user


def _invitation_email_send(*, to: str, url: str, account_name: str, invited_by: str) -> None:
    context = {
        "url": url,
        "minutes": settings.MAGIC_LINK_MAX_AGE_SECONDS // 60,
        "account_name": account_name,
        "invited_by": invited_by,
        "new_link_url": settings.SITE_URL + reverse("magic_link_request"),
        "site_url": settings.SITE_URL,
    }
    try:
        send_mail(
            subject=render_to_string("accounts/email/invitation_subject.txt", context).strip(),
            message=render_to_string("accounts/email/invitation_body.txt", context),
            from_email=None,
            recipient_list=[to],
        )
    except Exception:
        logger.exception("invitation_email_failed")
