"""Django admin for platform staff: the template catalogue (editable, schemas checked) and agents
(read-only: their changes go through the API, which validates, audits and talks to the runner).
No secret is shown: not the runner's key, nor an agent's deployment key."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from accounts.admin import AuditedAdmin
from agents.models import Agent, AgentTemplate


class AgentTemplateForm(forms.ModelForm):
    class Meta:
        model = AgentTemplate
        fields = ["key", "name", "category", "description", "config_schema", "workflow", "is_active"]

    def clean_config_schema(self) -> Any:
        schema = self.cleaned_data["config_schema"]
        if not isinstance(schema, dict):
            raise forms.ValidationError("A JSON Schema is a JSON object.")
        try:
            validator_for(schema, default=Draft202012Validator).check_schema(schema)
        except SchemaError as exc:
            raise forms.ValidationError(f"Not a valid JSON Schema: {exc.message}") from None
        return schema


@admin.register(AgentTemplate)
class AgentTemplateAdmin(AuditedAdmin):
    audit_entity = "agent_template"
    form = AgentTemplateForm
    list_display = ("name", "key", "category", "is_active", "updated_at")
    list_filter = ("category", "is_active")
    search_fields = ("key", "name")
    readonly_fields = ("created_at", "updated_at")

    def has_delete_permission(self, request: HttpRequest, obj: AgentTemplate | None = None) -> bool:
        # Agents keep a reference to their template: switch it off (`is_active`) instead.
        return False


@admin.register(Agent)
class AgentAdmin(admin.ModelAdmin):
    list_display = ("name", "account", "category", "template", "status", "deployed_at", "created_at")
    list_filter = ("status", "category")
    search_fields = ("name", "account__name", "account__slug", "skybot_workflow_id")
    list_select_related = ("account", "template")
    fields = (
        "account",
        "name",
        "description",
        "category",
        "template",
        "config",
        "channels",
        "status",
        "skybot_workflow_id",
        "deployed_at",
        "last_error",
        "reply_timeout_seconds",
        "created_by",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Agent | None = None) -> bool:
        return False
