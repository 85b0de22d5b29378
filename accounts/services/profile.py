"""Time zones people read times in: a person's own, and their workspace's (the default for its people)."""

from __future__ import annotations

from django.db import transaction

from accounts.models import Account, User
from accounts.principals import Principal
from accounts.services.audit import SYSTEM, RequestContext, audit_log_record
from core.exceptions import ApplicationError
from core.timezones import is_time_zone

NOT_A_TIME_ZONE = "Choose a time zone from the list, such as Europe/Lisbon."


@transaction.atomic
def user_time_zone_set(*, user: User, time_zone: str, actor: Principal, context: RequestContext = SYSTEM) -> User:
    """Set the IANA zone `user` sees times in; "" goes back to their workspace's."""
    if time_zone and not is_time_zone(time_zone):
        raise ApplicationError("Invalid input.", code="validation_error", details={"time_zone": [NOT_A_TIME_ZONE]})
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.time_zone == time_zone:
        return user
    previous, user.time_zone = user.time_zone, time_zone
    user.save(update_fields=["time_zone", "updated_at"])
    audit_log_record(
        action="user.time_zone_changed",
        actor=actor,
        account=user.account,
        target=user,
        context=context,
        metadata={"old_time_zone": previous, "new_time_zone": time_zone},
    )
    return user


@transaction.atomic
def account_time_zone_set(
    *, account: Account, time_zone: str, actor: Principal, context: RequestContext = SYSTEM
) -> Account:
    """Set the IANA zone the workspace's people see times in unless they chose their own; "" is UTC."""
    if time_zone and not is_time_zone(time_zone):
        raise ApplicationError("Invalid input.", code="validation_error", details={"time_zone": [NOT_A_TIME_ZONE]})
    account = Account.objects.select_for_update().get(pk=account.pk)
    if account.time_zone == time_zone:
        return account
    previous, account.time_zone = account.time_zone, time_zone
    account.save(update_fields=["time_zone", "updated_at"])
    audit_log_record(
        action="account.time_zone_changed",
        actor=actor,
        account=account,
        target=account,
        context=context,
        metadata={"old_time_zone": previous, "new_time_zone": time_zone},
    )
    return account
