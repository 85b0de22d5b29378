"""The agent template catalogue: what kinds of agent a tenant can create, and the JSON Schema each
one's `config` must satisfy."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.apis.base import TenantApi
from agents.apis import examples
from agents.models import AgentCategory, AgentRuntime
from agents.selectors import template_list
from agents.skybot import runner_configured
from core.openapi import error_responses


class AgentTemplateSerializer(serializers.Serializer[Any]):
    key = serializers.SlugField(help_text="Name it as `template` when creating an agent.")
    name = serializers.CharField()
    category = serializers.ChoiceField(choices=AgentCategory.choices)
    description = serializers.CharField()
    runtime = serializers.ChoiceField(
        choices=AgentRuntime.choices,
        help_text=(
            "`runner`: deployed on the SkyBot runner; `plugin`: a plugin the tenant installed, run by the platform."
        ),
    )
    config_schema = serializers.JSONField(help_text="JSON Schema (draft 2020-12) an agent's `config` must satisfy.")

    class Meta:
        ref_name = "AgentTemplate"


class AgentTemplateListApi(TenantApi):
    required_roles = {"GET": TenantApi.required_roles["GET"], "HEAD": TenantApi.required_roles["HEAD"]}

    @extend_schema(
        operation_id="agent_templates_list",
        summary="List agent templates",
        description=(
            "The templates the tenant can create agents from (a few dozen at most), ordered by category and "
            "name; not paginated. Runner templates are listed only when this server has a SkyBot runner "
            "(`SKYBOT_API_URL`)."
        ),
        examples=examples.TEMPLATE_LIST,
        responses={200: AgentTemplateSerializer(many=True), **error_responses()},
    )
    def get(self, request: Request) -> Response:
        templates = template_list(principal=self.principal, with_runner=runner_configured())
        return Response(AgentTemplateSerializer(templates, many=True).data)


urlpatterns = [path("agent-templates", AgentTemplateListApi.as_view(), name="agent-template-list")]
