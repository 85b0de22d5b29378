"""Adding a sandbox number, beside real ones: Settings → WhatsApp and `POST /api/v1/channels/sandbox`.
No Meta account is asked for, and nothing is asked of Meta."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from accounts.models import AuditLog, User
from accounts.principals import Principal
from accounts.services.tenants import account_deactivate
from agents.models import AgentStatus
from agents.tests.factories import AgentFactory
from core.tests.html import assert_no_inline_code
from inbox.models import Channel
from inbox.services.sandbox import MAX_SANDBOX_NUMBERS, sandbox_channel_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def meta(httpserver, settings):
    settings.GRAPH_API_BASE_URL = httpserver.url_for("/v21.0")
    return httpserver


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def html(response: Any) -> str:
    return response.content.decode()


# --- Settings → WhatsApp ------------------------------------------------------------------------------


def test_an_admin_adds_a_sandbox_number_without_meta(account, client_admin, meta):
    # given an AI agent of the tenant
    agent = AgentFactory(account=account, name="FAQ bot", status=AgentStatus.ACTIVE)
    client = signed_in(client_admin)

    # when the admin opens the form and adds a sandbox number answered by the agent
    form = client.get("/settings/whatsapp/sandbox/")
    assert form.status_code == 200
    assert_no_inline_code(form)
    assert "Access token" not in html(form)
    response = client.post(
        "/settings/whatsapp/sandbox/",
        {"name": "Try-out line", "default_agent": agent.pk, "handoff_rule": "unassigned"},
        follow=True,
    )

    # then it exists, answered by the agent, and its card leads to the simulator, not to Meta
    channel = Channel.objects.get(account=account)
    assert (channel.is_sandbox, channel.name, channel.default_agent) == (True, "Try-out line", agent)
    page = html(response)
    assert "Added the sandbox number Try-out line." in page
    assert '<span class="badge">Sandbox</span>' in page
    assert f'href="/simulator/{channel.pk}/"' in page
    assert "Webhook URL (Callback URL in Meta)" not in page
    assert channel.app_secret not in page
    assert meta.log == []


def test_an_admin_renames_a_sandbox_number_on_its_own_form(account, client_admin):
    channel = sandbox_channel_create(account=account, actor=Principal.platform_key())
    client = signed_in(client_admin)

    edit = html(client.get(f"/settings/whatsapp/{channel.pk}/"))
    assert "Access token" not in edit
    client.post(
        f"/settings/whatsapp/{channel.pk}/", {"name": "Demo line", "default_agent": "", "handoff_rule": "round_robin"}
    )

    channel.refresh_from_db()
    assert (channel.name, channel.handoff_rule, channel.is_sandbox) == ("Demo line", "round_robin", True)
    assert AuditLog.objects.get(action="channel.updated").metadata == {"fields": ["handoff_rule", "name"]}


def test_the_form_refuses_another_tenants_agent_and_too_many_numbers(account, other_account, client_admin):
    client = signed_in(client_admin)
    foreign_agent = AgentFactory(account=other_account, status=AgentStatus.ACTIVE)

    refused = client.post(
        "/settings/whatsapp/sandbox/", {"name": "X", "default_agent": foreign_agent.pk, "handoff_rule": "unassigned"}
    )
    assert refused.status_code == 400
    assert not Channel.objects.exists()

    for _ in range(MAX_SANDBOX_NUMBERS):
        sandbox_channel_create(account=account, actor=Principal.platform_key())
    full = client.post("/settings/whatsapp/sandbox/", {"name": "One more", "handoff_rule": "unassigned"})
    assert full.status_code == 409
    assert f"at most {MAX_SANDBOX_NUMBERS} sandbox numbers" in html(full)
    assert Channel.objects.count() == MAX_SANDBOX_NUMBERS


def test_only_an_admin_adds_a_sandbox_number(member, viewer):
    for user in (member, viewer):
        assert (
            signed_in(user).post("/settings/whatsapp/sandbox/", {"name": "X", "handoff_rule": "unassigned"}).status_code
            == 403
        )
    assert not Channel.objects.exists()


def test_another_tenants_sandbox_number_cannot_be_edited(client_admin, other_account):
    foreign = sandbox_channel_create(account=other_account, actor=Principal.platform_key(), name="Theirs")
    client = signed_in(client_admin)
    assert client.get(f"/settings/whatsapp/{foreign.pk}/").status_code == 404
    assert (
        client.post(f"/settings/whatsapp/{foreign.pk}/", {"name": "Mine", "handoff_rule": "unassigned"}).status_code
        == 404
    )
    assert Channel.objects.get(pk=foreign.pk).name == "Theirs"


def test_a_disabled_workspace_adds_no_sandbox_number(account, client_admin, super_admin):
    client = signed_in(client_admin)
    account_deactivate(account=account, actor=Principal.for_user(super_admin))
    response = client.post("/settings/whatsapp/sandbox/", {"name": "X", "handoff_rule": "unassigned"})
    assert response.status_code == 302
    assert not Channel.objects.exists()


# --- the API ------------------------------------------------------------------------------------------


def test_the_api_adds_a_sandbox_number(account, client_admin, client_for, meta):
    response = client_for(client_admin).post("/api/v1/channels/sandbox", {"name": "CI line"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert (body["name"], body["is_sandbox"], body["has_app_secret"]) == ("CI line", True, True)
    assert "app_secret" not in body
    assert "access_token" not in body
    assert Channel.objects.get(pk=body["id"]).account == account
    assert meta.log == []
    # and the channel list says which numbers are sandbox numbers
    listed = client_for(client_admin).get("/api/v1/channels").json()["results"]
    assert [(c["id"], c["is_sandbox"]) for c in listed] == [(body["id"], True)]


def test_the_api_refuses_bad_input_other_roles_and_a_full_workspace(account, client_admin, member, client_for):
    api = client_for(client_admin)
    too_long = api.post("/api/v1/channels/sandbox", {"name": "x" * 101}, format="json")
    assert too_long.status_code == 400
    assert too_long.json()["details"]["name"]
    other_account = api.post("/api/v1/channels/sandbox", {"account": 999}, format="json")
    assert other_account.status_code == 400
    assert client_for(member).post("/api/v1/channels/sandbox", {}, format="json").status_code == 403
    assert not Channel.objects.exists()

    for _ in range(MAX_SANDBOX_NUMBERS):
        api.post("/api/v1/channels/sandbox", {}, format="json")
    full = api.post("/api/v1/channels/sandbox", {}, format="json")
    assert (full.status_code, full.json()["code"]) == (409, "sandbox_limit")
    assert Channel.objects.count() == MAX_SANDBOX_NUMBERS


def test_a_disabled_workspaces_key_adds_no_sandbox_number(account, key_client_for, super_admin):
    api = key_client_for(account, ["read", "write", "admin"])
    account_deactivate(account=account, actor=Principal.for_user(super_admin))
    assert api.post("/api/v1/channels/sandbox", {}, format="json").status_code in (401, 403)
    assert not Channel.objects.exists()


def test_a_sandbox_numbers_credentials_cannot_be_set(account, client_admin, client_for):
    channel = sandbox_channel_create(account=account, name="CI line", actor=Principal.for_user(client_admin))
    secret = Channel.objects.get(pk=channel.pk).app_secret

    response = client_for(client_admin).patch(
        f"/api/v1/channels/{channel.pk}", {"app_secret": "", "access_token": "stolen"}, format="json"
    )

    assert response.status_code == 400
    assert set(response.json()["details"]) == {"app_secret", "access_token"}
    assert Channel.objects.get(pk=channel.pk).app_secret == secret
    # renaming it still works
    renamed = client_for(client_admin).patch(f"/api/v1/channels/{channel.pk}", {"name": "QA line"}, format="json")
    assert renamed.status_code == 200
