"""The audit trail, read-only: `GET /api/v1/audit-logs`.

CLIENT_ADMIN reads its own tenant's rows, SUPER_ADMIN every row. No API path writes, edits or
deletes audit rows: other methods answer 405.
"""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django.db.models import QuerySet
from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.apis import examples
from accounts.models import AuditLog, Role
from core.apis import TenantApi
from core.filters import IdFilter, IsoDateTimeFilter, parse_id
from core.openapi import error_responses
from core.pagination import CursorPagination

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


class AuditLogFilter(django_filters.FilterSet):
    account = IdFilter(field_name="account_id", help_text="Account id (SUPER_ADMIN).")
    action = django_filters.CharFilter(field_name="action", help_text="Exact action, e.g. `user.created`.")
    actor = django_filters.CharFilter(
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


class AuditLogOutputSerializer(serializers.Serializer[Any]):
    id = serializers.UUIDField(read_only=True)
    account = serializers.IntegerField(source="account_id", allow_null=True, read_only=True)
    action = serializers.CharField(read_only=True)
    actor = serializers.CharField(source="actor_label", read_only=True, help_text="Email or `api_key:<prefix>`.")
    actor_type = serializers.SerializerMethodField(help_text="`user`, `api_key`, `platform_key` or `system`.")
    target_type = serializers.CharField(read_only=True)
    target_id = serializers.CharField(read_only=True)
    ip_address = serializers.IPAddressField(allow_null=True, read_only=True)
    user_agent = serializers.CharField(read_only=True)
    request_id = serializers.CharField(read_only=True)
    metadata = serializers.JSONField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    class Meta:
        ref_name = "AuditLogEntry"

    @extend_schema_field(serializers.ChoiceField(choices=["user", "api_key", "platform_key", "system"]))
    def get_actor_type(self, row: AuditLog) -> str:
        return actor_type(row)


class AuditLogListApi(TenantApi):
    # Every method needs CLIENT_ADMIN, so an administrator trying to write gets 405, not 403.
    required_roles: ClassVar[dict[str, str]] = dict.fromkeys(
        ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"), Role.CLIENT_ADMIN
    )
    queryset = AuditLog.objects.none()  # for the schema's filter parameters
    filter_backends: ClassVar[list[type]] = [DjangoFilterBackend]
    filterset_class = AuditLogFilter
    pagination_class = CursorPagination

    @extend_schema(
        operation_id="audit_logs_list",
        summary="List audit log entries",
        description=(
            "Newest first. CLIENT_ADMIN sees its own tenant's entries; SUPER_ADMIN sees every entry and may "
            "filter by `account`. Entries cannot be created, edited or deleted through the API."
        ),
        examples=examples.AUDIT_LOG_LIST,
        responses={
            200: AuditLogOutputSerializer(many=True),
            **error_responses(400, field_errors={"created_after": ["Enter a valid date/time."]}),
        },
    )
    def get(self, request: Request) -> Response:
        queryset = DjangoFilterBackend().filter_queryset(request, self.scoped(AuditLog.objects.all()), self)
        return self.paginated(queryset, AuditLogOutputSerializer)


urlpatterns = [
    path("audit-logs", AuditLogListApi.as_view(), name="audit-logs"),
]
