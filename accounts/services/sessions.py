"""Ending sign-ins: every refresh token, access token, web session and live feed of a person at once.

A person's `access_generation` is written into each JWT issued to them (the `gen` claim) and mixed
into their web session's hash (`User.get_session_auth_hash`). Raising it by one voids all of them
on their next use, in every process; their refresh-token families are revoked in the database, and
their open WebSockets are told to close once the change commits (the consumers also re-check
access before forwarding events, so a lost message cannot leak one).

`user_access_revoke` is the one way to end a person's sign-ins. It is called when their password is
changed or reset (web, API, Django admin), when they are deactivated, deleted or get another role.
`account_access_revoke` does the same for every person of a tenant in a fixed number of queries.

Keeping the session that made the change (a person changing their own password) is the view's job:
it calls Django's `update_session_auth_hash` afterwards, as Django's own password views do.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Account, IssuedRefreshToken, User
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core.realtime import account_group, close_sockets, person_group
from core.transactions import after_commit

# The JWT claim that carries the person's `access_generation` at issue time.
GENERATION_CLAIM = "gen"

# WebSocket close codes: the sign-in ended (sign in again) / the socket may no longer read the feed.
CLOSE_SIGNED_OUT = 4401
CLOSE_FORBIDDEN = 4403

# Why sign-ins were ended; stored in the audit row.
PASSWORD_CHANGED = "password_changed"
DEACTIVATED = "deactivated"
ROLE_CHANGED = "role_changed"
DELETED = "deleted"
ACCOUNT_DEACTIVATED = "account_deactivated"


@transaction.atomic
def user_access_revoke(
    *,
    user: User,
    reason: str,
    actor: Principal | User | None = None,
    context: RequestContext = SYSTEM,
) -> None:
    """End every sign-in of `user`: refresh tokens, access tokens, web sessions and open sockets.

    `user` is updated in place with its new generation, so a view that keeps its own session
    (`update_session_auth_hash(request, user)`) stores the hash that stays valid.
    """
    now = timezone.now()
    User.objects.filter(pk=user.pk).update(access_generation=F("access_generation") + 1)
    user.refresh_from_db(fields=["access_generation"])
    tokens = IssuedRefreshToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    audit_log_record(
        action="auth.access_revoked",
        actor=actor,
        account=user.account,
        target=user,
        context=context,
        metadata={"reason": reason, "refresh_tokens": tokens},
    )
    after_commit(close_sockets, group=person_group(user.pk), code=CLOSE_SIGNED_OUT)


@transaction.atomic
def account_access_revoke(
    *,
    account: Account,
    reason: str,
    actor: Principal | User | None = None,
    context: RequestContext = SYSTEM,
) -> int:
    """End every sign-in of every person of `account`; returns how many people that was.

    Three writes and one socket message, however many people the tenant has.
    """
    now = timezone.now()
    people = User.objects.filter(account=account).update(access_generation=F("access_generation") + 1)
    tokens = IssuedRefreshToken.objects.filter(user__account=account, revoked_at__isnull=True).update(revoked_at=now)
    audit_log_record(
        action="auth.access_revoked",
        actor=actor,
        account=account,
        target=account,
        context=context,
        metadata={"reason": reason, "people": people, "refresh_tokens": tokens},
    )
    after_commit(close_sockets, group=account_group(account.pk), code=CLOSE_FORBIDDEN)
    return people


def token_is_current(token: Mapping[str, Any], user: User) -> bool:
    """Whether a JWT was issued after the person's sign-ins were last ended (tokens without the
    claim predate it and count as generation 0)."""
    try:
        generation = int(token.get(GENERATION_CLAIM, 0))
    except (TypeError, ValueError):
        return False
    return generation == user.access_generation
