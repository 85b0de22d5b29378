"""Outgoing webhooks of a tenant (CLIENT_ADMIN; API keys need the `admin` scope): endpoints,
their secret, their delivery log, a test event and manual redelivery.

The signing secret appears in exactly two responses: creation and rotation.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any, ClassVar

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts import schema as _auth_schemes  # noqa: F401  (registers the OpenAPI auth schemes)
from accounts.apis.base import TenantApi
from accounts.models import Role
from accounts.services.audit import RequestContext
from core.openapi import ApiErrorSerializer, error_response, error_responses, page_of
from core.serializers import InputSerializer
from integrations.events import EVENT_CHOICES, EVENT_TYPES
from integrations.models import (
    DeliveryStatus,
    DisabledReason,
    EndpointSource,
    EventDelivery,
    EventDeliveryAttempt,
    WebhookEndpoint,
)
from integrations.selectors import delivery_list, webhook_endpoint_list
from integrations.services.webhooks import (
    DEFAULT_ROTATION_OVERLAP,
    MAX_ENDPOINTS_PER_ACCOUNT,
    MAX_ROTATION_OVERLAP,
    IssuedEndpoint,
    delivery_redeliver,
    webhook_endpoint_create,
    webhook_endpoint_delete,
    webhook_endpoint_test,
    webhook_endpoint_update,
    webhook_secret_rotate,
)

# Who may make, change or remove where a tenant's events are sent: CLIENT_ADMIN, or an API key with
# the `admin` scope. Zapier's REST hooks (`integrations.apis.zapier`) are endpoints too, under the same rule.
ADMIN_ONLY: dict[str, str] = {
    "GET": Role.CLIENT_ADMIN,
    "HEAD": Role.CLIENT_ADMIN,
    "POST": Role.CLIENT_ADMIN,
    "PATCH": Role.CLIENT_ADMIN,
    "DELETE": Role.CLIENT_ADMIN,
}
TAGS = ["webhooks"]

ENDPOINT_EXAMPLE = {
    "id": 12,
    "account": 1,
    "source": "api",
    "url": "https://hooks.example.com/skybot",
    "description": "CRM sync",
    "events": ["lead.created", "message.received"],
    "is_active": True,
    "disabled_reason": None,
    "disabled_at": None,
    "consecutive_failures": 0,
    "failing_since": None,
    "last_success_at": "2026-05-04T09:12:03.120000Z",
    "last_failure_at": None,
    "previous_secret_expires_at": None,
    "created_at": "2026-05-01T08:00:00Z",
    "updated_at": "2026-05-01T08:00:00Z",
}
SECRET_EXAMPLE = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw3nqDbPkwn+A="
DELIVERY_EXAMPLE = {
    "id": 881,
    "endpoint": 12,
    "event_id": "msg_5f0c8d3e9b7a4c1e8d2f6a4b3c2d1e0f",
    "event_type": "lead.created",
    "payload": {
        "type": "lead.created",
        "timestamp": "2026-05-04T09:12:02.918000Z",
        "data": {"id": 40, "name": "Ada Lovelace", "email": "ada@example.com", "status": "new"},
    },
    "status": "succeeded",
    "attempt_count": 2,
    "next_attempt_at": None,
    "created_at": "2026-05-04T09:12:02.920000Z",
    "updated_at": "2026-05-04T09:12:08.300000Z",
    "attempts": [
        {
            "number": 1,
            "status_code": 503,
            "duration_ms": 212,
            "response_excerpt": "Service Unavailable",
            "error": "HTTP 503",
            "created_at": "2026-05-04T09:12:03.140000Z",
        },
        {
            "number": 2,
            "status_code": 200,
            "duration_ms": 87,
            "response_excerpt": "ok",
            "error": "",
            "created_at": "2026-05-04T09:12:08.290000Z",
        },
    ],
}
ENDPOINT_DISABLED = OpenApiResponse(
    ApiErrorSerializer,
    description="Code `endpoint_disabled`: the endpoint is turned off; turn it on first.",
    examples=[
        OpenApiExample(
            "Endpoint turned off",
            value={
                "code": "endpoint_disabled",
                "message": "This endpoint is turned off: turn it on first.",
                "details": {},
            },
            response_only=True,
        )
    ],
)
TOO_MANY_ENDPOINTS = error_response(
    409,
    f"Code `too_many_endpoints`: the tenant has {MAX_ENDPOINTS_PER_ACCOUNT} endpoints (Zapier hooks included).",
    code="too_many_endpoints",
    message=f"An account can have at most {MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints: delete one first.",
)
INVALID_URL = OpenApiResponse(
    ApiErrorSerializer,
    description=(
        "Invalid input. A URL that is not http(s) (https in production), carries credentials, or names an "
        "internal address (loopback, private, link-local...) is refused in `details.url`. A refused name "
        "(`localhost`) is answered without the address it stands for."
    ),
    examples=[
        OpenApiExample(
            "Blocked destination",
            value={
                "code": "validation_error",
                "message": "Destination not allowed: 169.254.169.254 is a link-local address.",
                "details": {"url": ["Destination not allowed: 169.254.169.254 is a link-local address."]},
            },
            response_only=True,
        )
    ],
)


class _BlankAsNull(serializers.ChoiceField):
    def to_representation(self, value: Any) -> Any:
        return value or None


class WebhookEndpointSerializer(serializers.ModelSerializer[WebhookEndpoint]):
    """An endpoint as every response but create/rotate shows it: never its secret."""

    account = serializers.IntegerField(source="account_id", read_only=True)
    events = serializers.ListField(child=serializers.ChoiceField(choices=EVENT_CHOICES))
    source = serializers.ChoiceField(  # type: ignore[assignment]
        choices=EndpointSource.choices,
        help_text="`api`: made through this API; `web`: added on the Developers page; `zapier`: a Zap's REST hook.",
    )
    disabled_reason = _BlankAsNull(
        choices=DisabledReason.choices,
        allow_null=True,
        help_text="Why it is off: `manual`, `failing` (turned off after failing too long) or `gone` (410).",
    )
    previous_secret_expires_at = serializers.DateTimeField(
        allow_null=True, help_text="After a rotation, until when the previous secret still signs (a second signature)."
    )

    class Meta:
        model = WebhookEndpoint
        ref_name = "WebhookEndpoint"
        fields = [
            "id",
            "account",
            "source",
            "url",
            "description",
            "events",
            "is_active",
            "disabled_reason",
            "disabled_at",
            "consecutive_failures",
            "failing_since",
            "last_success_at",
            "last_failure_at",
            "previous_secret_expires_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class IssuedWebhookEndpointSerializer(WebhookEndpointSerializer):
    """An endpoint just created or whose secret was just rotated, with the secret: shown this once."""

    secret = serializers.SerializerMethodField(
        help_text="`whsec_` + base64: the key of the `webhook-signature` HMAC. Store it now; it is never shown again."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        ref_name = "IssuedWebhookEndpoint"
        fields = [*WebhookEndpointSerializer.Meta.fields, "secret"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.STR)
    def get_secret(self, endpoint: WebhookEndpoint) -> str:
        return str(self.context["secret"])


def _issued(issued: IssuedEndpoint) -> dict[str, Any]:
    return dict(IssuedWebhookEndpointSerializer(issued.endpoint, context={"secret": issued.secret}).data)


class DeliveryAttemptSerializer(serializers.ModelSerializer[EventDeliveryAttempt]):
    class Meta:
        model = EventDeliveryAttempt
        ref_name = "WebhookDeliveryAttempt"
        fields = ["number", "status_code", "duration_ms", "response_excerpt", "error", "created_at"]


class EventDeliverySerializer(serializers.ModelSerializer[EventDelivery]):
    endpoint = serializers.IntegerField(source="endpoint_id", read_only=True)
    event_id = serializers.CharField(
        source="event.message_id", read_only=True, help_text="Sent as `webhook-id`; the same on every attempt."
    )
    event_type = serializers.CharField(source="event.type", read_only=True)
    payload = serializers.SerializerMethodField(help_text="The JSON body sent: `type`, `timestamp`, `data`.")
    attempts = DeliveryAttemptSerializer(many=True, read_only=True)

    class Meta:
        model = EventDelivery
        ref_name = "WebhookDelivery"
        fields = [
            "id",
            "endpoint",
            "event_id",
            "event_type",
            "payload",
            "status",
            "attempt_count",
            "next_attempt_at",
            "created_at",
            "updated_at",
            "attempts",
        ]

    @extend_schema_field(OpenApiTypes.OBJECT)
    def get_payload(self, delivery: EventDelivery) -> Any:
        return json.loads(delivery.event.payload)


class EventTypeSerializer(serializers.Serializer[Any]):
    type = serializers.CharField()
    description = serializers.CharField()

    class Meta:
        ref_name = "WebhookEventType"


def _delivery(pk: int) -> EventDelivery:
    return EventDelivery.objects.select_related("event").prefetch_related("attempts").get(pk=pk)


class WebhookEndpointListApi(TenantApi):
    """`GET` lists the tenant's endpoints; `POST` subscribes a new one."""

    required_roles = ADMIN_ONLY

    class WebhookCreateInput(InputSerializer):
        url = serializers.CharField(
            max_length=1000, help_text="Where events are POSTed: https (http only outside production)."
        )
        events = serializers.ListField(
            child=serializers.ChoiceField(choices=EVENT_CHOICES),
            allow_empty=False,
            max_length=len(EVENT_CHOICES),
            help_text="Event types to receive (see `GET /api/v1/webhooks/event-types`).",
        )
        description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
        is_active = serializers.BooleanField(required=False, default=True)
        account = serializers.IntegerField(
            required=False, min_value=1, help_text="Platform staff only, and required for them: the tenant's id."
        )

        class Meta:
            ref_name = "WebhookCreateInput"

    @extend_schema(
        operation_id="webhooks_list",
        summary="List webhook endpoints",
        description="The tenant's endpoints, newest first, Zapier REST hooks included (`source: zapier`).",
        tags=TAGS,
        parameters=[
            OpenApiParameter("source", str, enum=EndpointSource.values),
            OpenApiParameter("is_active", bool),
            OpenApiParameter("cursor", str, description="The `next` or `previous` cursor of another page."),
            OpenApiParameter("page_size", int, description="Endpoints per page (at most 200)."),
        ],
        responses={
            200: OpenApiResponse(
                page_of(WebhookEndpointSerializer, "WebhookEndpointPage"),
                examples=[
                    OpenApiExample(
                        "One endpoint", value={"results": [ENDPOINT_EXAMPLE], "next": None, "previous": None}
                    )
                ],
            ),
            **error_responses(
                400, field_errors={"source": ["Select a valid choice. email is not one of the available choices."]}
            ),
        },
    )
    def get(self, request: Request) -> Response:
        endpoints = webhook_endpoint_list(principal=self.principal, filters=request.query_params)
        return self.paginated(endpoints, WebhookEndpointSerializer)

    @extend_schema(
        operation_id="webhooks_create",
        summary="Subscribe a webhook endpoint",
        description=(
            "Events of the listed types are POSTed to `url`, signed the Standard Webhooks way "
            "(`webhook-id`, `webhook-timestamp`, `webhook-signature`). Answers the signing `secret` once; "
            "no other response contains it. Audited as `webhook.created`. At most 50 endpoints per tenant."
        ),
        tags=TAGS,
        request=WebhookCreateInput,
        examples=[
            OpenApiExample(
                "Subscribe",
                value={
                    "url": "https://hooks.example.com/skybot",
                    "events": ["lead.created", "message.received"],
                    "description": "CRM sync",
                },
                request_only=True,
            ),
            OpenApiExample("Created", value={**ENDPOINT_EXAMPLE, "secret": SECRET_EXAMPLE}, response_only=True),
        ],
        responses={
            201: IssuedWebhookEndpointSerializer,
            400: INVALID_URL,
            409: TOO_MANY_ENDPOINTS,
            **error_responses(),
        },
    )
    def post(self, request: Request) -> Response:
        data = self.validated(self.WebhookCreateInput, request)
        account = self.account_for_create(data.pop("account", None))
        issued = webhook_endpoint_create(
            account=account, actor=self.principal, context=RequestContext.from_request(request), **data
        )
        return Response(_issued(issued), status=status.HTTP_201_CREATED)


