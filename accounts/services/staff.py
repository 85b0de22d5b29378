"""Platform staff acting in a tenant: entering and leaving one, each an audit row in that tenant.

Staff belong to no tenant. To see and work a tenant's pages they choose one (the web's tenant
switcher); from then on `page()` gives them a `Principal.for_staff_in` that tenant until they stop.
The tenant's own audit log shows when staff came in and left, and every change in between under the
staff member's email. A disabled tenant cannot be entered.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from accounts.models import Account, User
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core.exceptions import ApplicationError, Forbidden

ENTERED = "staff.tenant_entered"
LEFT = "staff.tenant_left"

NOT_STAFF = "Only platform staff choose a workspace to act in."
NO_SUCH_WORKSPACE = "Choose one of the workspaces listed."
WORKSPACE_IS_DISABLED = "This workspace is disabled: nobody can work in it until it is turned back on."


def _invalid(message: str) -> ApplicationError:
    return ApplicationError("Invalid input.", code="validation_error", details={"account": [message]})


def _require_staff(staff: User) -> None:
    if not staff.is_platform_staff:
        raise Forbidden(NOT_STAFF)


@transaction.atomic
def staff_tenant_enter(
    *, staff: User, account_id: Any, previous: Account | None = None, context: RequestContext = SYSTEM
) -> Account:
    """The active tenant `account_id` that `staff` now acts in; leaving `previous` first, if any."""
    _require_staff(staff)
    try:
        account = Account.objects.get(pk=int(account_id))
    except (Account.DoesNotExist, TypeError, ValueError):
        raise _invalid(NO_SUCH_WORKSPACE) from None
    if not account.is_active:
        raise _invalid(WORKSPACE_IS_DISABLED)
    if previous is not None and previous.pk != account.pk:
        staff_tenant_leave(staff=staff, account=previous, context=context)
    if previous is None or previous.pk != account.pk:
        audit_log_record(
            action=ENTERED,
            actor=Principal.for_staff_in(staff, account),
            account=account,
            target=account,
            context=context,
            metadata={"name": account.name},
        )
    return account


@transaction.atomic
def staff_tenant_leave(*, staff: User, account: Account, context: RequestContext = SYSTEM, reason: str = "") -> None:
    """`staff` stops acting in `account` (`reason`: why, when they did not choose to)."""
    _require_staff(staff)
    metadata = {"name": account.name, **({"reason": reason} if reason else {})}
    audit_log_record(
        action=LEFT,
        actor=Principal.for_staff_in(staff, account),
        account=account,
        target=account,
        context=context,
        metadata=metadata,
    )
