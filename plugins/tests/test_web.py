"""The "Try it" box on a plugin agent's page: admins run the plugin once in its sandbox and see its
answer, actions (not applied) and log; the page's role, tenant and disabled-tenant rules hold."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import User
from agents.tests.factories import AgentFactory
from core.tests.html import assert_no_inline_code
from inbox.tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def try_it(client: Client, agent_pk: int, message: str = "hello"):
    return client.post(f"/agents/{agent_pk}/try/", {"message": message}, **HTMX)


def test_an_admin_tries_a_plugin_agent_from_its_page(client_admin, plugin_agent, account):
    browser = signed_in(client_admin)
    # given the agent's page offers the box
    page = browser.get(f"/agents/{plugin_agent.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Try it" in body
    assert f"/agents/{plugin_agent.pk}/try/" in body
    assert_no_inline_code(page)
    # when the admin runs a message through it
    answer = try_it(browser, plugin_agent.pk, "hello there").content.decode()
    # then the plugin's reply and its log line show
    assert "echo: hello there" in answer
    assert "got &#x27;hello there&#x27;" in answer
    # and actions are shown, not applied
    lead = LeadFactory(account=account, score=5)
    shown = try_it(browser, plugin_agent.pk, "lead").content.decode()
    assert "update_lead" in shown
    assert "not applied" in shown
    lead.refresh_from_db()
    assert lead.score == 5


def test_a_failing_plugin_shows_its_error(client_admin, plugin_agent):
    answer = try_it(signed_in(client_admin), plugin_agent.pk, "fail").content.decode()
    assert "plugin_error" in answer
    assert "failed on purpose" in answer


def test_an_empty_message_is_a_clear_400(client_admin, plugin_agent):
    response = signed_in(client_admin).post(f"/agents/{plugin_agent.pk}/try/", {"message": ""}, **HTMX)
    assert response.status_code == 400
    assert "required" in response.content.decode()


def test_people_below_admin_have_no_box_and_cannot_try(member, viewer, plugin_agent):
    for person in (member, viewer):
        browser = signed_in(person)
        assert "Try it" not in browser.get(f"/agents/{plugin_agent.pk}/").content.decode()
        assert try_it(browser, plugin_agent.pk).status_code == 403


def test_another_tenant_and_a_runner_agent_are_not_found(other_admin, client_admin, account, plugin_agent):
    assert try_it(signed_in(other_admin), plugin_agent.pk).status_code == 404
    runner_agent = AgentFactory(account=account)
    assert try_it(signed_in(client_admin), runner_agent.pk).status_code == 404
    assert "Try it" not in signed_in(client_admin).get(f"/agents/{runner_agent.pk}/").content.decode()


def test_a_disabled_tenant_is_signed_out_and_nothing_runs(client_admin, account, plugin_agent):
    browser = signed_in(client_admin)
    account.is_active = False
    account.save()
    response = try_it(browser, plugin_agent.pk, "store colour blue")
    assert response.status_code == 401
    assert "HX-Redirect" in response.headers
    from plugins.models import PluginStorageItem

    assert not PluginStorageItem.objects.exists()


def test_only_post(client_admin, plugin_agent):
    assert signed_in(client_admin).get(f"/agents/{plugin_agent.pk}/try/").status_code == 405
