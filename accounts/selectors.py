"""Reads of the accounts domain. Each takes the caller's scope (its `Principal`) first."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, timedelta
from typing import Any

import django_filters as filters
from django.db.models import QuerySet
from django.db.models.query import ModelIterable
from django.utils import timezone
from django_filters import rest_framework as django_filters
from rest_framework.exceptions import ValidationError

from accounts.models import ApiKey, ApiKeyUsageDay, AuditLog, Role, User
from accounts.principals import Principal
from accounts.scoping import tenant_row, tenant_rows
from accounts.services.api_key_usage import UsageCounters, usage_live_counters, usage_live_last_used
from core.filters import IdFilter, IsoDateTimeFilter, StrictBooleanFilter, parse_id


class ApiKeyFilter(django_filters.FilterSet):
    is_active = StrictBooleanFilter(help_text="Only active (true) or only revoked (false) keys.")

    class Meta:
        model = ApiKey
        fields = ["is_active"]


class _LastUseIncludingRedis(ModelIterable):
    """Keys whose `last_used_at` includes uses counted in Redis and not flushed yet (see
    `accounts.services.api_key_usage`): one `HMGET` for all the keys a query fetches."""

    def __iter__(self) -> Iterator[ApiKey]:
        keys = list(super().__iter__())
        unflushed = usage_live_last_used(keys)
        for key in keys:
            used = unflushed.get(key.pk)
            if used is not None and (key.last_used_at is None or key.last_used_at < used):
                key.last_used_at = used
        return iter(keys)


def _api_keys_of(principal: Principal) -> QuerySet[ApiKey]:
    """The keys `principal` may see: its tenant's, or every tenant's for platform staff."""
    keys = tenant_rows(ApiKey.objects.select_related("account", "created_by"), principal=principal)
    keys._iterable_class = _LastUseIncludingRedis  # kept by every queryset derived from it
    return keys


def api_key_list(*, principal: Principal, filters: Mapping[str, Any] | None = None) -> QuerySet[ApiKey]:
    """The keys `principal` may see, filtered by `is_active`; 400 on a filter value that is not a boolean."""
    filterset = ApiKeyFilter(data=filters or {}, queryset=_api_keys_of(principal))
    if not filterset.is_valid():
        raise ValidationError(filterset.errors)
    return filterset.qs


def api_key_get(*, principal: Principal, pk: Any) -> ApiKey:
    """One key `principal` may see; the same 404 for a missing key and another tenant's key."""
    return tenant_row(_api_keys_of(principal), principal=principal, pk=pk)


# --- API key usage --------------------------------------------------------------------------------


@dataclass(frozen=True)
class UsageDay:
    """One day of requests: how many, and how many were answered with a 4xx or a 5xx."""

    day: date
    requests: int = 0
    client_errors: int = 0
    server_errors: int = 0

    @property
    def succeeded(self) -> int:
        return max(self.requests - self.client_errors - self.server_errors, 0)

    @property
    def errors(self) -> int:
        return self.client_errors + self.server_errors


@dataclass(frozen=True)
class Usage:
    """Requests per day over a window, every day present (oldest first), with the window's totals."""

    days: list[UsageDay]

    @property
    def requests(self) -> int:
        return sum(day.requests for day in self.days)

    @property
    def client_errors(self) -> int:
        return sum(day.client_errors for day in self.days)

    @property
    def server_errors(self) -> int:
        return sum(day.server_errors for day in self.days)

    @property
    def errors(self) -> int:
        return self.client_errors + self.server_errors


def usage_window(days: int, *, today: date | None = None) -> list[date]:
    """The last `days` days up to today (UTC), oldest first."""
    last = today or timezone.localdate(timezone=UTC)  # not the viewer's day: usage days are UTC
    return [last - timedelta(days=offset) for offset in range(days - 1, -1, -1)]


def _usage(window: list[date], rows: Iterable[Mapping[str, Any]]) -> Usage:
    """The rows' counts day by day (a day may come both from the database and from Redis)."""
    counted: dict[date, list[int]] = {}
    for row in rows:
        total = counted.setdefault(row["day"], [0, 0, 0])
        total[0] += row["requests"]
        total[1] += row["client_errors"]
        total[2] += row["server_errors"]
    return Usage(days=[UsageDay(day, *counted.get(day, ())) for day in window])


def _usage_rows(principal: Principal, window: list[date]) -> QuerySet[ApiKeyUsageDay]:
    return tenant_rows(ApiKeyUsageDay.objects.filter(day__gte=window[0], day__lte=window[-1]), principal=principal)


def _unflushed_rows(principal: Principal, window: list[date], counters: UsageCounters) -> list[dict[str, Any]]:
    """Counts still in Redis (not flushed to the day rows yet) of the keys `principal` may see, in
    `window`, shaped like the rows' `values()`."""
    own_account = principal.account.pk if principal.account is not None else None
    return [
        {
            "api_key_id": key_id,
            "day": day,
            "requests": counts[0],
            "client_errors": counts[1],
            "server_errors": counts[2],
        }
        for (account_id, key_id, day), counts in counters.days.items()
        if (principal.is_platform or account_id == own_account) and window[0] <= day <= window[-1]
    ]


