"""Settings → WhatsApp: connecting and editing numbers, what Meta must be given, secrets never shown."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.models import AuditLog, User
from agents.models import AgentStatus
from agents.tests.factories import AgentFactory
from core.tests.html import assert_no_inline_code
from inbox.models import Channel
from inbox.services.channels import NOT_CONFIRMED
from inbox.tests.conftest import VERIFY_TOKEN
from inbox.tests.factories import ChannelFactory

ACCESS_TOKEN = "EAAG-very-secret-access-token-1234"
APP_SECRET = "f3c1-own-app-secret-5678"
OWN_VERIFY_TOKEN = "own-verify-token-9012"
WEBHOOK_URL = "http://127.0.0.1:8000/webhooks/whatsapp"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "http://127.0.0.1:8000"


@pytest.fixture
def web():
    def make(user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


@pytest.fixture
def admin_web(web, client_admin) -> Client:
    return web(client_admin)


def new_channel(**overrides: str) -> dict[str, str]:
    return {
        "name": "Sales line",
        "phone_number_id": "106540352242922",
        "display_phone_number": "+1 555 078 3881",
        "business_account_id": "102290129340398",
        "access_token": ACCESS_TOKEN,
        "app_secret": APP_SECRET,
        "verify_token": "",
        "default_agent": "",
        "handoff_rule": "unassigned",
        **overrides,
    }


def edit_of(channel: Channel, **overrides: str) -> dict[str, str]:
    return {
        "name": channel.name,
        "display_phone_number": channel.display_phone_number,
        "business_account_id": channel.business_account_id,
        "access_token": "",
        "app_secret": "",
        "verify_token": "",
        "default_agent": "",
        "handoff_rule": channel.handoff_rule,
        **overrides,
    }


def test_the_pages_render_for_an_admin_without_inline_code(admin_web, account):
    channel = ChannelFactory(account=account)
    for url in ("/settings/whatsapp/", "/settings/whatsapp/new/", f"/settings/whatsapp/{channel.pk}/"):
        response = admin_web.get(url)
        assert response.status_code == 200, url
        assert_no_inline_code(response)


def test_with_no_number_the_page_says_how_to_connect_one(admin_web):
    html = admin_web.get("/settings/whatsapp/").content.decode()

    assert "No WhatsApp number connected" in html
    assert 'href="/settings/whatsapp/new/"' in html


@pytest.mark.parametrize("who", ["member", "viewer"])
def test_user_and_viewer_are_refused_and_nothing_changes(request, web, account, who):
    # given
    channel = ChannelFactory(account=account, name="Main")
    browser = web(request.getfixturevalue(who))

    # then every page and action answers 403
    for url in ("/settings/whatsapp/", "/settings/whatsapp/new/", f"/settings/whatsapp/{channel.pk}/"):
        assert browser.get(url).status_code == 403, url
    assert browser.post("/settings/whatsapp/new/", new_channel()).status_code == 403
    assert browser.post(f"/settings/whatsapp/{channel.pk}/", edit_of(channel, name="Mine")).status_code == 403
    assert browser.post(f"/settings/whatsapp/{channel.pk}/deactivate/").status_code == 403
    channel.refresh_from_db()
    assert (channel.name, channel.is_active) == ("Main", True)
    assert Channel.objects.count() == 1


def test_another_tenants_number_answers_404_and_stays_as_it_was(admin_web, other_account):
    theirs = ChannelFactory(account=other_account, name="Theirs")

    assert admin_web.get(f"/settings/whatsapp/{theirs.pk}/").status_code == 404
    assert admin_web.post(f"/settings/whatsapp/{theirs.pk}/", edit_of(theirs, name="Mine")).status_code == 404
    assert admin_web.post(f"/settings/whatsapp/{theirs.pk}/deactivate/").status_code == 404
    theirs.refresh_from_db()
    assert (theirs.name, theirs.is_active) == ("Theirs", True)
    assert "Theirs" not in admin_web.get("/settings/whatsapp/").content.decode()


def test_connecting_a_number_stores_it_and_shows_what_to_paste_into_meta(admin_web, account, graph_api):
    # given a token Meta confirms for the number
    graph_api.owns("106540352242922", token=ACCESS_TOKEN)

    # when
    response = admin_web.post("/settings/whatsapp/new/", new_channel(), follow=True)

    # then
    channel = Channel.objects.get(account=account)
    assert (channel.phone_number_id, channel.access_token, channel.app_secret) == (
        "106540352242922",
        ACCESS_TOKEN,
        APP_SECRET,
    )
    html = response.content.decode()
    assert "Connected Sales line" in html
    assert f'value="{WEBHOOK_URL}"' in html
    assert f'value="{VERIFY_TOKEN}"' in html  # no own token: the platform default is what Meta needs
    assert "The platform's default verify token" in html
    assert ACCESS_TOKEN not in html
    assert APP_SECRET not in html
    assert AuditLog.objects.filter(action="channel.created", target_id=str(channel.pk)).exists()


def test_a_number_with_its_own_verify_token_shows_that_one(admin_web, account):
    ChannelFactory(account=account, verify_token=OWN_VERIFY_TOKEN, app_secret=APP_SECRET, access_token=ACCESS_TOKEN)

    html = admin_web.get("/settings/whatsapp/").content.decode()

    assert f'value="{OWN_VERIFY_TOKEN}"' in html
    assert "This number's own verify token." in html
    assert ACCESS_TOKEN not in html
    assert APP_SECRET not in html
    assert html.count(">set</span>") == 2  # access token and app secret


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"phone_number_id": "+1 555"}, "phone_number_id", "Digits only"),
        ({"access_token": ""}, "access_token", "This field is required."),
        ({"display_phone_number": ""}, "display_phone_number", "This field is required."),
        ({"business_account_id": "abc"}, "business_account_id", "Digits only"),
        ({"handoff_rule": "everyone"}, "handoff_rule", "Select a valid choice."),
    ],
)
def test_bad_input_shows_the_error_and_connects_nothing(admin_web, overrides, field, message):
    response = admin_web.post("/settings/whatsapp/new/", new_channel(**overrides))

    assert response.status_code == 400
    assert any(message in error for error in response.context["form"].errors[field])
    assert ACCESS_TOKEN not in response.content.decode()  # a typed secret is not echoed back either
    assert not Channel.objects.exists()


def test_a_number_connected_elsewhere_is_refused_at_its_field_like_any_unconfirmed_number(
    admin_web, other_account, graph_api
):
    # given another tenant's number, which Meta confirms for this admin's token too
    ChannelFactory(account=other_account, phone_number_id="106540352242922")
    graph_api.owns("106540352242922", token=ACCESS_TOKEN)

    # when the admin connects it, and a number Meta does not confirm for the token
    elsewhere = admin_web.post("/settings/whatsapp/new/", new_channel())
    unconfirmed = admin_web.post("/settings/whatsapp/new/", new_channel(phone_number_id="106540352249999"))

    # then both are refused at the field with the same words, which say nothing of another tenant
    assert elsewhere.status_code == unconfirmed.status_code == 400
    errors = elsewhere.context["form"].errors["phone_number_id"]
    assert errors == unconfirmed.context["form"].errors["phone_number_id"] == [NOT_CONFIRMED]
    assert "already" not in errors[0]
    assert ACCESS_TOKEN not in elsewhere.content.decode()
    assert Channel.objects.count() == 1


def test_a_token_meta_refuses_connects_nothing_and_says_so(admin_web, graph_api):
    # given a token Meta does not know
    graph_api.owns("106540352242922", token=ACCESS_TOKEN)

    # when the admin connects the number with another token
    response = admin_web.post("/settings/whatsapp/new/", new_channel(access_token="EAAG-typo"))

    # then the form says Meta did not confirm it and nothing is stored
    assert response.status_code == 400
    assert response.context["form"].errors["phone_number_id"] == [NOT_CONFIRMED]
    assert graph_api.lookups() == ["106540352242922"]
    assert not Channel.objects.exists()


def test_editing_keeps_secrets_left_empty_and_replaces_typed_ones(admin_web, account):
    # given
    channel = ChannelFactory(account=account, access_token=ACCESS_TOKEN, app_secret=APP_SECRET)

    # when the admin renames it and types a new token only
    page = admin_web.get(f"/settings/whatsapp/{channel.pk}/").content.decode()
    response = admin_web.post(
        f"/settings/whatsapp/{channel.pk}/", edit_of(channel, name="Support", access_token="EAAG-new-token")
    )

    # then the form never showed the secrets, and only what was typed changed
    assert ACCESS_TOKEN not in page
    assert APP_SECRET not in page
    assert response.status_code == 302
    channel.refresh_from_db()
    assert (channel.name, channel.access_token, channel.app_secret) == ("Support", "EAAG-new-token", APP_SECRET)
    entry = AuditLog.objects.get(action="channel.updated", target_id=str(channel.pk))
    assert entry.metadata == {"fields": ["access_token", "name"]}


def test_removing_the_own_verify_token_falls_back_to_the_platform_default(admin_web, account):
    channel = ChannelFactory(account=account, verify_token=OWN_VERIFY_TOKEN)

    admin_web.post(f"/settings/whatsapp/{channel.pk}/", edit_of(channel, clear_verify_token="on"))

    channel.refresh_from_db()
    assert channel.verify_token == ""
    assert f'value="{VERIFY_TOKEN}"' in admin_web.get("/settings/whatsapp/").content.decode()


def test_the_default_agent_and_handoff_rule_are_saved(admin_web, account):
    # given
    channel = ChannelFactory(account=account)
    agent = AgentFactory(account=account, name="Sales bot", status=AgentStatus.ACTIVE)

    # when
    admin_web.post(
        f"/settings/whatsapp/{channel.pk}/",
        edit_of(channel, default_agent=str(agent.pk), handoff_rule="round_robin"),
    )

    # then
    channel.refresh_from_db()
    assert (channel.default_agent, channel.handoff_rule) == (agent, "round_robin")
    html = admin_web.get("/settings/whatsapp/").content.decode()
    assert "Sales bot" in html
    assert "Round robin among USER and admins" in html


def test_another_tenants_agent_cannot_be_the_default(admin_web, account, other_account):
    channel = ChannelFactory(account=account)
    theirs = AgentFactory(account=other_account)

    response = admin_web.post(f"/settings/whatsapp/{channel.pk}/", edit_of(channel, default_agent=str(theirs.pk)))

    assert response.status_code == 400
    assert "default_agent" in response.context["form"].errors
    channel.refresh_from_db()
    assert channel.default_agent is None


def test_deactivating_and_activating_a_number(admin_web, account):
    channel = ChannelFactory(account=account, name="Main")

    response = admin_web.post(f"/settings/whatsapp/{channel.pk}/deactivate/", follow=True)
    channel.refresh_from_db()
    assert channel.is_active is False
    assert "Main is deactivated" in response.content.decode()

    admin_web.post(f"/settings/whatsapp/{channel.pk}/activate/")
    channel.refresh_from_db()
    assert channel.is_active is True


def test_the_list_costs_the_same_queries_for_1_or_10_numbers(admin_web, account, django_assert_num_queries):
    agent = AgentFactory(account=account)
    ChannelFactory(account=account, default_agent=agent)
    with django_assert_num_queries(4) as few:
        admin_web.get("/settings/whatsapp/")
    ChannelFactory.create_batch(9, account=account, default_agent=agent)
    with django_assert_num_queries(len(few.captured_queries)):
        response = admin_web.get("/settings/whatsapp/")
    assert response.content.decode().count('class="card channel"') == 10


def test_saving_an_unchanged_number_records_nothing(admin_web, account):
    channel = ChannelFactory(account=account, name="Main")

    response = admin_web.post(f"/settings/whatsapp/{channel.pk}/", edit_of(channel), follow=True)

    assert "Nothing to save: Main is as it was." in response.content.decode()
    assert not AuditLog.objects.filter(action="channel.updated").exists()


def test_meta_out_of_reach_keeps_the_form_and_says_to_try_again(admin_web, httpserver, settings):
    # given a Graph API that answers 503
    settings.GRAPH_API_BASE_URL = httpserver.url_for("/v21.0")
    httpserver.expect_request("/v21.0/106540352242922", method="GET").respond_with_json(
        {"error": {"message": "Service temporarily unavailable", "type": "OAuthException", "code": 2}}, status=503
    )

    # when the admin connects a number
    response = admin_web.post("/settings/whatsapp/new/", new_channel())

    # then the form comes back with the reason, nothing is stored, and the token is not echoed
    assert response.status_code == 503
    assert "try again" in response.content.decode()
    assert ACCESS_TOKEN not in response.content.decode()
    assert not Channel.objects.exists()
