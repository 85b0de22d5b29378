"""People: create, update and delete users, keeping every tenant administrable.

Two rules hold for every write:
- nobody grants a role above their own;
- a tenant always keeps at least one active CLIENT_ADMIN (and the platform one active SUPER_ADMIN).
  The check locks the tenant's admin rows (`SELECT ... FOR UPDATE`, in primary-key order) before
  it counts them, so two concurrent requests demoting the last two admins cannot both succeed: the
  second waits, then re-reads the rows and sees only one admin left. On SQLite the write lock of the
  transaction gives the same result.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from accounts.models import Account, ApiKey, Role, User
from accounts.principals import Principal
from accounts.services import sessions
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core.exceptions import ApplicationError, Conflict, Forbidden

DUPLICATE_EMAIL = "A user with this email address already exists."

_UNSET: Any = object()


def _invalid(field: str, message: str | list[str]) -> ApplicationError:
    return ApplicationError(
        "Invalid input.", code="validation_error", details={field: message if isinstance(message, list) else [message]}
    )


def _ensure_may_grant(actor: Principal, role: str) -> None:
    if not actor.has_role(role):
        raise Forbidden("You cannot grant a role above your own.", code="role_above_own")


def _validate_password(password: str, user: User) -> None:
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise _invalid("password", list(exc.messages)) from None


def _lock_active_admins(user: User) -> list[int]:
    """Lock and return the ids of the active admins `user` counts among (their tenant's, or the platform's)."""
    admins = User.objects.select_for_update().filter(is_active=True)
    if user.account_id is None:
        admins = admins.filter(account__isnull=True, role=Role.SUPER_ADMIN)
    else:
        admins = admins.filter(account_id=user.account_id, role=Role.CLIENT_ADMIN)
    return list(admins.order_by("pk").values_list("pk", flat=True))


def _lock_for_change(user: User) -> tuple[User, list[int]]:
    """Lock the admin rows first, then the target (one lock order for every write), and re-read it."""
    admin_ids = _lock_active_admins(user)
    fresh = User.objects.select_for_update(of=("self",)).select_related("account").get(pk=user.pk)
    return fresh, admin_ids


def _ensure_not_last_admin(user: User, admin_ids: list[int]) -> None:
    if user.pk in admin_ids and len(admin_ids) == 1:
        what = "platform" if user.account_id is None else "account"
        raise Conflict(
            f"This is the last active administrator of the {what}; appoint another one first.",
            code="last_admin",
        )


def _access_revoke_reason(changed: list[str], user: User) -> str | None:
    """Why this change ends the person's sign-ins everywhere, or None when it does not."""
    if "is_active" in changed and not user.is_active:
        return sessions.DEACTIVATED
    if "password" in changed:
        return sessions.PASSWORD_CHANGED
    if "role" in changed:
        return sessions.ROLE_CHANGED
    return None


def api_keys_creator_deactivated_record(*, user: User, actor: Principal, context: RequestContext = SYSTEM) -> None:
    """Note on each live API key the person made that its creator left: the key belongs to the
    tenant and keeps working, and the audit log says from when nobody answers for it."""
    keys = ApiKey.objects.filter(created_by=user, is_active=True, revoked_at__isnull=True)
    if user.account_id is not None:
        keys = keys.filter(account_id=user.account_id)
    for key in keys.select_related("account"):
        audit_log_record(
            action="api_key.creator_deactivated",
            actor=actor,
            account=key.account,
            target=key,
            context=context,
            metadata={"prefix": key.prefix, "creator": user.email},
        )


