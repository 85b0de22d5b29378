"""Conversations and their messages: list, show, update, mark read, list and send messages."""

from __future__ import annotations

from typing import Any

from django.urls import path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.apis.base import TenantApi
from accounts.models import User
from accounts.services.audit import RequestContext
from core.openapi import PAGE_PARAMETERS, error_response, error_responses, page_of
from core.pagination import CursorPagination
from core.serializers import InputSerializer
from inbox.apis import examples
from inbox.hooks import agent_directory
from inbox.models import Conversation, ConversationStatus, Priority
from inbox.selectors import CONVERSATION_SEARCH_HELP, conversation_list, label_names_attach, message_list
from inbox.serializers import ConversationSerializer, MessageSerializer
from inbox.services.conversations import conversation_mark_read, conversation_update
from inbox.services.messages import message_send


class ConversationPagination(CursorPagination):
    ordering = ("-last_message_at", "-id")


# What ConversationSerializer shows, and no more: a page of 50 rows otherwise also turns the contacts'
# attributes (JSON) and four unshown timestamps per row into Python. (A column missing here would
# cost a query per row: tests/test_list_queries.py counts them.)
LIST_COLUMNS = (
    *("id", "status", "snoozed_until", "priority", "assignee", "agent", "channel", "contact"),
    *("last_message_at", "last_inbound_at", "unread_count", "created_at", "updated_at"),
    *("contact__id", "contact__wa_id", "contact__name"),
)


class ConversationListApi(TenantApi):
    @extend_schema(
        operation_id="conversations_list",
        summary="List conversations, newest activity first",
        parameters=[
            OpenApiParameter("status", str, enum=ConversationStatus.values),
            OpenApiParameter("assignee", str, description="A user id, `me` or `none`."),
            OpenApiParameter("agent", int, description="An AI agent's id: the conversations it holds."),
            OpenApiParameter("channel", int),
            OpenApiParameter("label", str),
            OpenApiParameter("q", str, description=CONVERSATION_SEARCH_HELP),
            *PAGE_PARAMETERS,
        ],
        examples=examples.CONVERSATION_LIST,
        responses={
            200: page_of(ConversationSerializer, "ConversationPage"),
            **error_responses(
                400, field_errors={"status": ["Select a valid choice. closed is not one of the available choices."]}
            ),
        },
    )
    def get(self, request: Request) -> Response:
        queryset = conversation_list(principal=self.principal, filters=request.query_params).only(*LIST_COLUMNS)
        return self.paginated(
            queryset, ConversationSerializer, pagination_class=ConversationPagination, prepare=label_names_attach
        )


