"""The audit trail, read-only: `GET /api/v1/audit-logs`.

CLIENT_ADMIN reads its own tenant's rows, SUPER_ADMIN every row. No API path writes, edits or
deletes audit rows: other methods answer 405.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.urls import path
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.apis import examples
from accounts.apis.base import TenantApi
from accounts.models import AuditLog, Role
from accounts.selectors import AuditLogFilter, actor_type
from core.openapi import error_responses
from core.pagination import CursorPagination


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
