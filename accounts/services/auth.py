"""Signing in: the failed-login limits, JWT pairs with rotating refresh-token families, magic links.

Refresh tokens of one sign-in form a family. Each refresh rotates: the presented token is marked
rotated and a new one issued. Presenting an already-rotated token means it was copied, so the whole
family is revoked and both holders must sign in again.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import update_last_login
from django.core.cache import cache
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_ratelimit.core import get_usage
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.models import IssuedRefreshToken, MagicLinkToken, User
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from accounts.services.sessions import GENERATION_CLAIM, token_is_current
from core.exceptions import RateLimited, Unauthorized
from core.throttling import failure_count, failures_retry_after
from core.transactions import after_commit

logger = structlog.get_logger(__name__)

INVALID_CREDENTIALS = "Invalid email or password."
INVALID_REFRESH = "The refresh token is invalid, expired or revoked."


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


# --- failed-login limit ---------------------------------------------------------------------------


def _usage(request: Any, *, group: str, key: str, rate: str, increment: bool) -> dict[str, Any]:
    usage = get_usage(request, group=group, key=lambda _group, _request: key, rate=rate, increment=increment)
    return usage or {"count": 0, "limit": 1, "time_left": 0}


def _failure_limits(email: str, ip: str | None) -> list[tuple[str, str, str]]:
    """The counters one failed sign-in adds to: (group, key, rate).

    The tight limit is per (email, address) pair, so a stranger failing for someone's email locks
    only their own address out of it. A looser ceiling per email bounds guessing spread over many
    addresses; a per-address limit stops one address trying many emails.
    """
    email = email.strip().lower()
    limits = [
        ("login-failures-pair", f"{email}|{ip or '-'}", settings.LOGIN_FAILURE_LIMIT),
        ("login-failures-email", email, settings.LOGIN_FAILURE_EMAIL_LIMIT),
    ]
    if ip:
        limits.append(("login-failures-address", ip, settings.LOGIN_FAILURE_ADDRESS_LIMIT))
    return limits


def login_limit_check(*, request: Any, email: str, ip: str | None) -> None:
    """Raise `RateLimited` (429, Retry-After) while this email from this address may not try again.

    That is when the pair, the email (from every address) or the address (for every email) has
    failed too often in its window. The wait is the longest of the full windows.
    """
    waits = [failures_retry_after(group=group, key=key, rate=rate) for group, key, rate in _failure_limits(email, ip)]
    full = [wait for wait in waits if wait is not None]
    if full:
        raise RateLimited("Too many failed sign-in attempts. Try again later.", retry_after=max(full))


def magic_link_request_limit(*, request: Any, email: str, ip: str | None) -> None:
    """Count one sign-in link request; raise `RateLimited` past the per-email or per-IP limit.

    Every request counts, whether or not the email has an account, so the limit reveals nothing.
    """
    keys = [("magic-link-email", email.strip().lower(), settings.MAGIC_LINK_EMAIL_LIMIT)]
    if ip:
        keys.append(("magic-link-ip", ip, settings.MAGIC_LINK_IP_LIMIT))
    for group, key, rate in keys:
        usage = _usage(request, group=group, key=key, rate=rate, increment=False)
        if usage["count"] >= usage["limit"]:
            raise RateLimited("Too many sign-in links requested. Try again later.", retry_after=usage["time_left"])
    for group, key, rate in keys:
        _usage(request, group=group, key=key, rate=rate, increment=True)


def login_failure_register(*, request: Any, email: str, ip: str | None, context: RequestContext) -> None:
    for group, key, rate in _failure_limits(email, ip):
        failure_count(group=group, key=key, rate=rate)
    with transaction.atomic():
        user = User.objects.filter(email__iexact=email.strip()).select_related("account").first()
        audit_log_record(
            action="auth.login_failed",
            actor=None,
            account=user.account if user else None,
            target=user,
            context=context,
            metadata={"email": email.strip().lower()[:254]},
        )


def login_success_record(*, user: User, method: str, context: RequestContext) -> None:
    with transaction.atomic():
        update_last_login(User, user)
        audit_log_record(
            action="auth.login",
            actor=user,
            account=user.account,
            target=user,
            context=context,
            metadata={"method": method},
        )


def authenticate_with_password(*, request: Any, email: str, password: str, context: RequestContext) -> User:
    """Check the limit, then the credentials; failures count toward the limit and are audited."""
    login_limit_check(request=request, email=email, ip=context.ip_address)
    # Django's own backend only: one password hash per attempt whether or not the email exists, so
    # the answer time does not tell which emails have an account.
    user = ModelBackend().authenticate(None, username=email.strip().lower(), password=password)
    if user is None or not isinstance(user, User) or not user_may_sign_in(user):
        login_failure_register(request=request, email=email, ip=context.ip_address, context=context)
        raise Unauthorized(INVALID_CREDENTIALS, code="invalid_credentials")
    return user


def user_may_sign_in(user: User) -> bool:
    """Active person, and (unless platform staff) an active tenant."""
    return user.is_active and (user.account is None or user.account.is_active)


# --- JWT pairs ------------------------------------------------------------------------------------


def _issue(user: User, family: uuid.UUID) -> TokenPair:
    refresh = RefreshToken.for_user(user)
    refresh["fam"] = str(family)
    refresh[GENERATION_CLAIM] = user.access_generation  # copied into its access tokens
    IssuedRefreshToken.objects.create(
        jti=refresh["jti"],
        family=family,
        user=user,
        expires_at=datetime.fromtimestamp(refresh["exp"], tz=UTC),
    )
    return TokenPair(access=str(refresh.access_token), refresh=str(refresh))


@transaction.atomic
def auth_tokens_issue(*, user: User, context: RequestContext = SYSTEM) -> TokenPair:
    """A new sign-in: a new refresh-token family."""
    pair = _issue(user, uuid.uuid4())
    audit_log_record(
        action="auth.login", actor=user, account=user.account, target=user, context=context, metadata={"method": "jwt"}
    )
    update_last_login(User, user)
    return pair


def _decode_refresh(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)  # type: ignore[arg-type]
    except TokenError:
        raise Unauthorized(INVALID_REFRESH, code="token_not_valid") from None


def revoked_family_key(family: str) -> str:
    return f"jwt:revoked-family:{family}"


def _revoke_family(family: uuid.UUID, now: datetime) -> None:
    """Revoke every refresh token of the sign-in, and refuse its access tokens until they expire."""
    IssuedRefreshToken.objects.filter(family=family, revoked_at__isnull=True).update(revoked_at=now)
    lifetime = settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds() + settings.SIMPLE_JWT["LEEWAY"]
    after_commit(cache.set, revoked_family_key(str(family)), True, timeout=int(lifetime) + 1)


def family_is_revoked(family: str) -> bool:
    return bool(cache.get(revoked_family_key(family)))


def auth_tokens_refresh(*, raw_refresh: str, context: RequestContext = SYSTEM) -> TokenPair:
    """Rotate: the presented token is spent; a reused token revokes its family (committed, then 401)."""
    token = _decode_refresh(raw_refresh)
    now = timezone.now()
    with transaction.atomic():
        issued = (
            # `of=self`: the account join is nullable (platform staff), which FOR UPDATE cannot lock.
            IssuedRefreshToken.objects.select_for_update(of=("self",))
            .select_related("user__account")
            .filter(jti=token["jti"])
            .first()
        )
        if (
            issued is None
            or issued.revoked_at is not None
            or not user_may_sign_in(issued.user)
            or not token_is_current(token.payload, issued.user)
        ):
            pair = None
        elif issued.rotated_at is not None:
            _revoke_family(issued.family, now)
            audit_log_record(
                action="auth.refresh_reused",
                actor=issued.user,
                account=issued.user.account,
                target=issued.user,
                context=context,
                metadata={"family": str(issued.family)},
            )
            pair = None
        else:
            issued.rotated_at = now
            issued.save(update_fields=["rotated_at"])
            pair = _issue(issued.user, issued.family)
    if pair is None:
        raise Unauthorized(INVALID_REFRESH, code="token_not_valid")
    return pair


@transaction.atomic
def auth_logout(*, raw_refresh: str, context: RequestContext = SYSTEM) -> None:
    """Revoke the refresh token's whole family: this sign-in ends everywhere it was refreshed."""
    token = _decode_refresh(raw_refresh)
    issued = IssuedRefreshToken.objects.select_related("user__account").filter(jti=token["jti"]).first()
    if issued is None:
        raise Unauthorized(INVALID_REFRESH, code="token_not_valid")
    _revoke_family(issued.family, timezone.now())
    audit_log_record(
        action="auth.logout", actor=issued.user, account=issued.user.account, target=issued.user, context=context
    )