def api_key_usage_by_key(*, principal: Principal, days: int, today: date | None = None) -> dict[int, Usage]:
    """Each key's usage over the last `days` days (keys `principal` may see; a key without requests
    in the window is absent). One query and one Redis `HGETALL`, whatever the number of keys."""
    window = usage_window(days, today=today)
    by_key: dict[int, list[Mapping[str, Any]]] = {}
    rows = _usage_rows(principal, window).values("api_key_id", "day", "requests", "client_errors", "server_errors")
    for row in [*rows, *_unflushed_rows(principal, window, usage_live_counters())]:
        by_key.setdefault(row["api_key_id"], []).append(row)
    return {key_id: _usage(window, key_rows) for key_id, key_rows in by_key.items()}


def api_key_usage(*, principal: Principal, api_key: ApiKey, days: int, today: date | None = None) -> Usage:
    """One key's usage over the last `days` days (nothing for a key of another tenant)."""
    window = usage_window(days, today=today)
    rows = _usage_rows(principal, window).filter(api_key=api_key)
    unflushed = [
        row for row in _unflushed_rows(principal, window, usage_live_counters()) if row["api_key_id"] == api_key.pk
    ]
    return _usage(window, [*rows.values("day", "requests", "client_errors", "server_errors"), *unflushed])


def usage_total(usages: Iterable[Usage], *, days: int, today: date | None = None) -> Usage:
    """Several keys' usage added up, day by day."""
    window = usage_window(days, today=today)
    totals = {day: [0, 0, 0] for day in window}
    for usage in usages:
        for point in usage.days:
            if point.day in totals:
                total = totals[point.day]
                total[0] += point.requests
                total[1] += point.client_errors
                total[2] += point.server_errors
    return Usage(days=[UsageDay(day, *totals[day]) for day in window])


# --- people ---------------------------------------------------------------------------------------


def _users_of(principal: Principal) -> QuerySet[User]:
    return tenant_rows(User.objects.select_related("account"), principal=principal)


def user_list(*, principal: Principal) -> QuerySet[User]:
    """The people `principal` may manage: active ones first, then by email."""
    return _users_of(principal).order_by("-is_active", "email")


def user_get(*, principal: Principal, pk: Any) -> User:
    """One person `principal` may manage; the same 404 for a missing person and another tenant's."""
    return tenant_row(_users_of(principal), principal=principal, pk=pk)


# --- audit trail ----------------------------------------------------------------------------------

API_KEY_LABEL = "api_key:"
PLATFORM_KEY_LABEL = "platform_key"


def actor_type(row: AuditLog) -> str:
    """`user`, `api_key`, `platform_key` or `system`, from the row alone (also after the actor is gone)."""
    label = row.actor_label
    if row.actor_user_id is not None or "@" in label:
        return "user"
    if row.actor_api_key_id is not None or label.startswith(API_KEY_LABEL):
        return "api_key"
    if label == PLATFORM_KEY_LABEL:
        return "platform_key"
    return "system"


class AuditLogFilter(filters.FilterSet):
    account = IdFilter(field_name="account_id", help_text="Account id (SUPER_ADMIN).")
    action = filters.CharFilter(field_name="action", help_text="Exact action, e.g. `user.created`.")
    actor = filters.CharFilter(
        method="filter_actor", help_text="A user id, an email, or an API key prefix (`api_key:<prefix>` also works)."
    )
    created_after = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="ISO 8601 datetime, inclusive."
    )
    created_before = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="ISO 8601 datetime, exclusive."
    )

    class Meta:
        model = AuditLog
        fields = ["account", "action", "actor", "created_after", "created_before"]

    def filter_actor(self, queryset: QuerySet[AuditLog], name: str, value: str) -> QuerySet[AuditLog]:
        value = value.strip()
        if value.isdigit():
            user_id = parse_id(value)
            return queryset.filter(actor_user_id=user_id) if user_id is not None else queryset.none()
        if "@" in value:
            # The label keeps the email after the person is deleted.
            return queryset.filter(actor_label__iexact=value)
        return queryset.filter(actor_label=f"{API_KEY_LABEL}{value.removeprefix(API_KEY_LABEL)}")


def audit_log_scope(*, principal: Principal) -> QuerySet[AuditLog]:
    """The audit rows `principal` may read, newest first: its tenant's, or every row for platform staff
    (with who acted, which pages name)."""
    return tenant_rows(AuditLog.objects.select_related("actor_user", "actor_api_key"), principal=principal)


def audit_log_actions(*, principal: Principal) -> list[str]:
    """The distinct actions in `principal`'s audit rows, alphabetically (for a filter's choices)."""
    return list(audit_log_scope(principal=principal).order_by("action").values_list("action", flat=True).distinct())


def account_admin_emails(*, account_id: int) -> list[str]:
    """Where to tell a tenant about something its admins must act on: its active CLIENT_ADMINs' emails."""
    return list(
        User.objects.filter(account_id=account_id, role=Role.CLIENT_ADMIN, is_active=True)
        .exclude(email="")
        .order_by("id")
        .values_list("email", flat=True)
    )