@transaction.atomic
def user_create(
    *,
    account: Account | None,
    email: str,
    password: str,
    role: str,
    full_name: str = "",
    actor: Principal,
    context: RequestContext = SYSTEM,
) -> User:
    """Create a person in `account` (None only for a SUPER_ADMIN)."""
    _ensure_may_grant(actor, role)
    if role == Role.SUPER_ADMIN and account is not None:
        raise _invalid("account", "A SUPER_ADMIN belongs to no account.")
    if role != Role.SUPER_ADMIN and account is None:
        raise _invalid("account", "This field is required unless the role is SUPER_ADMIN.")
    email = User.objects.normalize_email(email.strip()).lower()
    if User.objects.filter(email__iexact=email).exists():
        raise _invalid("email", DUPLICATE_EMAIL)

    is_platform = role == Role.SUPER_ADMIN
    user = User(
        email=email,
        full_name=full_name,
        account=account,
        role=role,
        # Platform staff sign in to Django admin, exactly as `createsuperuser` makes them.
        is_staff=is_platform,
        is_superuser=is_platform,
    )
    _validate_password(password, user)
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        # Another request created the same email between our check and our insert.
        raise _invalid("email", DUPLICATE_EMAIL) from None
    audit_log_record(
        action="user.created",
        actor=actor,
        account=account,
        target=user,
        context=context,
        metadata={"email": user.email, "role": role},
    )
    return user


@transaction.atomic
def user_update(
    *,
    user: User,
    actor: Principal,
    context: RequestContext = SYSTEM,
    full_name: str = _UNSET,
    role: str = _UNSET,
    is_active: bool = _UNSET,
    password: str = _UNSET,
) -> User:
    """Change the given fields; a demotion or deactivation of the last admin is refused with 409.

    A new password, a new role or deactivation ends every sign-in of the person
    (`sessions.user_access_revoke`); the returned user carries the new generation, so a person
    changing their own password keeps their session with `update_session_auth_hash`.
    """
    if role is not _UNSET:
        _ensure_may_grant(actor, role)
        if (role == Role.SUPER_ADMIN) != (user.account_id is None):
            # A role change across the tenant boundary would need a different account: not a PATCH.
            raise _invalid("role", "A tenant user cannot become SUPER_ADMIN, nor a SUPER_ADMIN a tenant role.")

    user, admin_ids = _lock_for_change(user)
    old_role = user.role
    changed: list[str] = []
    if full_name is not _UNSET and full_name != user.full_name:
        user.full_name = full_name
        changed.append("full_name")
    if role is not _UNSET and role != user.role:
        user.role = role
        changed.append("role")
    if is_active is not _UNSET and is_active != user.is_active:
        user.is_active = is_active
        changed.append("is_active")
    if password is not _UNSET:
        _validate_password(password, user)
        user.set_password(password)
        changed.append("password")

    admin_role = Role.SUPER_ADMIN if user.account_id is None else Role.CLIENT_ADMIN
    if not (user.is_active and user.role == admin_role):
        _ensure_not_last_admin(user, admin_ids)
    if not changed:
        return user

    user.save(update_fields=[*changed, "updated_at"])
    if reason := _access_revoke_reason(changed, user):
        sessions.user_access_revoke(user=user, reason=reason, actor=actor, context=context)
    if reason == sessions.DEACTIVATED:
        api_keys_creator_deactivated_record(user=user, actor=actor, context=context)
    audit_log_record(
        action="user.updated",
        actor=actor,
        account=user.account,
        target=user,
        context=context,
        metadata={"fields": changed},
    )
    if "role" in changed:
        audit_log_record(
            action="user.role_changed",
            actor=actor,
            account=user.account,
            target=user,
            context=context,
            metadata={"old_role": old_role, "new_role": user.role},
        )
    return user


@transaction.atomic
def user_delete(*, user: User, actor: Principal, context: RequestContext = SYSTEM) -> None:
    """Delete a person; the last active admin of a tenant (or of the platform) cannot be deleted."""
    user, admin_ids = _lock_for_change(user)
    _ensure_not_last_admin(user, admin_ids)
    sessions.user_access_revoke(user=user, reason=sessions.DELETED, actor=actor, context=context)
    audit_log_record(
        action="user.deleted",
        actor=actor,
        account=user.account,
        target=user,
        context=context,
        metadata={"email": user.email, "role": user.role},
    )
    user.delete()