# --- magic links ----------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedMagicLink:
    """A sign-in link for `user`; the token exists only here and in the email."""

    user: User
    token: str

    @property
    def url(self) -> str:
        return settings.SITE_URL + reverse("magic_link_confirm", kwargs={"token": self.token})


@transaction.atomic
def magic_link_create(*, email: str, context: RequestContext = SYSTEM) -> IssuedMagicLink | None:
    """A sign-in link for an active user with this email, or None. Callers answer the same either way."""
    user = User.objects.select_related("account").filter(email__iexact=email.strip(), is_active=True).first()
    if user is None or not user_may_sign_in(user):
        return None
    token = secrets.token_urlsafe(32)
    MagicLinkToken.objects.create(
        token_hash=_hash(token),
        user=user,
        expires_at=timezone.now() + timedelta(seconds=settings.MAGIC_LINK_MAX_AGE_SECONDS),
    )
    audit_log_record(action="auth.magic_link_sent", actor=None, account=user.account, target=user, context=context)
    return IssuedMagicLink(user=user, token=token)


@transaction.atomic
def magic_link_send(*, email: str, context: RequestContext = SYSTEM) -> None:
    """Email a sign-in link when `email` belongs to someone who may sign in; otherwise do nothing."""
    link = magic_link_create(email=email, context=context)
    if link is not None:
        after_commit(_magic_link_email_send, to=link.user.email, url=link.url)


