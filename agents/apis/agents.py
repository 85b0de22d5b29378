"""A tenant's AI agents: list, create (rate-limited), show, update, delete, and the lifecycle
actions deploy-to-skybot, activate, deactivate. Reads: VIEWER and up; writes: CLIENT_ADMIN and up."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.urls import path
from django_ratelimit.core import get_usage
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.apis.base import TenantApi
from accounts.models import Role
from accounts.principals import Principal
from accounts.services.audit import RequestContext
from agents.apis import examples
from agents.models import Agent, AgentCategory, AgentStatus, ExecutionStatus
from agents.selectors import LISTED_STATUSES, agent_get, agent_list, agents_visible, execution_list
from agents.serializers import ExecutionEventSerializer
from agents.services.agents import (
    agent_activate,
    agent_create,
    agent_deactivate,
    agent_delete,
    agent_deploy,
    agent_update,
)
from core.exceptions import RateLimited
from core.openapi import PAGE_PARAMETERS, error_response, error_responses, page_of
from core.pagination import CursorPagination
from core.serializers import InputSerializer

ADMIN_WRITES: dict[str, str] = {
    "GET": Role.VIEWER,
    "HEAD": Role.VIEWER,
    "OPTIONS": Role.VIEWER,
    "POST": Role.CLIENT_ADMIN,
    "PATCH": Role.CLIENT_ADMIN,
    "DELETE": Role.CLIENT_ADMIN,
}
CREATE_LIMIT_GROUP = "agent-create"

CONFLICT = error_response(
    409,
    "Code `invalid_transition`: the agent's status does not allow this; `details` names `from` and `to`.",
    code="invalid_transition",
    message="An agent cannot go from draft to inactive.",
    details={"from": "draft", "to": "inactive"},
)
RUNNER_ERRORS = {
    409: CONFLICT,
    502: error_response(
        502,
        "Code `skybot_rejected`: the SkyBot runner refused; its message is passed on.",
        code="skybot_rejected",
        message="Workflow wf_7Hk2mP9qL4 is locked by another operation.",
    ),
    503: error_response(
        503,
        "Code `skybot_unavailable` or `skybot_not_configured`: the SkyBot runner is not reachable or not set up.",
        code="skybot_unavailable",
        message="The SkyBot runner is not reachable right now; try again later.",
    ),
}
# A `config` the template's JSON Schema refuses: each failing JSON path with its messages for people.
INVALID_CONFIG = error_response(
    400,
    "Invalid input, or a `config` the template's JSON Schema refuses (`details` names each JSON path).",
    message="The configuration does not match the template's schema.",
    details={"config.business_hours.open": ["Write the opening time as HH:MM (24 hours), such as 09:00."]},
)


class AgentSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    account = serializers.IntegerField(source="account_id")
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.ChoiceField(choices=AgentCategory.choices, help_text="The template's category.")
    template = serializers.SlugField(source="template.key", help_text="Key of the template it was made from.")
    config = serializers.JSONField(help_text="Satisfies the template's `config_schema`.")
    channels = serializers.SerializerMethodField(help_text="Ids of the channels it answers.")
    status = serializers.ChoiceField(choices=AgentStatus.choices)
    skybot_workflow_id = serializers.CharField(help_text="Its workflow on the SkyBot runner (empty until deployed).")
    deployed_at = serializers.DateTimeField(allow_null=True, help_text="When the last deployment finished.")
    last_error = serializers.CharField(help_text="Why the last deployment failed (empty when it did not).")
    reply_timeout_seconds = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    class Meta:
        ref_name = "Agent"

    def get_channels(self, agent: Agent) -> list[int]:
        return [channel.pk for channel in agent.channels.all()]  # prefetched


def _create_limit_usage(request: Request, principal: Principal, *, increment: bool) -> dict[str, Any]:
    key = str(principal.pk)  # per person or per API key
    usage = get_usage(
        request,
        group=CREATE_LIMIT_GROUP,
        key=lambda _group, _request: key,
        rate=settings.AGENT_CREATE_RATE,
        increment=increment,
    )
    return usage or {"count": 0, "limit": 1, "time_left": 0}


class _AgentApi(TenantApi):
    required_roles = ADMIN_WRITES

    def agent(self, pk: int) -> Agent:
        """The caller's agent (not deleted); the same 404 for missing, deleted and other tenants'."""
        return agent_get(principal=self.principal, pk=pk)

    def answer(self, agent: Agent, *, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = agents_visible(scoped=Agent.objects.filter(pk=agent.pk)).first() or agent
        return Response(AgentSerializer(fresh).data, status=status_code)


class AgentListApi(_AgentApi):
    class InputSerializer(InputSerializer):
        name = serializers.CharField(max_length=100)
        template = serializers.SlugField(max_length=64, help_text="Key of an agent template.")
        config = serializers.DictField(
            child=serializers.JSONField(), help_text="Must satisfy the template's `config_schema`."
        )
        description = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
        channels = serializers.ListField(
            child=serializers.IntegerField(min_value=1), required=False, default=list, max_length=100
        )
        reply_timeout_seconds = serializers.IntegerField(
            min_value=10,
            max_value=3600,
            required=False,
            default=120,
            help_text="Hand the conversation to the team when the agent has not answered by then.",
        )
        account = serializers.IntegerField(required=False, min_value=1, help_text="Platform staff only: the tenant.")

        class Meta:
            ref_name = "AgentCreateInput"

    @extend_schema(
        operation_id="agents_list",
        summary="List agents",
        description="Newest first; deleted agents are not listed.",
        parameters=[
            OpenApiParameter("status", str, enum=[value for value, _ in LISTED_STATUSES]),
            OpenApiParameter("category", str, enum=AgentCategory.values),
            *PAGE_PARAMETERS,
        ],
        examples=examples.AGENT_LIST,
        responses={
            200: page_of(AgentSerializer, "AgentPage"),
            **error_responses(
                400, field_errors={"status": ["Select a valid choice. running is not one of the available choices."]}
            ),
        },
    )
    def get(self, request: Request) -> Response:
        queryset = agent_list(principal=self.principal, filters=request.query_params)
        return self.paginated(queryset, AgentSerializer)

    @extend_schema(
        operation_id="agents_create",
        summary="Create an agent",
        description=(
            "Validates `config` against the template's JSON Schema (400 naming each failing JSON path, "
            "e.g. `config.max_discount_percent`) and starts its deployment to the SkyBot runner in the "
            "background: the answer has `status` `deploying`. An agent made from an installed plugin's "
            "template (`runtime` `plugin`) needs no deployment: it is `active` at once. Limited per person or API key "
            "(`AGENT_CREATE_RATE`, 5 a minute by default)."
        ),
        request=InputSerializer,
        examples=examples.AGENT_CREATE,
        responses={201: AgentSerializer, **error_responses(), 400: INVALID_CONFIG},
    )
    def post(self, request: Request) -> Response:
        usage = _create_limit_usage(request, self.principal, increment=False)
        if usage["count"] >= usage["limit"]:
            raise RateLimited("Too many agents created; try again later.", retry_after=usage["time_left"])
        data = self.validated(self.InputSerializer, request)
        account = self.account_for_create(data.pop("account", None))
        agent = agent_create(
            account=account, actor=self.principal, context=RequestContext.from_request(request), **data
        )
        _create_limit_usage(request, self.principal, increment=True)
        return self.answer(agent, status_code=status.HTTP_201_CREATED)


class AgentDetailApi(_AgentApi):
    class InputSerializer(InputSerializer):
        name = serializers.CharField(max_length=100, required=False)
        description = serializers.CharField(max_length=2000, required=False, allow_blank=True)
        config = serializers.DictField(
            child=serializers.JSONField(),
            required=False,
            help_text="Validated again; an agent already deployed is redeployed with it.",
        )
        channels = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, max_length=100)
        reply_timeout_seconds = serializers.IntegerField(min_value=10, max_value=3600, required=False)

        class Meta:
            ref_name = "AgentUpdateInput"

    @extend_schema(
        operation_id="agents_retrieve",
        summary="Show an agent",
        examples=examples.AGENT_DETAIL,
        responses={200: AgentSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(AgentSerializer(self.agent(pk)).data)

    @extend_schema(
        operation_id="agents_update",
        summary="Update an agent",
        description=(
            "Changes `name`, `description`, `config`, `channels` or `reply_timeout_seconds`. A new "
            "`config` of an agent that is active, inactive or failed redeploys it (`status` `deploying`); "
            "while it is deploying its `config` cannot change (409)."
        ),
        request=InputSerializer,
        examples=examples.AGENT_UPDATE,
        responses={200: AgentSerializer, **error_responses(404), 400: INVALID_CONFIG, 409: CONFLICT},
    )
    def patch(self, request: Request, pk: int) -> Response:
        agent = self.agent(pk)
        data = self.validated(self.InputSerializer, request)
        agent = agent_update(agent=agent, actor=self.principal, context=RequestContext.from_request(request), **data)
        return self.answer(agent)

    @extend_schema(
        operation_id="agents_delete",
        summary="Delete an agent",
        description=(
            "Deactivates and deletes its workflow on the SkyBot runner, then marks the agent deleted: "
            "it leaves lists and answers 404. If the runner fails, nothing changes (502/503)."
        ),
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(404), **RUNNER_ERRORS},
    )
    def delete(self, request: Request, pk: int) -> Response:
        agent_delete(agent=self.agent(pk), actor=self.principal, context=RequestContext.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class AgentDeployApi(_AgentApi):
    @extend_schema(
        operation_id="agents_deploy",
        summary="Deploy an agent to the SkyBot runner (again)",
        description=(
            "Starts a new deployment in the background (`status` `deploying`); allowed from draft, "
            "active, inactive and failed. A paused (inactive) agent stays paused once redeployed."
        ),
        request=None,
        examples=examples.AGENT_DEPLOY,
        responses={202: AgentSerializer, **error_responses(404), 409: CONFLICT},
    )
    def post(self, request: Request, pk: int) -> Response:
        agent = agent_deploy(agent=self.agent(pk), actor=self.principal, context=RequestContext.from_request(request))
        return self.answer(agent, status_code=status.HTTP_202_ACCEPTED)


class AgentActivateApi(_AgentApi):
    @extend_schema(
        operation_id="agents_activate",
        summary="Activate an inactive agent",
        request=None,
        examples=examples.AGENT_ACTIVATE,
        responses={200: AgentSerializer, **error_responses(404), **RUNNER_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        agent = agent_activate(agent=self.agent(pk), actor=self.principal, context=RequestContext.from_request(request))
        return self.answer(agent)


class AgentDeactivateApi(_AgentApi):
    @extend_schema(
        operation_id="agents_deactivate",
        summary="Deactivate an active agent",
        request=None,
        examples=examples.AGENT_DEACTIVATE,
        responses={200: AgentSerializer, **error_responses(404), **RUNNER_ERRORS},
    )
    def post(self, request: Request, pk: int) -> Response:
        agent = agent_deactivate(
            agent=self.agent(pk), actor=self.principal, context=RequestContext.from_request(request)
        )
        return self.answer(agent)


class ExecutionPagination(CursorPagination):
    ordering = ("-started_at", "-id")


class AgentExecutionListApi(_AgentApi):
    @extend_schema(
        operation_id="agents_executions_list",
        summary="List an agent's executions, newest first",
        description=(
            "Each run of the agent as the runner (or the plugin sandbox) reported it; the same shape as the "
            "`execution.*` webhook events. `since` and `until` bound the start time (`since` ≤ started_at < "
            "`until`)."
        ),
        parameters=[
            OpenApiParameter("status", str, enum=ExecutionStatus.values),
            OpenApiParameter("since", OpenApiTypes.DATETIME),
            OpenApiParameter("until", OpenApiTypes.DATETIME),
            *PAGE_PARAMETERS,
        ],
        examples=examples.EXECUTION_LIST,
        responses={
            200: page_of(ExecutionEventSerializer, "AgentExecutionPage"),
            **error_responses(
                400, 404, field_errors={"status": ["Select a valid choice. lost is not one of the available choices."]}
            ),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        executions = execution_list(agent=self.agent(pk), filters=request.query_params)
        return self.paginated(executions, ExecutionEventSerializer, pagination_class=ExecutionPagination)


urlpatterns = [
    path("agents", AgentListApi.as_view(), name="agent-list"),
    path("agents/<int:pk>", AgentDetailApi.as_view(), name="agent-detail"),
    path("agents/<int:pk>/executions", AgentExecutionListApi.as_view(), name="agent-execution-list"),
    path("agents/<int:pk>/deploy-to-skybot", AgentDeployApi.as_view(), name="agent-deploy"),
    path("agents/<int:pk>/activate", AgentActivateApi.as_view(), name="agent-activate"),
    path("agents/<int:pk>/deactivate", AgentDeactivateApi.as_view(), name="agent-deactivate"),
]
