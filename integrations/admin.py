"""Django admin for platform staff: webhook endpoints and their delivery log, read-only (never a
secret). Tenants manage endpoints through the API, where every change is audited."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from accounts.admin import ReadOnlyAdmin
from integrations.models import EventDelivery, EventDeliveryAttempt, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ("url", "account", "source", "is_active", "disabled_reason", "consecutive_failures", "created_at")
    list_filter = ("source", "is_active", "disabled_reason")
    list_select_related = ("account",)
    search_fields = ("url", "description", "account__name", "account__slug")
    # Named one by one: the secrets are never among them.
    fields = (
        "account",
        "source",
        "url",
        "description",
        "events",
        "is_active",
        "disabled_reason",
        "disabled_at",
        "previous_secret_expires_at",
        "consecutive_failures",
        "failing_since",
        "last_success_at",
        "last_failure_at",
        "created_by",
        "created_by_api_key",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields


class EventDeliveryAttemptInline(admin.TabularInline):
    model = EventDeliveryAttempt
    extra = 0
    can_delete = False
    fields = ("number", "status_code", "duration_ms", "error", "response_excerpt", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(EventDelivery)
class EventDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "endpoint", "event", "status", "attempt_count", "next_attempt_at", "created_at")
    list_filter = ("status",)
    list_select_related = ("endpoint", "event")
    raw_id_fields = ("endpoint", "event", "account")
    inlines = [EventDeliveryAttemptInline]