def _magic_link_email_send(*, to: str, url: str) -> None:
    minutes = settings.MAGIC_LINK_MAX_AGE_SECONDS // 60
    context = {"url": url, "minutes": minutes, "site_url": settings.SITE_URL}
    try:
        send_mail(
            subject=render_to_string("accounts/email/magic_link_subject.txt", context).strip(),
            message=render_to_string("accounts/email/magic_link_body.txt", context),
            from_email=None,
            recipient_list=[to],
        )
    except Exception:
        logger.exception("magic_link_email_failed")


def magic_link_is_usable(*, token: str) -> bool:
    """Whether the link would sign someone in now (a read: it spends nothing)."""
    return MagicLinkToken.objects.filter(
        token_hash=_hash(token), used_at__isnull=True, expires_at__gt=timezone.now(), user__is_active=True
    ).exists()


@transaction.atomic
def magic_link_consume(*, token: str, context: RequestContext = SYSTEM) -> User | None:
    """The user the link signs in, once; None when unknown, used or expired."""
    now = timezone.now()
    link = (
        MagicLinkToken.objects.select_for_update(of=("self",))
        .select_related("user__account")
        .filter(token_hash=_hash(token), used_at__isnull=True, expires_at__gt=now)
        .first()
    )
    if link is None or not user_may_sign_in(link.user):
        return None
    link.used_at = now
    link.save(update_fields=["used_at"])
    return link.user
