"""The "Take over" action on an inbox thread: a person takes the conversation from its AI agent."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_POST

from accounts.models import Role
from accounts.services.audit import RequestContext
from accounts.web.pages import PageRequest, page
from handoff.services import conversation_handoff
from handoff.web.forms import HandoffForm
from inbox.web.views import thread_controls_response, thread_conversation


@page(role=Role.USER)
@require_POST
def handoff(request: PageRequest, pk: int) -> HttpResponse:
    """Take the conversation from its AI agent and give it to the team (the channel's hand-off rule)."""
    conversation = thread_conversation(request, pk)
    form = HandoffForm(request.POST)
    if not form.is_valid():
        return thread_controls_response(request, conversation, ok=False)
    conversation_handoff(
        conversation=conversation,
        actor=request.principal,
        reason=form.cleaned_data["reason"],
        context=RequestContext.from_request(request),
    )
    return thread_controls_response(request, conversation, ok=True)