class ConversationDetailApi(TenantApi):
    class ConversationUpdateInput(InputSerializer):
        status = serializers.ChoiceField(choices=ConversationStatus.choices, required=False)
        snoozed_until = serializers.DateTimeField(required=False, allow_null=True)
        priority = serializers.ChoiceField(choices=Priority.choices, required=False)
        assignee = serializers.IntegerField(
            required=False,
            allow_null=True,
            help_text="A teammate's user id (a USER or an admin: a VIEWER cannot answer), or null.",
        )
        agent = serializers.IntegerField(
            required=False,
            allow_null=True,
            help_text="An active AI agent's id to hold the conversation (clears the assignee, status pending), "
            "or null to take it from the agent.",
        )
        labels = serializers.ListField(child=serializers.CharField(max_length=50), required=False, max_length=20)

    def _conversation(self, pk: int) -> Conversation:
        return self.get_scoped_object(
            Conversation.objects.select_related("contact", "account").prefetch_related("labels"), pk=pk
        )

    @extend_schema(
        operation_id="conversations_retrieve",
        summary="Show a conversation",
        examples=examples.CONVERSATION_DETAIL,
        responses={200: ConversationSerializer, **error_responses(404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        return Response(ConversationSerializer(self._conversation(pk)).data)

    @extend_schema(
        operation_id="conversations_update",
        summary="Change status, assignee, AI agent, priority or labels",
        request=ConversationUpdateInput,
        examples=examples.CONVERSATION_UPDATE,
        responses={
            200: ConversationSerializer,
            **error_responses(400, 404, field_errors={"assignee": ["No such teammate."]}),
        },
    )
    def patch(self, request: Request, pk: int) -> Response:
        conversation = self._conversation(pk)
        data = self.validated(self.ConversationUpdateInput, request)
        if "assignee" in data:
            assignee_id = data.pop("assignee")
            data["assignee"] = (
                User.objects.filter(pk=assignee_id, account_id=conversation.account_id).first() if assignee_id else None
            )
            if assignee_id and data["assignee"] is None:
                raise serializers.ValidationError({"assignee": ["No such teammate."]})
        if "agent" in data:
            agent_id = data.pop("agent")
            data["agent"] = (
                agent_directory().active(account_id=conversation.account_id).filter(pk=agent_id).first()
                if agent_id is not None
                else None
            )
            if agent_id is not None and data["agent"] is None:
                raise serializers.ValidationError({"agent": ["No such active agent."]})
        conversation = conversation_update(
            conversation=conversation, actor=self.principal, context=RequestContext.from_request(request), **data
        )
        return Response(ConversationSerializer(self._conversation(pk)).data)


class ConversationReadApi(TenantApi):
    @extend_schema(
        operation_id="conversations_mark_read",
        summary="Mark a conversation read",
        request=None,
        examples=examples.CONVERSATION_READ,
        responses={200: ConversationSerializer, **error_responses(404)},
    )
    def post(self, request: Request, pk: int) -> Response:
        conversation = self.get_scoped_object(
            Conversation.objects.select_related("contact").prefetch_related("labels"), pk=pk
        )
        conversation = conversation_mark_read(conversation=conversation, actor=self.principal)
        return Response(ConversationSerializer(conversation).data)


class TemplateInput(InputSerializer):
    name = serializers.RegexField(r"^[a-z0-9_]{1,512}$", help_text="The approved template's name.")
    language = serializers.RegexField(r"^[a-z]{2,3}(_[A-Z]{2})?$", help_text="e.g. en_US")
    parameters = serializers.ListField(
        child=serializers.CharField(max_length=1024), required=False, default=list, max_length=20
    )


class ConversationMessagesApi(TenantApi):
    class MessageSendInput(InputSerializer):
        text = serializers.CharField(max_length=4096, required=False, trim_whitespace=False)
        template = TemplateInput(required=False)

        def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
            if bool(attrs.get("text", "").strip()) == bool(attrs.get("template")):
                raise serializers.ValidationError({"non_field_errors": ["Send either `text` or `template`."]})
            return attrs

    @extend_schema(
        operation_id="conversations_messages_list",
        summary="List a conversation's messages, newest first",
        parameters=PAGE_PARAMETERS,
        examples=examples.MESSAGE_LIST,
        responses={
            200: page_of(MessageSerializer, "MessagePage"),
            **error_responses(400, 404, field_errors={"cursor": ["Invalid cursor."]}),
        },
    )
    def get(self, request: Request, pk: int) -> Response:
        conversation = self.get_scoped_object(Conversation.objects.all(), pk=pk)
        return self.paginated(message_list(conversation=conversation), MessageSerializer)

    @extend_schema(
        operation_id="conversations_messages_send",
        summary="Send a reply (text, or a template)",
        description=(
            "Queues the message and answers 202; it is delivered in the background and its `status` "
            "moves queued → sent → delivered → read (or failed). Free text is only allowed within 24 hours "
            "of the customer's last message (409 `customer_window_closed`): send a template instead."
        ),
        request=MessageSendInput,
        examples=examples.MESSAGE_SEND,
        responses={
            202: MessageSerializer,
            **error_responses(400, 404, field_errors={"non_field_errors": ["Send either `text` or `template`."]}),
            409: error_response(
                409,
                "Free text outside the 24-hour customer window: send an approved template instead.",
                code="customer_window_closed",
                message=(
                    "More than 24 hours have passed since the customer's last message: send an approved "
                    "template instead."
                ),
            ),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        conversation = self.get_scoped_object(Conversation.objects.select_related("account"), pk=pk)
        data = self.validated(self.MessageSendInput, request)
        message = message_send(
            conversation=conversation,
            actor=self.principal,
            context=RequestContext.from_request(request),
            text=data.get("text", ""),
            template=data.get("template"),
        )
        return Response(MessageSerializer(message).data, status=status.HTTP_202_ACCEPTED)


urlpatterns = [
    path("conversations", ConversationListApi.as_view(), name="conversation-list"),
    path("conversations/<int:pk>", ConversationDetailApi.as_view(), name="conversation-detail"),
    path("conversations/<int:pk>/read", ConversationReadApi.as_view(), name="conversation-read"),
    path("conversations/<int:pk>/messages", ConversationMessagesApi.as_view(), name="conversation-messages"),
]