class WebhookEndpointDetailApi(TenantApi):
    required_roles = ADMIN_ONLY

    class WebhookUpdateInput(InputSerializer):
        url = serializers.CharField(max_length=1000, required=False)
        events = serializers.ListField(
            child=serializers.ChoiceField(choices=EVENT_CHOICES),
            allow_empty=False,
            max_length=len(EVENT_CHOICES),
            required=False,
        )
        description = serializers.CharField(max_length=200, required=False, allow_blank=True)
        is_active = serializers.BooleanField(
            required=False,
            help_text="false turns it off; true turns it back on and clears its failure count.",
        )

        class Meta:
            ref_name = "WebhookUpdateInput"

    def _endpoint(self, pk: int) -> WebhookEndpoint:
        return self.get_scoped_object(WebhookEndpoint.objects.select_related("account"), pk=pk)

    @extend_schema(
        operation_id="webhooks_retrieve",
        summary="Show a webhook endpoint",
        tags=TAGS,
        responses={
            200: OpenApiResponse(
                WebhookEndpointSerializer, examples=[OpenApiExample("Endpoint", value=ENDPOINT_EXAMPLE)]
            ),
            **error_responses(404),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(WebhookEndpointSerializer(self._endpoint(pk)).data)

    @extend_schema(
        operation_id="webhooks_update",
        summary="Change a webhook endpoint",
        description=(
            "Change its URL, event types, description, or turn it off and on. Turning it on after it was "
            "turned off for failing gives it a fresh start; failed deliveries are not resent by themselves "
            "(redeliver the ones you need). Audited as `webhook.updated`."
        ),
        tags=TAGS,
        request=WebhookUpdateInput,
        examples=[
            OpenApiExample("Turn back on", value={"is_active": True}, request_only=True),
            OpenApiExample(
                "Turned back on",
                value={**ENDPOINT_EXAMPLE, "updated_at": "2026-05-04T09:30:12.400000Z"},
                response_only=True,
            ),
        ],
        responses={200: WebhookEndpointSerializer, 400: INVALID_URL, **error_responses(404)},
    )
    def patch(self, request: Request, pk: int) -> Response:
        endpoint = self._endpoint(pk)
        data = self.validated(self.WebhookUpdateInput, request)
        endpoint = webhook_endpoint_update(
            endpoint=endpoint, actor=self.principal, context=RequestContext.from_request(request), **data
        )
        return Response(WebhookEndpointSerializer(endpoint).data)

    @extend_schema(
        operation_id="webhooks_delete",
        summary="Delete a webhook endpoint",
        description="Nothing more is sent to it; its delivery log goes with it. Audited as `webhook.deleted`.",
        tags=TAGS,
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(404)},
    )
    def delete(self, request: Request, pk: int) -> Response:
        webhook_endpoint_delete(
            endpoint=self._endpoint(pk), actor=self.principal, context=RequestContext.from_request(request)
        )
        return Response(status=status.HTTP_204_NO_CONTENT)


class WebhookSecretRotateApi(TenantApi):
    required_roles = ADMIN_ONLY

    class WebhookRotateInput(InputSerializer):
        overlap_seconds = serializers.IntegerField(
            min_value=0,
            max_value=int(MAX_ROTATION_OVERLAP.total_seconds()),
            default=int(DEFAULT_ROTATION_OVERLAP.total_seconds()),
            help_text=(
                "How long the previous secret keeps signing as well (0 to 7 days; default 24 hours). "
                "During the overlap `webhook-signature` carries two signatures."
            ),
        )

        class Meta:
            ref_name = "WebhookRotateInput"

    @extend_schema(
        operation_id="webhooks_rotate_secret",
        summary="Rotate a webhook endpoint's secret",
        description=(
            "Issues a new secret and answers it once. Audited as `webhook.secret_rotated` (never the secret)."
        ),
        tags=TAGS,
        request=WebhookRotateInput,
        examples=[
            OpenApiExample("One hour overlap", value={"overlap_seconds": 3600}, request_only=True),
            OpenApiExample(
                "Rotated",
                value={
                    **ENDPOINT_EXAMPLE,
                    "previous_secret_expires_at": "2026-05-04T10:12:00Z",
                    "secret": SECRET_EXAMPLE,
                },
                response_only=True,
            ),
        ],
        responses={
            200: IssuedWebhookEndpointSerializer,
            **error_responses(
                400, 404, field_errors={"overlap_seconds": ["Ensure this value is less than or equal to 604800."]}
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        endpoint = self.get_scoped_object(WebhookEndpoint.objects.select_related("account"), pk=pk)
        data = self.validated(self.WebhookRotateInput, request)
        issued = webhook_secret_rotate(
            endpoint=endpoint,
            actor=self.principal,
            overlap=timedelta(seconds=data["overlap_seconds"]),
            context=RequestContext.from_request(request),
        )
        return Response(_issued(issued))


class WebhookDeliveryListApi(TenantApi):
    required_roles = ADMIN_ONLY

    @extend_schema(
        operation_id="webhooks_deliveries_list",
        summary="List an endpoint's deliveries, newest first",
        description="Each delivery with the event it carries and every attempt (status, duration, response start).",
        tags=TAGS,
        parameters=[
            OpenApiParameter("status", str, enum=DeliveryStatus.values),
            OpenApiParameter("cursor", str, description="The `next` or `previous` cursor of another page."),
            OpenApiParameter("page_size", int, description="Deliveries per page (at most 200)."),
        ],
        responses={
            200: OpenApiResponse(
                page_of(EventDeliverySerializer, "WebhookDeliveryPage"),
                examples=[
                    OpenApiExample(
                        "Delivered on the second attempt",
                        value={"results": [DELIVERY_EXAMPLE], "next": None, "previous": None},
                    )
                ],
            ),
            **error_responses(
                400, 404, field_errors={"status": ["Select a valid choice. lost is not one of the available choices."]}
            ),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        endpoint = self.get_scoped_object(WebhookEndpoint.objects.all(), pk=pk)
        return self.paginated(delivery_list(endpoint=endpoint, filters=request.query_params), EventDeliverySerializer)


class WebhookTestApi(TenantApi):
    required_roles = ADMIN_ONLY

    @extend_schema(
        operation_id="webhooks_test",
        summary="Send a test event",
        description=(
            "Sends a `ping` event to this endpoint only, signed like any other. Answers 202 with the queued "
            "delivery; read it again from the delivery log to see how the endpoint answered. "
            "Audited as `webhook.tested`."
        ),
        tags=TAGS,
        request=None,
        responses={
            202: OpenApiResponse(
                EventDeliverySerializer,
                examples=[
                    OpenApiExample(
                        "Ping",
                        value={
                            **DELIVERY_EXAMPLE,
                            "event_type": "ping",
                            "payload": {
                                "type": "ping",
                                "timestamp": "2026-05-04T09:12:02.918000Z",
                                "data": {"endpoint": 12, "message": "A test event from SkyBot Inbox."},
                            },
                            # a fresh event: its first attempt only
                            "attempt_count": 1,
                            "updated_at": "2026-05-04T09:12:03.160000Z",
                            "attempts": [
                                {
                                    "number": 1,
                                    "status_code": 200,
                                    "duration_ms": 87,
                                    "response_excerpt": "ok",
                                    "error": "",
                                    "created_at": "2026-05-04T09:12:03.140000Z",
                                }
                            ],
                        },
                    )
                ],
            ),
            409: ENDPOINT_DISABLED,
            **error_responses(404),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        endpoint = self.get_scoped_object(WebhookEndpoint.objects.select_related("account"), pk=pk)
        delivery = webhook_endpoint_test(
            endpoint=endpoint, actor=self.principal, context=RequestContext.from_request(request)
        )
        return Response(EventDeliverySerializer(_delivery(delivery.pk)).data, status=status.HTTP_202_ACCEPTED)


class WebhookRedeliverApi(TenantApi):
    required_roles = ADMIN_ONLY

    @extend_schema(
        operation_id="webhooks_deliveries_redeliver",
        summary="Redeliver an event",
        description=(
            "Sends the delivery's event again now, with the same `webhook-id` (a new timestamp and signature), "
            "whatever its status. One attempt; a retryable failure continues on the retry schedule. "
            "Audited as `webhook.redelivered`."
        ),
        tags=TAGS,
        request=None,
        responses={
            202: OpenApiResponse(
                EventDeliverySerializer, examples=[OpenApiExample("Redelivered", value=DELIVERY_EXAMPLE)]
            ),
            409: ENDPOINT_DISABLED,
            **error_responses(404),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        delivery = self.get_scoped_object(EventDelivery.objects.select_related("endpoint__account"), pk=pk)
        delivery = delivery_redeliver(
            delivery=delivery, actor=self.principal, context=RequestContext.from_request(request)
        )
        return Response(EventDeliverySerializer(_delivery(delivery.pk)).data, status=status.HTTP_202_ACCEPTED)


class WebhookEventTypesApi(TenantApi):
    required_roles: ClassVar[dict[str, str]] = {"GET": Role.VIEWER, "HEAD": Role.VIEWER}

    @extend_schema(
        operation_id="webhooks_event_types",
        summary="List the event types an endpoint can subscribe to",
        tags=TAGS,
        responses={
            200: OpenApiResponse(
                EventTypeSerializer(many=True),
                examples=[  # one item: the answer is a plain array of them
                    OpenApiExample("Event types", value={"type": "lead.created", "description": "A lead was created."})
                ],
            ),
            **error_responses(),
        },
    )
    def get(self, request: Request) -> Response:
        return Response([{"type": event.name, "description": event.description} for event in EVENT_TYPES.values()])


urlpatterns = [
    path("webhooks", WebhookEndpointListApi.as_view(), name="webhook-list"),
    path("webhooks/event-types", WebhookEventTypesApi.as_view(), name="webhook-event-types"),
    path("webhooks/deliveries/<int:pk>/redeliver", WebhookRedeliverApi.as_view(), name="webhook-redeliver"),
    path("webhooks/<int:pk>", WebhookEndpointDetailApi.as_view(), name="webhook-detail"),
    path("webhooks/<int:pk>/rotate-secret", WebhookSecretRotateApi.as_view(), name="webhook-rotate-secret"),
    path("webhooks/<int:pk>/deliveries", WebhookDeliveryListApi.as_view(), name="webhook-deliveries"),
    path("webhooks/<int:pk>/test", WebhookTestApi.as_view(), name="webhook-test"),
]
