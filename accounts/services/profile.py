"""Time zones people read times in: a person's own, and their workspace's (the default for its people)."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Account, User
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core.exceptions import ApplicationError
from core.timezones import is_time_zone

NOT_A_TIME_ZONE = "Choose a time zone from the list, such as Europe/Lisbon."


def _time_zone_set(
    row: User | Account,
    *,
    time_zone: str,
    action: str,
    account: Account | None,
    actor: Principal,
    context: RequestContext,
) -> None:
    """Save `row.time_zone` (locked, IANA names only) and audit the change; no change, no row."""
    if time_zone and not is_time_zone(time_zone):
        raise ApplicationError("Invalid input.", code="validation_error", details={"time_zone": [NOT_A_TIME_ZONE]})
    if row.time_zone == time_zone:
        return
    previous, row.time_zone = row.time_zone, time_zone
    row.save(update_fields=["time_zone", "updated_at"])
    audit_log_record(
        action=action,
        actor=actor,
        account=account,
        target=row,
        context=context,
        metadata={"old_time_zone": previous, "new_time_zone": time_zone},
    )


@transaction.atomic
def user_time_zone_set(*, user: User, time_zone: str, actor: Principal, context: RequestContext = SYSTEM) -> User:
    """Set the IANA zone `user` sees times in; "" goes back to their workspace's."""
    user = User.objects.select_for_update().get(pk=user.pk)
    _time_zone_set(
        user, time_zone=time_zone, action="user.time_zone_changed", account=user.account, actor=actor, context=context
    )
    return user


@transaction.atomic
def account_time_zone_set(
    *, account: Account, time_zone: str, actor: Principal, context: RequestContext = SYSTEM
) -> Account:
    """Set the IANA zone the workspace's people see times in unless they chose their own; "" is UTC."""
    account = Account.objects.select_for_update().get(pk=account.pk)
    _time_zone_set(
        account, time_zone=time_zone, action="account.time_zone_changed", account=account, actor=actor, context=context
    )
    return account
