"""Who a conversation may be given to: a teammate who can answer it, never a VIEWER (API and page)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import AuditLog
from inbox.tests.factories import ContactFactory, ConversationFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def conversation(channel):
    return ConversationFactory(
        account=channel.account,
        channel=channel,
        contact=ContactFactory(account=channel.account, name="Sheena Nelson", wa_id="16505551234"),
        last_message_at=timezone.now(),
    )


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_api_refuses_to_assign_a_viewer_and_changes_nothing(client_for, member, viewer, conversation):
    # when a USER gives the conversation to a VIEWER through the API
    response = client_for(member).patch(
        f"/api/v1/conversations/{conversation.pk}", {"assignee": viewer.pk, "priority": "high"}, format="json"
    )

    # then it is a 400 saying why, and nothing changed
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["details"] == {"assignee": ["A viewer cannot answer conversations: give it to a user or an admin."]}
    conversation.refresh_from_db()
    assert (conversation.assignee, conversation.priority) == (None, "normal")
    assert not AuditLog.objects.filter(action="conversation.updated").exists()


def test_the_api_still_assigns_users_and_admins(client_for, member, client_admin, conversation):
    client = client_for(member)

    for person in (member, client_admin):
        response = client.patch(f"/api/v1/conversations/{conversation.pk}", {"assignee": person.pk}, format="json")
        assert response.status_code == 200, response.json()
        assert response.json()["assignee"] == person.pk


def test_the_assign_menu_offers_no_viewer(member, viewer, client_admin, conversation):
    # when a USER opens the conversation
    html = signed_in(member).get(f"/inbox/{conversation.pk}/").content.decode()

    # then the "Assigned to" menu of the thread offers the users and admins, not the viewer
    menu = re.search(r'<select name="assign-to".*?</select>', html, re.S)
    assert menu is not None
    assert f'value="user:{member.pk}"' in menu.group(0)
    assert f'value="user:{client_admin.pk}"' in menu.group(0)
    assert f'value="user:{viewer.pk}"' not in menu.group(0)


def test_posting_a_viewer_to_the_assign_form_is_a_400_and_changes_nothing(member, viewer, conversation):
    # when a USER posts the viewer anyway
    response = signed_in(member).post(f"/inbox/{conversation.pk}/assign", {"assign-to": f"user:{viewer.pk}"}, **HTMX)

    # then the form answers 400 and the conversation keeps nobody
    assert response.status_code == 400
    conversation.refresh_from_db()
    assert conversation.assignee is None
    assert not AuditLog.objects.filter(action="conversation.updated").exists()
