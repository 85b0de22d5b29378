"""`/api/v1/integrations/zapier/...`: what a Zapier app needs, for one tenant, with its API key
(`X-API-Key`).

- `auth/test`: the connection test and its label.
- Polling triggers `triggers/new-lead`, `triggers/agent-executed`: a plain JSON array, newest first,
  at most 100 items, each with a stable unique `id` (Zapier deduplicates on it).
- REST hooks `hooks` (subscribe) and `hooks/{id}` (unsubscribe): a webhook endpoint with
  `source=zapier`, delivered by the same retried, signed, SSRF-guarded machinery; a 410 from the
  hook removes it. The hook receives `{"type", "timestamp", "data"}`, `data` being exactly the
  item the matching polling trigger answers.
- Actions `actions/create-lead`, `actions/send-message`, idempotent with `Idempotency-Key`.

Reads need the `read` scope and actions `write`. Hooks send the tenant's data to a URL of the caller's
choosing, so subscribing and unsubscribing one needs what creating a webhook endpoint needs:
CLIENT_ADMIN, or a key with the `admin` scope (`integrations.apis.webhooks.ADMIN_ONLY`).
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import schema as _auth_schemes  # noqa: F401  (registers the OpenAPI auth schemes)
from accounts.apis.base import TenantApi
from accounts.models import Account, Role
from accounts.services.audit import RequestContext
from agents.serializers import ExecutionEventSerializer
from core.exceptions import Forbidden
from core.openapi import ApiErrorSerializer, error_response, error_responses
from core.serializers import InputSerializer
from inbox.apis.conversations import TemplateInput
from inbox.models import Contact, LeadStatus, Message
from inbox.serializers import LeadSerializer, MessageSerializer, lead_event_data, message_event_data
from inbox.services.crm import lead_create
from integrations.apis.webhooks import ADMIN_ONLY, TOO_MANY_ENDPOINTS
from integrations.events import EXECUTION_FIELDS, LEAD_FIELDS, MESSAGE_FIELDS, public_data
from integrations.models import EndpointSource, WebhookEndpoint
from integrations.selectors import POLL_LIMIT, executions_finished_newest, leads_newest
from integrations.services.idempotency import HEADER, ActionResult, idempotent_action
from integrations.services.webhooks import webhook_endpoint_delete
from integrations.services.zapier import HOOK_EVENT_CHOICES, zapier_hook_subscribe, zapier_message_send

TAGS = ["zapier"]
READ: dict[str, str] = {"GET": Role.VIEWER, "HEAD": Role.VIEWER}
WRITE: dict[str, str] = {"POST": Role.USER, "DELETE": Role.USER}

LEAD_EXAMPLE = {
    "id": 40,
    "name": "Ada Lovelace",
    "email": "ada@example.com",
    "phone": "+447700900123",
    "company": "Analytical Engines Ltd",
    "source": "zapier",
    "status": "new",
    "score": 0,
    "contact": None,
    "metadata": {},
    "created_at": "2026-05-04T09:12:02.918000Z",
    "updated_at": "2026-05-04T09:12:02.918000Z",
}
EXECUTION_EXAMPLE = {
    "id": 9051,
    "agent": 3,
    "external_id": "exec-7f3a",
    "status": "succeeded",
    "started_at": "2026-05-04T09:10:00Z",
    "finished_at": "2026-05-04T09:10:02.400000Z",
    "duration_ms": 2400,
    "input_summary": "Customer asks for opening hours",
    "output_summary": "Replied with the opening hours",
    "error": "",
    "conversation": 77,
    "message": 1204,
}
MESSAGE_EXAMPLE = {
    "id": 1205,
    "conversation": 77,
    "channel": 2,
    "contact": {"id": 31, "wa_id": "16505551234", "name": "Ada Lovelace"},
    "direction": "out",
    "type": "template",
    "text": "[template order_update]",
    "media": {},
    "external_id": None,
    "status": "queued",
    "error": None,
    "sender_user": None,
    "sender_agent": None,
    "sent_at": None,
    "delivered_at": None,
    "read_at": None,
    "failed_at": None,
    "external_timestamp": None,
    "created_at": "2026-05-04T09:12:02.918000Z",
}
IDEMPOTENCY_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    location=OpenApiParameter.HEADER,
    description=(
        "Any unique string up to 255 visible ASCII characters (a UUID). A retry with the same key and body "
        "within 24 hours answers the first result (header `Idempotent-Replayed: true`) and creates nothing."
    ),
)
KEY_IN_PROGRESS = OpenApiExample(
    "Key in progress",
    value={
        "code": "idempotency_key_in_progress",
        "message": "A request with this Idempotency-Key is still being processed.",
        "details": {},
    },
    response_only=True,
)
IDEMPOTENCY_ERRORS = {
    409: OpenApiResponse(
        ApiErrorSerializer,
        description="Code `idempotency_key_in_progress`: a request with this key is still running; retry.",
        examples=[KEY_IN_PROGRESS],
    ),
    422: OpenApiResponse(
        ApiErrorSerializer,
        description="Code `idempotency_key_reused`: this key was used with a different request.",
        examples=[
            OpenApiExample(
                "Key reused",
                value={
                    "code": "idempotency_key_reused",
                    "message": "This Idempotency-Key was already used with a different request.",
                    "details": {},
                },
                response_only=True,
            )
        ],
    ),
}
HOOKS_FORBIDDEN = error_response(
    403,
    "A hook sends the tenant's events to its URL, so it needs CLIENT_ADMIN or an API key with the `admin` "
    "scope (as creating a webhook endpoint does); a `read` or `write` key is refused and nothing changes.",
)


# The Zapier items carry the public fields of `integrations.events`, whatever the feed adds.
class ZapierLeadSerializer(LeadSerializer):
    class Meta(LeadSerializer.Meta):
        ref_name = "ZapierLead"
        fields = list(LEAD_FIELDS)


class ZapierExecutionSerializer(ExecutionEventSerializer):
    class Meta(ExecutionEventSerializer.Meta):
        ref_name = "ZapierAgentExecution"
        fields = list(EXECUTION_FIELDS)


class ZapierContactSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    wa_id = serializers.CharField()
    name = serializers.CharField()

    class Meta:
        ref_name = "ZapierContact"


class ZapierMessageSerializer(MessageSerializer):
    channel = serializers.IntegerField(read_only=True)
    contact = ZapierContactSerializer(read_only=True)

    class Meta(MessageSerializer.Meta):
        ref_name = "ZapierMessage"
        fields = list(MESSAGE_FIELDS)


def lead_item(data: dict[str, Any]) -> dict[str, Any]:
    return public_data("lead.created", data)


def message_item(message: Message, contact: Contact) -> dict[str, Any]:
    return public_data(
        "message.created",
        {
            **message_event_data(message),
            "channel": message.channel_id,
            "contact": {"id": contact.pk, "wa_id": contact.wa_id, "name": contact.name},
        },
    )


def _replayable(result: ActionResult) -> Response:
    response = Response(result.body, status=result.status_code)
    if result.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


class ZapierApi(TenantApi):
    """Acts for exactly one tenant: platform-wide credentials are refused."""

    tenant: Account

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if self.principal.account is None:
            raise Forbidden("These endpoints act for one tenant: use one of its API keys.", code="tenant_required")
        self.tenant = self.principal.account


class AuthTestApi(ZapierApi):
    required_roles = READ

    class AuthTestSerializer(serializers.Serializer[Any]):
        id = serializers.IntegerField(help_text="The account's id.")
        name = serializers.CharField(help_text="The account's name.")
        slug = serializers.CharField()
        label = serializers.CharField(  # type: ignore[assignment]
            help_text="What Zapier shows for the connection: account and key name."
        )

        class Meta:
            ref_name = "ZapierAuthTest"

    @extend_schema(
        operation_id="zapier_auth_test",
        summary="Test a Zapier connection",
        description="200 with the account the key belongs to; 401 for a missing, unknown, expired or revoked key.",
        tags=TAGS,
        responses={
            200: OpenApiResponse(
                AuthTestSerializer,
                examples=[
                    OpenApiExample(
                        "Connected",
                        value={"id": 1, "name": "Acme", "slug": "acme", "label": "Acme (Zapier)"},
                    )
                ],
            ),
            **error_responses(),
        },
    )
    def get(self, request: Request) -> Response:
        principal = self.principal
        who = principal.api_key.name if principal.api_key is not None else principal.label
        return Response(
            {
                "id": self.tenant.pk,
                "name": self.tenant.name,
                "slug": self.tenant.slug,
                "label": f"{self.tenant.name} ({who})",
            }
        )


class NewLeadTriggerApi(ZapierApi):
    required_roles = READ

    @extend_schema(
        operation_id="zapier_triggers_new_lead",
        summary="Poll for new leads",
        description=f"The tenant's newest leads, newest first, at most {POLL_LIMIT}.",
        tags=TAGS,
        responses={
            200: OpenApiResponse(  # one item: the answer is a plain array of them
                ZapierLeadSerializer(many=True), examples=[OpenApiExample("Leads", value=LEAD_EXAMPLE)]
            ),
            **error_responses(),
        },
    )
    def get(self, request: Request) -> Response:
        leads = leads_newest(account=self.tenant)
        return Response([lead_item(data) for data in LeadSerializer(leads, many=True).data])


class AgentExecutedTriggerApi(ZapierApi):
    required_roles = READ

    @extend_schema(
        operation_id="zapier_triggers_agent_executed",
        summary="Poll for finished AI agent runs",
        description=(
            f"The tenant's newest finished runs (succeeded or failed), by start time, newest first, at most "
            f"{POLL_LIMIT}. A run still going appears once it has finished."
        ),
        tags=TAGS,
        responses={
            200: OpenApiResponse(  # one item: the answer is a plain array of them
                ZapierExecutionSerializer(many=True), examples=[OpenApiExample("Runs", value=EXECUTION_EXAMPLE)]
            ),
            **error_responses(),
        },
    )
    def get(self, request: Request) -> Response:
        executions = executions_finished_newest(account=self.tenant)
        return Response(
            [
                public_data("agent.execution.finished", data)
                for data in ExecutionEventSerializer(executions, many=True).data
            ]
        )


class HookSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField(help_text="Unsubscribe with `DELETE hooks/{id}`.")
    event = serializers.ChoiceField(choices=HOOK_EVENT_CHOICES)
    target_url = serializers.CharField()
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "ZapierHook"


class HookSubscribeApi(ZapierApi):
    required_roles = ADMIN_ONLY

    class HookSubscribeInput(InputSerializer):
        target_url = serializers.CharField(max_length=1000, help_text="The Zap's hook URL (`bundle.targetUrl`).")
        event = serializers.ChoiceField(
            choices=HOOK_EVENT_CHOICES,
            help_text=(
                "`new_lead` (lead.created), `agent_executed` (agent.execution.finished) or "
                "`message_received` (message.received)."
            ),
        )

        class Meta:
            ref_name = "ZapierHookSubscribeInput"

    @extend_schema(
        operation_id="zapier_hooks_subscribe",
        summary="Subscribe a Zap's REST hook",
        description=(
            'Events are POSTed to `target_url` as `{"type", "timestamp", "data"}`; `data` has the same '
            "fields as the matching polling trigger's items. A 410 answer removes the subscription. Needs "
            "CLIENT_ADMIN or an API key with the `admin` scope, as creating a webhook endpoint does. Audited as "
            "`webhook.created` (source `zapier`)."
        ),
        tags=TAGS,
        request=HookSubscribeInput,
        examples=[
            OpenApiExample(
                "Subscribe",
                value={"target_url": "https://hooks.zapier.com/hooks/standard/123/abc/", "event": "new_lead"},
                request_only=True,
            ),
            OpenApiExample(
                "Subscribed",
                value={
                    "id": 14,
                    "event": "new_lead",
                    "target_url": "https://hooks.zapier.com/hooks/standard/123/abc/",
                    "created_at": "2026-05-04T09:12:02.918000Z",
                },
                response_only=True,
            ),
        ],
        responses={
            201: HookSerializer,
            **error_responses(400, field_errors={"event": ['"new_order" is not a valid choice.']}),
            403: HOOKS_FORBIDDEN,
            409: TOO_MANY_ENDPOINTS,
        },
    )
    def post(self, request: Request) -> Response:
        data = self.validated(self.HookSubscribeInput, request)
        issued = zapier_hook_subscribe(
            account=self.tenant, actor=self.principal, context=RequestContext.from_request(request), **data
        )
        endpoint = issued.endpoint
        body = {
            "id": endpoint.pk,
            "event": data["event"],
            "target_url": endpoint.url,
            "created_at": endpoint.created_at,
        }
        return Response(HookSerializer(body).data, status=status.HTTP_201_CREATED)


class HookUnsubscribeApi(ZapierApi):
    required_roles = ADMIN_ONLY

    @extend_schema(
        operation_id="zapier_hooks_unsubscribe",
        summary="Unsubscribe a Zap's REST hook",
        description=(
            "Only hooks made through `POST hooks`; anything else is a 404. Needs CLIENT_ADMIN or the `admin` "
            "scope, like subscribing. Audited as `webhook.deleted`."
        ),
        tags=TAGS,
        responses={204: OpenApiResponse(description="Unsubscribed."), **error_responses(404), 403: HOOKS_FORBIDDEN},
    )
    def delete(self, request: Request, pk: int) -> Response:
        endpoint = self.get_scoped_object(
            WebhookEndpoint.objects.select_related("account").filter(source=EndpointSource.ZAPIER), pk=pk
        )
        webhook_endpoint_delete(endpoint=endpoint, actor=self.principal, context=RequestContext.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class CreateLeadActionApi(ZapierApi):
    required_roles = WRITE

    class CreateLeadInput(InputSerializer):
        name = serializers.CharField(max_length=200)
        email = serializers.EmailField(required=False, allow_blank=True)
        phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
        company = serializers.CharField(max_length=200, required=False, allow_blank=True)
        source = serializers.CharField(max_length=50, required=False, allow_blank=True, default="zapier")  # type: ignore[assignment]
        status = serializers.ChoiceField(choices=LeadStatus.choices, required=False)
        score = serializers.IntegerField(min_value=0, max_value=100, required=False)
        metadata = serializers.DictField(required=False)

        class Meta:
            ref_name = "ZapierCreateLeadInput"

    @extend_schema(
        operation_id="zapier_actions_create_lead",
        summary="Create a lead",
        description="Creates a lead (source `zapier` unless given) and answers it as the new-lead trigger shows it.",
        tags=TAGS,
        parameters=[IDEMPOTENCY_PARAMETER],
        request=CreateLeadInput,
        examples=[
            OpenApiExample(
                "New lead",
                value={"name": "Ada Lovelace", "email": "ada@example.com", "company": "Analytical Engines Ltd"},
                request_only=True,
            ),
            OpenApiExample("Created", value=LEAD_EXAMPLE, response_only=True),
        ],
        responses={201: ZapierLeadSerializer, **error_responses(400), **IDEMPOTENCY_ERRORS},
    )
    def post(self, request: Request) -> Response:
        data = self.validated(self.CreateLeadInput, request)

        def create() -> tuple[int, dict[str, Any]]:
            lead = lead_create(
                account=self.tenant, actor=self.principal, context=RequestContext.from_request(request), **data
            )
            return status.HTTP_201_CREATED, lead_item(lead_event_data(lead))

        return _replayable(
            idempotent_action(
                account=self.tenant,
                key=request.headers.get(HEADER),
                operation="zapier.create_lead",
                request_body=request.data,
                action=create,
            )
        )


class SendMessageActionApi(ZapierApi):
    required_roles = WRITE

    class SendMessageInput(InputSerializer):
        conversation = serializers.IntegerField(
            required=False, min_value=1, help_text="An existing conversation's id (or give `to`)."
        )
        to = serializers.RegexField(
            r"^\d{6,20}$",
            required=False,
            help_text="The customer's WhatsApp number, international format, digits only (or give `conversation`).",
        )
        channel = serializers.IntegerField(
            required=False,
            min_value=1,
            help_text="With `to`: the WhatsApp number (channel id) to send from; optional when there is one.",
        )
        text = serializers.CharField(max_length=4096, required=False, trim_whitespace=False)
        template = TemplateInput(required=False)

        class Meta:
            ref_name = "ZapierSendMessageInput"

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if ("conversation" in attrs) == ("to" in attrs):
                raise serializers.ValidationError({"non_field_errors": ["Give either `conversation` or `to`."]})
            if "channel" in attrs and "to" not in attrs:
                raise serializers.ValidationError({"channel": ["Only with `to`."]})
            if bool(attrs.get("text", "").strip()) == bool(attrs.get("template")):
                raise serializers.ValidationError({"non_field_errors": ["Send either `text` or `template`."]})
            return attrs

    @extend_schema(
        operation_id="zapier_actions_send_message",
        summary="Send a WhatsApp message",
        description=(
            "Into an existing `conversation`, or `to` a number (its contact and conversation are started when "
            "missing). Free text only within 24 hours of the customer's last message (409 "
            "`customer_window_closed`); otherwise send an approved `template`. Answers 202: the message is "
            "delivered in the background (watch `message.status`)."
        ),
        tags=TAGS,
        parameters=[IDEMPOTENCY_PARAMETER],
        request=SendMessageInput,
        examples=[
            OpenApiExample(
                "Template to a number",
                value={
                    "to": "16505551234",
                    "template": {"name": "order_update", "language": "en_US", "parameters": ["#1042"]},
                },
                request_only=True,
            ),
            OpenApiExample(
                "Text into a conversation", value={"conversation": 77, "text": "Thanks!"}, request_only=True
            ),
            OpenApiExample("Queued", value=MESSAGE_EXAMPLE, response_only=True, status_codes=[202]),
        ],
        responses={
            202: ZapierMessageSerializer,
            400: OpenApiResponse(
                ApiErrorSerializer,
                description="Invalid input; an unknown conversation or channel is named in `details`.",
                examples=[
                    OpenApiExample(
                        "Several numbers",
                        value={
                            "code": "validation_error",
                            "message": "This account has several WhatsApp numbers: choose one.",
                            "details": {"channel": ["This account has several WhatsApp numbers: choose one."]},
                        },
                        response_only=True,
                    )
                ],
            ),
            **error_responses(),
            **IDEMPOTENCY_ERRORS,
            409: OpenApiResponse(
                ApiErrorSerializer,
                description="Code `customer_window_closed` (send a template), or `idempotency_key_in_progress`.",
                examples=[
                    OpenApiExample(
                        "Window closed",
                        value={
                            "code": "customer_window_closed",
                            "message": (
                                "More than 24 hours have passed since the customer's last message: send an "
                                "approved template instead."
                            ),
                            "details": {},
                        },
                        response_only=True,
                    ),
                    KEY_IN_PROGRESS,
                ],
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.validated(self.SendMessageInput, request)

        def send() -> tuple[int, dict[str, Any]]:
            message = zapier_message_send(
                account=self.tenant,
                actor=self.principal,
                context=RequestContext.from_request(request),
                conversation_id=data.get("conversation"),
                to=data.get("to"),
                channel_id=data.get("channel"),
                text=data.get("text", ""),
                template=data.get("template"),
            )
            return status.HTTP_202_ACCEPTED, message_item(message, message.conversation.contact)

        return _replayable(
            idempotent_action(
                account=self.tenant,
                key=request.headers.get(HEADER),
                operation="zapier.send_message",
                request_body=request.data,
                action=send,
            )
        )


urlpatterns = [
    path("integrations/zapier/auth/test", AuthTestApi.as_view(), name="zapier-auth-test"),
    path("integrations/zapier/triggers/new-lead", NewLeadTriggerApi.as_view(), name="zapier-new-lead"),
    path(
        "integrations/zapier/triggers/agent-executed", AgentExecutedTriggerApi.as_view(), name="zapier-agent-executed"
    ),
    path("integrations/zapier/hooks", HookSubscribeApi.as_view(), name="zapier-hooks"),
    path("integrations/zapier/hooks/<int:pk>", HookUnsubscribeApi.as_view(), name="zapier-hook-detail"),
    path("integrations/zapier/actions/create-lead", CreateLeadActionApi.as_view(), name="zapier-create-lead"),
    path("integrations/zapier/actions/send-message", SendMessageActionApi.as_view(), name="zapier-send-message"),
]
