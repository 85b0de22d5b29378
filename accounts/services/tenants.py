"""Tenants (`Account`): create, update and deactivate. Platform staff only.

A tenant is never destroyed through the API: deactivating it keeps every row it owns (for audit,
billing disputes and a possible return) while its people and API keys stop authenticating. Every
sign-in of its people ends at once (tokens, web sessions, open live feeds) and stays ended when the
tenant is switched back on: they sign in again.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import Account, Plan
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from accounts.services.sessions import ACCOUNT_DEACTIVATED, account_access_revoke
from core.exceptions import ApplicationError

DUPLICATE_SLUG = "An account with this slug already exists."

_UNSET: Any = object()


def _duplicate_slug() -> ApplicationError:
    return ApplicationError("Invalid input.", code="validation_error", details={"slug": [DUPLICATE_SLUG]})


@transaction.atomic
def account_create(
    *,
    name: str,
    slug: str,
    plan: str = Plan.FREE,
    is_active: bool = True,
    actor: Principal,
    context: RequestContext = SYSTEM,
) -> Account:
    slug = slug.lower()
    if Account.objects.filter(slug=slug).exists():
        raise _duplicate_slug()
    try:
        with transaction.atomic():
            account = Account.objects.create(name=name, slug=slug, plan=plan, is_active=is_active)
    except IntegrityError:
        raise _duplicate_slug() from None
    audit_log_record(
        action="account.created",
        actor=actor,
        account=account,
        target=account,
        context=context,
        metadata={"name": name, "slug": slug, "plan": plan, "is_active": is_active},
    )
    return account


@transaction.atomic
def account_update(
    *,
    account: Account,
    actor: Principal,
    context: RequestContext = SYSTEM,
    name: str = _UNSET,
    slug: str = _UNSET,
    plan: str = _UNSET,
    is_active: bool = _UNSET,
) -> Account:
    account = Account.objects.select_for_update().get(pk=account.pk)
    if slug is not _UNSET:
        slug = slug.lower()
    changes: dict[str, Any] = {}
    for field, value in (("name", name), ("slug", slug), ("plan", plan), ("is_active", is_active)):
        if value is not _UNSET and getattr(account, field) != value:
            changes[field] = value
    if "slug" in changes and Account.objects.filter(slug=changes["slug"]).exclude(pk=account.pk).exists():
        raise _duplicate_slug()
    if not changes:
        return account
    for field, value in changes.items():
        setattr(account, field, value)
    try:
        with transaction.atomic():
            account.save(update_fields=[*changes, "updated_at"])
    except IntegrityError:
        raise _duplicate_slug() from None
    audit_log_record(
        action="account.updated",
        actor=actor,
        account=account,
        target=account,
        context=context,
        metadata={"fields": sorted(changes)},
    )
    if changes.get("is_active") is False:
        account_access_revoke(account=account, reason=ACCOUNT_DEACTIVATED, actor=actor, context=context)
    return account


@transaction.atomic
def account_deactivate(*, account: Account, actor: Principal, context: RequestContext = SYSTEM) -> Account:
    """Switch the tenant off; its data stays, its people and keys can no longer sign in or call the API."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    was_active = account.is_active
    if was_active:
        account.is_active = False
        account.save(update_fields=["is_active", "updated_at"])
    audit_log_record(
        action="account.deactivated",
        actor=actor,
        account=account,
        target=account,
        context=context,
        metadata={"was_active": was_active},
    )
    if was_active:
        account_access_revoke(account=account, reason=ACCOUNT_DEACTIVATED, actor=actor, context=context)
    return account
