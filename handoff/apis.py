"""The hand-off API: a person (or the agent, with an API key) gives a conversation back to the team."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.apis.base import TenantApi
from accounts.services.audit import RequestContext
from core.openapi import error_response, error_responses
from core.serializers import InputSerializer
from handoff.services import conversation_handoff
from inbox.apis import examples
from inbox.models import Conversation
from inbox.serializers import ConversationSerializer


class ConversationHandoffApi(TenantApi):
    class ConversationHandoffInput(InputSerializer):
        reason = serializers.CharField(max_length=500, required=False, default="", allow_blank=True)

    @extend_schema(
        operation_id="conversations_handoff",
        summary="Take a conversation from its AI agent and give it to the team",
        description=(
            "The conversation becomes `open` and is assigned per its channel's handoff rule (left "
            "unassigned, or round robin among USER and CLIENT_ADMIN teammates); `conversation.handoff` "
            "reaches the inbox feed. 409 `not_held_by_agent` when no agent holds it."
        ),
        request=ConversationHandoffInput,
        examples=examples.CONVERSATION_HANDOFF,
        responses={
            200: ConversationSerializer,
            **error_responses(
                400, 404, field_errors={"reason": ["Ensure this field has no more than 500 characters."]}
            ),
            409: error_response(409, code="not_held_by_agent", message="No AI agent holds this conversation."),
        },
    )
    def post(self, request: Request, pk: int) -> Response:
        conversation = self.get_scoped_object(Conversation.objects.all(), pk=pk)
        data = self.validated(self.ConversationHandoffInput, request)
        conversation_handoff(
            conversation=conversation,
            actor=self.principal,
            reason=data["reason"],
            context=RequestContext.from_request(request),
        )
        conversation = Conversation.objects.select_related("contact").prefetch_related("labels").get(pk=pk)
        return Response(ConversationSerializer(conversation).data)


urlpatterns = [
    path("conversations/<int:pk>/handoff", ConversationHandoffApi.as_view(), name="conversation-handoff"),
]
